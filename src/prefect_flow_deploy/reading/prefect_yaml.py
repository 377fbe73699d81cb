"""A flow folder's own prefect.yaml: we honour its `deployments:` entries and nothing else.

Its build/push/pull sections describe how Prefect would build and ship the code; this tool
owns those steps, so they are ignored with a warning rather than half-applied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from prefect_flow_deploy.core.model import DeploymentConfig, Problem
from prefect_flow_deploy.core.naming import refused_name
from prefect_flow_deploy.core.yaml_limits import (
    YamlTooLarge,
    check_duplicate_keys,
    check_expansion,
    check_file_size,
    yaml_error,
)
from prefect_flow_deploy.core.yaml_loader import Loader
from prefect_flow_deploy.deployment.field_loops import prefect_yaml_keys, read_entry
from prefect_flow_deploy.deployment.field_types import Entry
from prefect_flow_deploy.reading import file_reads
from prefect_flow_deploy.reading.yaml_nulls import null_mappings
from prefect_flow_deploy.reading.yaml_templates import template_problems

_OWNED_SECTIONS = ("build", "push", "pull")
NO_DEPLOYMENTS = "No deployments"  # the title of `deployments: []`: the folder deploys none
# Keys of an entry that mean something elsewhere, or to Prefect only: what to do instead.
_UNDER_WORK_POOL = (
    " at the top of an entry (nor by `prefect deploy`): move it under `work_pool:`, where "
    "both read it."
)
_NOT_HERE = {
    "version": ": each deployment's version is its image's content tag, so it changes exactly "
    "when what runs does. Remove it to silence this warning.",
    "job_variables": _UNDER_WORK_POOL,
    "work_queue_name": _UNDER_WORK_POOL,
}


def _line(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def _mapping_lines(node: yaml.Node) -> dict[str, int]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): k.start_mark.line + 1 for k, _ in node.value}


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """One pass: the node tree (for line numbers) and the data built from it."""
    loader = Loader(text)  # libyaml's safe loader; dates as Prefect's text (core/yaml_loader.py)
    try:
        root = loader.get_single_node()
        check_expansion(root, text)  # before constructing: an alias bomb stops here
        check_duplicate_keys(root)
        return root, (loader.construct_document(root) if root is not None else None)
    finally:
        loader.dispose()


# Each `deployments:` entry, valid or not: (its line, its `entrypoint:` as written, if a string).
EntryPlace = tuple[int | None, str | None]


# Keys of a deployment entry: at the file's top, where neither `prefect deploy` nor this
# tool reads them (Prefect refuses such a file: "An entrypoint must be provided").
_ENTRY_KEYS = (
    "entrypoint", "schedules", "schedule", "parameters", "work_pool", "tags",
    "enforce_parameter_schema", "concurrency_limit", "triggers", "job_variables",
)  # fmt: skip


def _entry_keys_at_top(data: dict[str, Any], path: Path, lines: dict[str, int]) -> list[Problem]:
    """A deployment written at the file's top, without `deployments:` (Nehuenkend/
    SpaceX_Prefect): its schedule, parameters and tags were dropped without a word."""
    found = [k for k in _ENTRY_KEYS if k in data]
    if not found or "deployments" in data:
        return []
    return [
        Problem(
            "error",
            f"{', '.join(f'`{k}`' for k in found)} at the top of prefect.yaml belong to a "
            "deployment, and neither prefect-flow-deploy nor `prefect deploy` reads them "
            "there: write the deployment as an entry of a `deployments:` list (`deployments:` "
            "then `- name: …` above its keys, indented).",
            path,
            lines.get(found[0]),
            "prefect.yaml",
        )
    ]


def read_prefect_yaml(path: Path) -> tuple[list[DeploymentConfig], list[Problem]]:
    configs, problems, _ = read_prefect_yaml_entries(path)
    return configs, problems


def read_prefect_yaml_entries(
    path: Path, skip_unnamed: bool = False
) -> tuple[list[DeploymentConfig], list[Problem], list[EntryPlace]]:
    """The valid entries, every problem, and where each entry is (a repository's own
    prefect.yaml: the entries are grouped by the folder of their entrypoint).
    `skip_unnamed`: an entry without a `name:` is left out with a warning, as `prefect
    deploy --all` leaves it ("Discovered unnamed deployment. Skipping..."): the root file's
    rule, where `prefect init`'s template entry (every value empty) often stays."""
    text = ""
    try:
        check_file_size(path)
        text = file_reads.read_text(path)
        root, data = _parse(text)
    except YamlTooLarge as exc:
        return [], [Problem("error", exc.message, path, exc.line, "prefect.yaml")], []
    except yaml.MarkedYAMLError as exc:
        message, line = yaml_error(exc, text)
        return [], [Problem("error", message, path, line, "prefect.yaml")], []
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return (
            [],
            [Problem("error", f"cannot read prefect.yaml: {exc}", path, None, "prefect.yaml")],
            [],
        )

    if data is None:
        return [], [], []
    if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        return (
            [],
            [
                Problem(
                    "error", "prefect.yaml must be a mapping with a `deployments:` list", path, 1
                )
            ],
            [],
        )

    top_lines = _mapping_lines(root)
    problems = _owned_sections(data, "the", path, top_lines, None) + _entry_keys_at_top(
        data, path, top_lines
    )

    entries = data.get("deployments") or []
    entries_node = next((v for k, v in root.value if k.value == "deployments"), None)
    if not isinstance(entries, list):
        line = top_lines.get("deployments")
        return [], [*problems, Problem("error", "`deployments:` must be a list", path, line)], []
    if "deployments" in data and not entries:  # every entry taken out, or commented out
        problems.append(
            Problem(
                "warning",
                "`deployments:` lists none, so nothing here is deployed, as `prefect deploy` "
                "deploys none. To deploy each flow with its default deployment, remove the "
                "key; with --prune, the deployments made from here before are removed.",
                path,
                top_lines.get("deployments"),
                NO_DEPLOYMENTS,
            )
        )

    configs = []
    places: list[EntryPlace] = []
    for index, entry in enumerate(entries):
        node = entries_node.value[index] if isinstance(entries_node, yaml.SequenceNode) else None
        if skip_unnamed and isinstance(entry, dict) and not entry.get("name"):
            problems.append(
                Problem(
                    "warning",
                    "this deployment has no `name:`, so it is skipped, as `prefect deploy "
                    "--all` skips it: give it a name to deploy it, or remove the entry.",
                    path,
                    _line(node),
                    "prefect.yaml",
                )
            )
            continue
        config, entry_problems = _read_entry(entry, node, path)
        problems.extend(entry_problems)
        if config is not None:
            configs.append(config)
        entrypoint = entry.get("entrypoint") if isinstance(entry, dict) else None
        places.append((_line(node), entrypoint if isinstance(entrypoint, str) else None))
    # A value an anchor gives several entries is one place: said once (9MRTAE/ingest-aws-s3's
    # `definitions:` work pool: each template said three times, at its one line).
    return configs, list(dict.fromkeys(problems)), places


