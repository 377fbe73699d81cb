"""Dockerfile mistakes BuildKit would refuse (dockerfile.py), found before building."""

from __future__ import annotations

import pytest

from prefect_flow_deploy.dockerfile import dockerfile_problems

# -- Dockerfile ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# syntax=docker/dockerfile:1\nARG V=1\nFROM base:$V\nRUN x\n", []),
        ("# comment\n\nRUN echo hi\nCOPY . /x\n", [(3, "`RUN` comes before any `FROM`")]),
        ("ARG BASE_IMAGE\n", [(1, "has no `FROM`")]),
        ("\n# only a comment\n", [(1, "has no instruction")]),
        ("FROM base\nRUNN echo\n", [(2, "unknown instruction `RUNN`")]),
        ("FROM base\nRUN <<EOF\nset -e\necho hi\nEOF\nCOPY . .\n", []),
        ("FROM base\nRUN apt-get install \\\n  curl \\\n  git\n", []),
        ("# escape=`\nFROM base\nRUN a `\n  b\n", []),
    ],
)
def test_dockerfile_mistakes_buildkit_would_refuse(
    text: str, expected: list[tuple[int, str]]
) -> None:
    found = dockerfile_problems(text)
    assert [line for line, _ in found] == [line for line, _ in expected]
    for (_, message), (_, part) in zip(found, expected, strict=True):
        assert part in message
