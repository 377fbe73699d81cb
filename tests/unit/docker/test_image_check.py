"""What the registry serves after a push is what was pushed (pure)."""

from __future__ import annotations

from prefect_flow_deploy.docker.image_check import served_mismatch


def test_a_tag_serving_another_digest_is_named() -> None:
    ref = "registry.example.com/acme/sales/daily:0123456789abcdef0123"
    assert served_mismatch(ref, "sha256:a", "sha256:a") is None
    assert served_mismatch(ref, "", "sha256:b") is None  # the engine told no digest
    why = served_mismatch(ref, "sha256:a", "sha256:b")
    assert why and why.startswith(f"the registry serves sha256:b under {ref}, not the sha256:a")
    assert "serves nothing under" in (served_mismatch(ref, "sha256:a", None) or "")
