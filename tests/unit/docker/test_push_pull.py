"""A push (or a pull) is tried again after a transient registry failure, with the run's backoff,
never after a refusal."""

from __future__ import annotations

import pytest

from prefect_flow_deploy.docker import push_pull


@pytest.mark.parametrize(
    ("message", "transient"),
    [
        ("received unexpected HTTP status: 503 Service Unavailable", True),
        ("received unexpected HTTP status: 500 Internal Server Error", True),
        ("toomanyrequests: too many requests", True),
        ("Put http://127.0.0.1:5000/v2/x/manifests/t: EOF", True),
        ("read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer", True),
        ("unauthorized: authentication required", False),
        ("denied: requested access to the resource is denied", False),
        ("received unexpected HTTP status: 503 … unauthorized", False),
        ("manifest invalid: manifest invalid", False),
    ],
)
def test_which_push_failures_are_pushed_again(message: str, transient: bool) -> None:
    assert push_pull.push_is_transient(message) is transient


def test_a_push_is_tried_again_after_a_transient_failure_never_after_a_refusal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(push_pull.time, "sleep", slept.append)
    monkeypatch.setattr(push_pull.random, "random", lambda: 0.0)
    failures = [push_pull.PushError("received unexpected HTTP status: 503 Service Unavailable")]

    def once() -> str:
        if failures:
            raise failures.pop()
        return "sha256:abc"

    assert push_pull.again_if_transient("push of x", once) == "sha256:abc"
    assert slept == [1.0]

    def refused() -> str:
        raise push_pull.PushError("denied: requested access to the resource is denied")

    with pytest.raises(push_pull.PushError, match="denied"):
        push_pull.again_if_transient("push of x", refused)
    assert slept == [1.0]  # not waited for: a refusal stands
