import re

import pytest

from prefect_flow_deploy.core.naming import (
    flow_name_from_function,
    image_component,
    image_repository,
    is_valid_registry,
    normalise_registry,
    registry_host,
)

# One path component of a repository name: the OCI distribution spec's <name> grammar
# (opencontainers/distribution-spec v1.0.1, spec.md: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`).
OCI_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*")


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("daily_orders", "daily_orders"),
        ("My Flow", "my-flow"),
        ("ETL--Daily", "etl-daily"),
        ("__private__", "private"),
        ("a..b", "a-b"),
        ("v2.final", "v2.final"),
        ("Café Report", "caf-report"),
    ],
)
def test_image_component_is_valid_reference_component(folder: str, expected: str) -> None:
    assert image_component(folder) == expected
    assert OCI_PATH_COMPONENT.fullmatch(expected)


def test_image_repository_with_and_without_registry() -> None:
    assert (
        image_repository("ghcr.io/acme/flows", "Sales", "Daily Orders")
        == "ghcr.io/acme/flows/sales/daily-orders"
    )
    assert image_repository("localhost:5000/", "a", "b") == "localhost:5000/a/b"
    assert image_repository("", "sales", "orders") == "sales/orders"


def test_image_repository_rejects_names_without_letters() -> None:
    with pytest.raises(ValueError, match="no letters or digits"):
        image_repository("r.io/x", "sales", "___")


def test_registry_validation_and_host() -> None:
    assert is_valid_registry("ghcr.io/acme/flows")
    assert is_valid_registry("localhost:5000")
    assert not is_valid_registry("GHCR.io/Acme")
    assert not is_valid_registry("has space")
    assert registry_host("ghcr.io/acme/flows/x") == "ghcr.io"
    assert registry_host("localhost:5000/x") == "localhost:5000"
    assert registry_host("acme/flows") == "docker.io"


def test_flow_name_rule_matches_prefect() -> None:
    assert flow_name_from_function("load_daily_orders") == "load-daily-orders"


def test_registry_is_normalised_the_way_users_write_it() -> None:
    assert normalise_registry("ghcr.io/Acme-Corp/Flows") == "ghcr.io/acme-corp/flows"
    assert normalise_registry(" https://localhost:5000/flows/ ") == "localhost:5000/flows"
    assert normalise_registry("") == ""


def test_names_that_are_not_printed_as_themselves_are_refused() -> None:
    from prefect_flow_deploy.core.naming import name_problem, unprintable_characters

    assert unprintable_characters("daily\x1b[31m\n") == ["\\n", "\\x1b"]
    assert unprintable_characters("report\u202etxt") == ["\\u202e"]
    assert unprintable_characters("été-daily ünïcode") == []
    assert "\\x1b" in (name_problem("flow", "a\x1bb") or "")
    assert name_problem("flow", "daily-orders") is None
