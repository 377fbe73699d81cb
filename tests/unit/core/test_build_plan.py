"""core/build_plan.py: where a run builds and which cache it uses, as the plan says it."""

from __future__ import annotations

from prefect_flow_deploy.core.build_plan import CACHE_TAG, BuildPlan


def test_the_runner_s_engine_uses_the_inline_cache() -> None:
    local = BuildPlan()
    assert not local.remote_engine and not local.uses_buildx
    assert local.describe() == (
        "builds on this runner's Docker engine; inline cache (the image each folder's "
        "deployments run now)"
    )


def test_a_remote_engine_says_its_address_and_why_it_has_no_registry_cache() -> None:
    remote = BuildPlan("tcp://b:2376", "docker", "tcp://b:2376", tls=True)
    assert remote.remote_engine and not remote.uses_buildx
    text = remote.describe()
    assert text.startswith("builds on the Docker engine tcp://b:2376 (TLS client certificate);")
    assert "cannot export a registry cache" in text


def test_buildkit_with_a_registry_cache_names_the_cache_tag() -> None:
    kit = BuildPlan("tcp://k:1234", "buildkit", "tcp://k:1234", cache="registry")
    assert kit.uses_buildx and not kit.remote_engine
    assert f":{CACHE_TAG} (mode=max)" in kit.describe()
    assert BuildPlan("b", "buildx", "b").describe().startswith("builds on the buildx builder b;")
