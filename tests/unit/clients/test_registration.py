"""The check made just before a write (registration._recheck): a deployment another
repository or tenant created after this run planned is not this run's to write."""

from __future__ import annotations

from prefect_flow_deploy.clients.registration import Claim, claimed_by_another

NAME = "alpha/p"


def test_another_repository_s_or_tenant_s_deployment_is_claimed() -> None:
    ours = Claim("acme/a", "prod")
    why = claimed_by_another(["repo:acme/b", "tenant:prod"], ours, NAME)
    assert why is not None and "belongs to repository acme/b" in why
    why = claimed_by_another(["repo:acme/a", "tenant:dev"], ours, NAME)
    assert why is not None and "created meanwhile by tenant 'dev'" in why


def test_ours_or_unrecorded_is_not() -> None:
    assert claimed_by_another(["repo:acme/a", "tenant:prod"], Claim("acme/a", "prod"), NAME) is None
    assert claimed_by_another(["tenant:prod"], Claim("acme/a", "prod"), NAME) is None
    # A run with a tenant takes over one made without (the plan's rule: decide.other_tenant).
    assert claimed_by_another([], Claim(None, "prod"), NAME) is None
    # A run without a tenant never writes over a tenant's.
    assert claimed_by_another(["tenant:prod"], Claim(None, None), NAME) is not None


def test_prefect_s_own_retries_are_off_inside_each_write_and_untouched_outside() -> None:
    """Our transport retries; Prefect's client would retry each of its attempts again. The
    settings are copied once (OwnRetriesOff) and entered by every write, nested or not."""
    from prefect.settings import PREFECT_CLIENT_MAX_RETRIES

    from prefect_flow_deploy.clients.registration import OwnRetriesOff

    retries_off = OwnRetriesOff()
    before = PREFECT_CLIENT_MAX_RETRIES.value()
    with retries_off():
        assert PREFECT_CLIENT_MAX_RETRIES.value() == 0
        with retries_off():
            assert PREFECT_CLIENT_MAX_RETRIES.value() == 0
        assert PREFECT_CLIENT_MAX_RETRIES.value() == 0
    assert PREFECT_CLIENT_MAX_RETRIES.value() == before > 0
