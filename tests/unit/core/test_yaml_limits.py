"""YAML size and aliases (yaml_limits.py): a bomb is refused before it is built, at its
file and line, in prefect.yaml and in the config file. Checks made before building (issue 15);
the bad-input suite (tests/bad_inputs.py) runs every case through validate, plan and deploy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from prefect_flow_deploy.core.yaml_limits import MAX_NODES, YamlTooLarge, check_expansion
from prefect_flow_deploy.reading.prefect_yaml import read_prefect_yaml

# -- YAML size and aliases -----------------------------------------------------------------


def bomb(levels: int) -> str:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        prev, name = chr(ord("a") + level - 1), chr(ord("a") + level)
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_an_anchor_before_it_is_constructed() -> None:
    text = bomb(9)  # 10^9 strings from 9 lines
    with pytest.raises(YamlTooLarge) as refused:
        check_expansion(yaml.compose(text), text)
    assert refused.value.line is not None and 1 <= refused.value.line <= 9
    assert "YAML aliases expand this file to" in refused.value.message
    assert f"at most {MAX_NODES:,}" in refused.value.message


def test_aliases_used_as_intended_pass() -> None:
    text = "base: &base {cron: '0 * * * *', timezone: UTC}\nx: [*base, *base, *base]\n"
    check_expansion(yaml.compose(text), text)  # no exception
    text = bomb(4)  # 10,000 values: within the limit
    check_expansion(yaml.compose(text), text)


def test_a_document_without_anchors_is_counted_as_the_tree_it_is() -> None:
    """No `&` in the text: no alias, so the size is the node count (the shortcut); over the
    limit, the same refusal as with aliases."""
    text = "x: [" + ", ".join(["1"] * (MAX_NODES - 3)) + "]\n"  # root, key, list: MAX_NODES
    check_expansion(yaml.compose(text), text)  # no exception
    text = "x: [" + ", ".join(["1"] * (MAX_NODES - 2)) + "]\n"
    with pytest.raises(YamlTooLarge) as refused:
        check_expansion(yaml.compose(text), text)
    assert f"expand this file to {MAX_NODES + 1:,} values" in refused.value.message


def test_an_anchor_that_holds_itself_is_refused_at_its_line() -> None:
    text = "ok: 1\nloop: &l [1, *l]\n"
    with pytest.raises(YamlTooLarge) as refused:
        check_expansion(yaml.compose(text), text)
    assert refused.value.line == 2 and "holds an alias of itself" in refused.value.message


def test_prefect_yaml_alias_bomb_and_size_are_problems_at_the_file(tmp_path: Path) -> None:
    path = tmp_path / "prefect.yaml"
    path.write_text("definitions:\n" + "".join(f"  {line}\n" for line in bomb(8).splitlines()))
    _, [problem] = read_prefect_yaml(path)
    assert problem.severity == "error" and problem.file == path and problem.line
    path.write_text("deployments: []\n# " + "x" * 1_100_000 + "\n")
    _, [problem] = read_prefect_yaml(path)
    assert "1,100,019 bytes" in problem.message and problem.file == path


def test_a_config_file_alias_bomb_stops_the_run_at_its_line(tmp_path: Path) -> None:
    """The config file is read before anything else: a bomb there is a wrong config file
    (exit 3), at the file and line, before its values are built."""
    (tmp_path / "projects").mkdir()
    (tmp_path / "prefect-flow-deploy.yaml").write_text(
        "defaults:\n  tags: [x]\ntenants:\n  prod:\n    parameters:\n"
        + "".join(f"      {line}\n" for line in bomb(9).splitlines())
    )
    done = subprocess.run(
        [sys.executable, "-m", "prefect_flow_deploy.cli", "validate", "--tenant", "prod"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "prefect-flow-deploy.yaml:13: YAML aliases expand this file to" in done.stderr


def test_a_key_given_twice_is_refused_at_the_second() -> None:
    import pytest
    import yaml

    from prefect_flow_deploy.core.yaml_limits import YamlTooLarge, check_duplicate_keys

    text = "a:\n  b: 1\n  c: {x: 1}\n  b: 2\n"
    with pytest.raises(
        YamlTooLarge, match=r"the key `b` is given twice in one mapping \(first at line 2\)"
    ) as found:
        check_duplicate_keys(yaml.compose(text))
    assert found.value.line == 4
    check_duplicate_keys(yaml.compose("base: &b {x: 1}\nthis:\n  <<: *b\n  y: 2\n"))
    check_duplicate_keys(yaml.compose("a: [{x: 1}, {x: 2}]\n"))  # one key per mapping
