"""Dockerfile mistakes BuildKit would refuse (dockerfile.py), found before building."""

from __future__ import annotations

import pytest

from prefect_flow_deploy.reading.dockerfile import copy_sources, dockerfile_problems

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


# -- COPY and ADD sources --------------------------------------------------------------------


def test_copy_sources_are_the_context_paths_readable_without_the_build() -> None:
    text = (
        "FROM base AS build\n"  # 1
        'COPY --chown=1:1 ["a b", "c", "/d/"]\n'  # 2: the JSON form, flags first
        "COPY --from=build /a /b\n"  # 3: another stage
        "ADD https://example.com/x.tgz /z\n"  # 4: a URL
        "COPY <<EOF /x\n"  # 5: a heredoc
        "COPY not-a-source /y\n"  # 6: the heredoc's body
        "EOF\n"
        "COPY $DIR/a *.txt ./ok \\\n"  # 8: a variable and a wildcard are BuildKit's
        "  /dest/\n"
        "add lower.txt /l\n"  # 10: keywords in any case
    )
    assert [(c.line, c.instruction, c.source) for c in copy_sources(text)] == [
        (2, "COPY", "a b"),
        (2, "COPY", "c"),
        (8, "COPY", "./ok"),
        (10, "ADD", "lower.txt"),
    ]
    assert copy_sources("# escape=`\nFROM base\nCOPY a `\n  /b\n") == []