def _owned_sections(
    data: dict[str, Any], whose: str, path: Path, lines: dict[str, int], line: int | None
) -> list[Problem]:
    """A `build:`, `push:` or `pull:` of the file or of one entry (which `prefect deploy`
    runs instead of the file's): this tool makes all three, so each is a warning at its key.
    A pull step that sets up what runs need (`run_shell_script: apt-get install …`) is named:
    its work must be in the image now (trial round 10 a 9: dropped unsaid, runs crashed)."""
    return [
        Problem(
            "warning",
            f"{whose} `{section}:` section is ignored: prefect-flow-deploy builds, pushes and "
            "sets the pull step itself. "
            + (_setup_steps(data[section]) if section == "pull" else "")
            + "Remove it to silence this warning.",
            path,
            lines.get(section, line),
            "prefect.yaml",
        )
        for section in sorted(_OWNED_SECTIONS, key=lambda key: lines.get(key) or 0)
        if data.get(section)
    ]


# Pull steps whose work this tool does itself: the code is in the image, its requirements
# installed in the build (`adopt` copies the file a pip_install_requirements step names).
_PULL_STEPS_DONE = ("git_clone", "set_working_directory", "pip_install_requirements", "pull_")


def _setup_steps(steps: Any) -> str:
    """What the pull steps did at each run that nothing does now, said with where it goes."""
    named = [
        str(next(iter(step))).rsplit(".", 1)[-1]
        + (f" `{_script(step)}`" if _script(step) else "")
        for step in (steps if isinstance(steps, list) else [])
        if isinstance(step, dict) and step
        and not str(next(iter(step))).rsplit(".", 1)[-1].startswith(_PULL_STEPS_DONE)
    ]  # fmt: skip
    if not named:
        return ""
    return (
        f"Its {', '.join(named)} ran at the start of each run and nothing runs it now: what it "
        "installs or sets up must be in the image (a `RUN` line of the folder's Dockerfile). "
    )


def _script(step: dict[str, Any]) -> str:
    inputs = next(iter(step.values()))
    script = inputs.get("script") if isinstance(inputs, dict) else None
    return " ".join(str(script).split())[:80] if script else ""


