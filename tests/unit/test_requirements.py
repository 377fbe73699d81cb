"""requirements.txt (requirements.py): plain-http package indexes warned at their line."""

from __future__ import annotations

from pathlib import Path

from prefect_flow_deploy.requirements import insecure_index_problems, plain_http_host

# -- requirements.txt, large files ---------------------------------------------------------


def test_plain_http_indexes_are_warned_at_their_line(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(
        "--index-url https://pypi.org/simple\n--extra-index-url http://ci:tok@pypi.acme/simple\n"
        "-i http://localhost:8080/simple\n--trusted-host mirror.acme\n"
        "--find-links=http://mirror.acme/wheels  # same host, trusted\nrequests\n"
    )
    problems = insecure_index_problems(path)
    assert [p.line for p in problems] == [2, 5]
    assert "pip refuses it unless `--trusted-host pypi.acme`" in problems[0].message
    assert "only silences pip" in problems[1].message
    assert plain_http_host("HTTP://[::1]:3141/simple") is None
