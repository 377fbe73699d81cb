"""Credentials in URLs: stripped before a URL is printed, stored or linked; masked."""

from __future__ import annotations

from prefect_flow_deploy.core.logger import log
from prefect_flow_deploy.core.urls import (
    credentials,
    mask_credentials,
    scrub,
    without_credentials,
)


def test_a_login_is_removed_and_the_rest_kept() -> None:
    assert without_credentials("https://u:p%40ss@h.example.com:8443/api?x=1") == (
        "https://h.example.com:8443/api?x=1"
    )
    assert without_credentials("http://token@127.0.0.1:4200/api") == "http://127.0.0.1:4200/api"
    assert without_credentials("http://127.0.0.1:4200/api") == "http://127.0.0.1:4200/api"
    assert scrub("cannot reach http://u:pw@h/api: refused, see https://x.io") == (
        "cannot reach http://h/api: refused, see https://x.io"
    )


def test_the_secret_parts_are_masked() -> None:
    assert credentials("https://u:p%40ss@h/api") == ["u:p%40ss", "u:p@ss", "p%40ss", "p@ss"]
    assert credentials("https://tok3n@h/api") == ["tok3n"]
    assert credentials("https://h/api") == []
    mask_credentials("https://someone:hunter2-secret@h/api")
    assert log.redact("password hunter2-secret") == "password ***"


def test_every_place_a_url_is_shown_uses_the_helper() -> None:
    import httpx

    from prefect_flow_deploy.clients.prefect_api import ApiSettings, unavailable
    from prefect_flow_deploy.reports.action import deployments_page, ui_url

    url = "https://ci:pa55word@prefect.example.com/api"
    assert ApiSettings(url).shown == "https://prefect.example.com/api"
    error = unavailable(url, httpx.ConnectError(f"cannot connect to {url}"))
    assert "pa55word" not in str(error) and "https://prefect.example.com/api" in str(error)
    assert deployments_page(url) == "https://prefect.example.com/deployments"
    assert "pa55word" not in (ui_url(url, "id-1") or "")
