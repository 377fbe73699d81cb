"""Where a run builds and with which cache: every form of `builder`, every misuse of the TLS
settings (a message naming the setting and where it came from), and the cache flags."""

from __future__ import annotations

import pytest

from prefect_flow_deploy.core.build_plan import CACHE_TAG, BuildPlan
from prefect_flow_deploy.core.errors import ConfigurationError
from prefect_flow_deploy.settings.builder import (
    build_plan,
    cache_flags,
    cache_ref,
    is_cache_tag,
    parse_builder,
)
from prefect_flow_deploy.settings.options import Options

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
REPO = "ghcr.io/acme/flows/sales/daily"


@pytest.mark.parametrize(
    ("value", "kind", "address"),
    [
        (None, "local", ""),
        ("", "local", ""),
        ("local", "local", ""),
        ("tcp://builder.internal:2376", "docker", "tcp://builder.internal:2376"),
        ("tcp://127.0.0.1:23727", "docker", "tcp://127.0.0.1:23727"),
        ("tcp://[::1]:2376", "docker", "tcp://[::1]:2376"),
        ("ssh://ci@builder.internal", "docker", "ssh://ci@builder.internal"),
        ("ssh://builder.internal:2222", "docker", "ssh://builder.internal:2222"),
        ("unix:///var/run/other.sock", "docker", "unix:///var/run/other.sock"),
        ("buildkit://buildkitd.internal:1234", "buildkit", "tcp://buildkitd.internal:1234"),
        ("buildx:team-builder", "buildx", "team-builder"),
    ],
)
def test_every_form_of_builder(value: str | None, kind: str, address: str) -> None:
    assert parse_builder(value) == (kind, address)


@pytest.mark.parametrize(
    "value",
    [
        "tcp://builder.internal",  # no port: Docker would guess 2375, the unencrypted one
        "http://builder.internal:2376",
        "builder.internal:2376",
        "buildkit://buildkitd",
        "buildx:",
        "buildx:has space",
        "unix://relative.sock",
        "ssh://user@host/path",
    ],
)
def test_a_value_of_no_known_form_names_the_setting_and_the_forms(value: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_builder(value, "input builder")
    message = str(caught.value)
    assert "(from input builder)" in message
    assert "tcp://host:2376" in message and "buildx:NAME" in message


def test_the_runners_engine_keeps_todays_inline_cache() -> None:
    plan = build_plan(None, "")
    assert plan == BuildPlan()
    assert (plan.kind, plan.cache, plan.remote_engine, plan.uses_buildx) == (
        "local", "inline", False, False
    )  # fmt: skip
    assert "this runner's Docker engine" in plan.describe()


def test_a_remote_docker_engine_builds_with_the_inline_cache_and_says_why() -> None:
    plan = build_plan("tcp://b:2376", "reg.example/flows", (PEM, PEM, PEM))
    assert (plan.kind, plan.cache, plan.tls, plan.remote_engine) == ("docker", "inline", True, True)
    text = plan.describe()
    assert "tcp://b:2376 (TLS client certificate)" in text
    assert "cannot export a registry cache" in text


@pytest.mark.parametrize("builder", ["buildkit://b:1234", "buildx:team"])
def test_a_buildkit_builder_uses_the_registry_cache(builder: str) -> None:
    plan = build_plan(builder, "reg.example/flows")
    assert plan.cache == "registry" and plan.uses_buildx and not plan.remote_engine
    assert f":{CACHE_TAG} (mode=max)" in plan.describe()


def test_tls_for_a_builder_that_takes_none_names_each_given_setting() -> None:
    for builder in (None, "ssh://ci@b", "unix:///x.sock", "buildx:team"):
        with pytest.raises(ConfigurationError) as caught:
            build_plan(
                builder, "reg/flows", (None, PEM, PEM),
                ("builder", "-", "input builder-tls-cert", "input builder-tls-key"),
            )  # fmt: skip
        message = str(caught.value)
        assert "builder-tls-cert (from input builder-tls-cert)" in message
        assert "builder-tls-ca" not in message  # not given: not named


def test_a_client_certificate_needs_its_key_and_the_other_way_round() -> None:
    with pytest.raises(ConfigurationError, match="builder-tls-key is missing"):
        build_plan("tcp://b:2376", "reg/flows", (PEM, PEM, None))
    with pytest.raises(ConfigurationError, match="builder-tls-cert is missing"):
        build_plan("tcp://b:2376", "reg/flows", (None, None, PEM))
    ca_only = build_plan("tcp://b:2376", "reg/flows", (PEM, None, None))  # a server-TLS only
    assert not ca_only.tls


def test_a_builder_elsewhere_needs_a_registry() -> None:
    with pytest.raises(ConfigurationError, match="Set registry too"):
        build_plan("tcp://b:2376", "", sources=("--builder", "", "", ""))


def test_options_check_the_builder_with_their_sources() -> None:
    options = Options(
        builder="tcp://b", registry="reg/flows", sources={"builder": "environment PFD_BUILDER"}
    )
    with pytest.raises(ConfigurationError, match=r"\(from environment PFD_BUILDER\)"):
        options.build_plan()
    assert Options(builder="buildx:x", registry="reg/flows").build_plan().cache == "registry"


def test_cache_flags_of_an_engine_are_the_deployed_image_of_the_same_repository() -> None:
    engine = BuildPlan()
    assert cache_flags(engine, REPO, f"{REPO}:old") == ([f"{REPO}:old"], [])
    assert cache_flags(engine, REPO, None) == ([], [])
    # Another repository's image (a renamed folder, a hand-made deployment) is no cache here.
    assert cache_flags(engine, REPO, "ghcr.io/acme/flows/sales/other:old") == ([], [])


def test_cache_flags_of_a_buildkit_builder_read_and_write_the_registry_cache() -> None:
    plan = build_plan("buildkit://b:1234", "ghcr.io/acme/flows")
    sources, targets = cache_flags(plan, REPO, f"{REPO}:old")
    assert sources == [f"type=registry,ref={REPO}:buildcache", f"{REPO}:old"]
    assert targets == [f"type=registry,ref={REPO}:buildcache,mode=max"]


def test_each_platform_of_several_has_its_own_cache() -> None:
    plan = build_plan("buildx:team", "ghcr.io/acme/flows")
    sources, targets = cache_flags(plan, REPO, f"{REPO}:old", "linux/arm64")
    assert sources == [
        f"type=registry,ref={REPO}:buildcache-linux-arm64",
        f"{REPO}:old-linux-arm64",  # the per-platform image pushed under <tag>-<os>-<arch>
    ]
    assert targets == [f"type=registry,ref={REPO}:buildcache-linux-arm64,mode=max"]
    assert cache_ref(REPO, "linux/arm64") == f"{REPO}:buildcache-linux-arm64"


def test_a_cache_tag_is_never_a_content_tag() -> None:
    assert is_cache_tag("buildcache") and is_cache_tag("buildcache-linux-arm64")
    assert not is_cache_tag("0123456789abcdef0123") and not is_cache_tag("buildcaches")
