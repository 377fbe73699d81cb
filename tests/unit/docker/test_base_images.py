"""Base image digests: the registry's answer; the local image (with a warning) when the
registry cannot tell; else the reason, per reference. That each is asked once per run is
image_questions' part (tests/unit/run/test_image_questions.py)."""

from __future__ import annotations

import pytest

from prefect_flow_deploy.core.errors import RegistryError
from prefect_flow_deploy.docker import base_images
from prefect_flow_deploy.docker.base_images import BaseDigests


class Registry:
    def __init__(self, answers: dict[str, str | Exception | None]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def manifest_digest(self, reference: str) -> str | None:
        self.asked.append(reference)
        answer = self.answers[reference]
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_each_reference_is_resolved_whatever_the_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    local = {"cached:1": "sha256:local1"}
    monkeypatch.setattr(base_images, "_local_image_id", local.get)
    registry = Registry(
        {
            "python:3.12": "sha256:aaa",
            "gone:1": None,
            "cached:1": RegistryError("unreachable"),
            "down:1": RegistryError("503 from the registry"),
        }
    )
    digests = BaseDigests(registry)  # type: ignore[arg-type]
    for reference in ("python:3.12", "gone:1", "cached:1", "down:1"):
        digests.resolve(reference)
    assert digests.digests == {"python:3.12": "sha256:aaa", "cached:1": "local:sha256:local1"}
    assert "could not be looked up in its registry" in digests.warnings["cached:1"]
    assert set(digests.warnings) == {"cached:1"}
    assert digests.problems == {
        "gone:1": "the base image gone:1 does not exist in its registry (no such tag).",
        "down:1": "cannot resolve the base image down:1: 503 from the registry",
    }
    registry.answers["new:2"] = "sha256:bbb"
    digests.resolve("new:2")
    assert digests.digests["new:2"] == "sha256:bbb"
    assert sorted(registry.asked) == ["cached:1", "down:1", "gone:1", "new:2", "python:3.12"]
