"""The build's own command as builder.build runs it: its steps heard as BuildKit prints
them, and a slow build said every BUILD_BEAT seconds (the real engine's builds: the
integration suite)."""

from __future__ import annotations

import pytest

from prefect_flow_deploy.docker import builder


def test_a_slow_build_says_which_step_it_is_at(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """madridmarco/data-extraction-soccer-leagues (trial round 9 b 4): pip backtracking in a
    RUN printed nothing for 25 minutes in a CI log, like a hung builder."""
    monkeypatch.setattr(builder, "BUILD_BEAT", 0.2)
    steps: list[str] = []
    script = "echo '#5 [2/3] RUN pip install -r /tmp/requirements.txt'; sleep 1; echo done"
    code, output = builder._run_saying(["sh", "-c", script], {}, steps.append, "r/p/f:1")
    assert (code, steps) == (0, ["2/3 RUN pip install -r /tmp/requirements.txt"])
    assert output.endswith("done\n")
    said = [line for line in capfd.readouterr().err.splitlines() if "so far" in line]
    assert said and all(
        "building r/p/f:1:" in line and "at 2/3 RUN pip install" in line for line in said[1:]
    ), said