def _read_entry(
    entry: Any, node: yaml.Node | None, path: Path
) -> tuple[DeploymentConfig | None, list[Problem]]:
    line = _line(node)
    if not isinstance(entry, dict):
        return None, [
            Problem("error", "each deployment must be a mapping", path, line, "prefect.yaml")
        ]
    lines = _mapping_lines(node) if node is not None else {}
    problems: list[Problem] = []

    known = prefect_yaml_keys()
    for key in entry:
        if key in _NOT_HERE and entry[key] is None:
            continue  # `version: null`, as `prefect deploy` saves an entry: it sets nothing
        if key in _NOT_HERE or (key not in known and key not in _OWNED_SECTIONS):
            problems.append(
                Problem(
                    "warning",
                    f"`{key}` is not used by prefect-flow-deploy" + _NOT_HERE.get(key, ""),
                    path,
                    lines.get(key, line),
                    "prefect.yaml",
                )
            )

    problems += _owned_sections(entry, "this deployment's", path, lines, line)
    # Each field of deployment_fields.FIELDS reads and checks its own key.
    reading = Entry(entry, path, line, lines)
    fields, extra = read_entry(reading)
    problems += reading.problems
    job_variables: dict[str, Any] = fields["job_variables"]
    problems += _name_problems(fields["name"], fields["work_pool"], node, lines, line, path)
    problems += template_problems(entry, node, lines, line, path)
    problems += null_mappings(node, path)
    if "image" in job_variables:
        problems.append(
            Problem(
                "warning",
                "`job_variables.image` is ignored: the deployment runs from the image "
                "prefect-flow-deploy built for this folder. Remove it to silence this warning.",
                path,
                lines.get("work_pool", line),
                "prefect.yaml",
            )
        )
    if not fields["entrypoint"] and not fields["flow_name"]:
        problems.append(
            Problem(
                "error",
                "a deployment needs `entrypoint: <file>.py:<function>` to say which flow it deploys",
                path,
                line,
                "prefect.yaml",
            )
        )
    if any(p.severity == "error" for p in problems):
        return None, problems
    config = DeploymentConfig(
        **fields,
        extra=extra,
        line=line,
        lines={
            **lines,
            **_work_pool_lines(node),
            **_parameter_lines(node),
            **_schedule_lines(node),
        },
    )
    return config, problems


def _name_problems(
    name: str | None,
    pool_name: str | None,
    node: yaml.Node | None,
    lines: dict[str, int],
    line: int | None,
    path: Path,
) -> list[Problem]:
    """Names Prefect refuses (`/ % & > <`): the server would answer 422 after the build."""
    found = []
    deployment = refused_name("deployment", name or "")
    if deployment:
        found.append((deployment + ". Choose another `name:`.", lines.get("name", line)))
    pool = refused_name("work pool", pool_name or "")
    if pool:
        where = _work_pool_lines(node).get("work_pool.name", lines.get("work_pool", line))
        found.append((pool + ". Name another work pool.", where))
    return [Problem("error", message, path, at, "Name Prefect refuses") for message, at in found]


def _parameter_lines(node: yaml.Node | None) -> dict[str, int]:
    """`parameters.<name>` → the line of that parameter."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    parameters = next((v for k, v in node.value if k.value == "parameters"), None)
    return (
        {f"parameters.{k}": n for k, n in _mapping_lines(parameters).items()} if parameters else {}
    )


def _schedule_lines(node: yaml.Node | None) -> dict[str, int]:
    """`schedules.<i>` → the line of each schedule (of `schedule:`, the one, as 0)."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    values = {k.value: v for k, v in node.value}
    listed = values.get("schedules")
    if isinstance(listed, yaml.SequenceNode):
        return {f"schedules.{i}": _line(item) or 0 for i, item in enumerate(listed.value)}
    one = values.get("schedule")
    return {"schedules.0": _line(one) or 0} if isinstance(one, yaml.MappingNode) else {}


def _work_pool_lines(node: yaml.Node | None) -> dict[str, int]:
    """`work_pool.<key>` → line, and each job variable as `job_variables.<name>`."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    pool = next((v for k, v in node.value if k.value == "work_pool"), None)
    lines = {f"work_pool.{k}": n for k, n in _mapping_lines(pool).items()} if pool else {}
    variables = (
        next((v for k, v in pool.value if k.value == "job_variables"), None)
        if isinstance(pool, yaml.MappingNode)
        else None
    )
    if variables is not None:
        lines.update({f"job_variables.{k}": n for k, n in _mapping_lines(variables).items()})
    return lines
