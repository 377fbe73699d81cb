"""Credentials in URLs (`https://user:password@host/api`): one helper for every URL the tool
prints, stores or links. A login in a URL works for the requests it makes (httpx sends it as
HTTP Basic), but is never shown: `mask_credentials` hides it in every later line of output
(`::add-mask::` on GitHub) and `without_credentials` drops it from a URL before it is put in
a message, a plan file, a summary link or a GitHub deployment. Pure but for the mask."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

# scheme://userinfo@ — anywhere in a text (a message quoting a URL, an exception's text).
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")


def without_credentials(url: str) -> str:
    """The URL with any `user:password@` removed (the rest as it was)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return scrub(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host))


def scrub(text: str) -> str:
    """Every `scheme://user:password@` in a text → `scheme://`."""
    return _USERINFO.sub(lambda m: m["scheme"], text)


def credentials(url: str) -> list[str]:
    """The secret parts of a URL's login, as written and decoded: the password, and the
    whole `user:password` (a token may be given as the user alone)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    if "@" not in parts.netloc:
        return []
    userinfo = parts.netloc.rpartition("@")[0]
    user, _, password = userinfo.partition(":")
    found = [userinfo, unquote(userinfo)]
    found += [password, unquote(password)] if password else [user, unquote(user)]
    return [value for value in dict.fromkeys(found) if value]


def mask_credentials(url: str | None) -> None:
    """Hide the URL's login in every later line of output (on GitHub, `::add-mask::`)."""
    if not url:
        return
    from prefect_flow_deploy.core.logger import log

    for secret in credentials(url):
        log.mask(secret)


# pip's secure origins besides https (pip._internal.network.session.SECURE_ORIGINS).
_LOOPBACK = re.compile(r"^(localhost|127(\.\d+){3}|\[::1\])$")


def plain_http_host(url: str) -> str | None:
    """The host of a plain-http URL pip would call insecure, else None (https, file:, and
    loopback are fine to pip)."""
    match = re.match(r"^http://(?:[^/@\s]*@)?(\[[^\]]+\]|[^/:?#\s]+)", url, re.IGNORECASE)
    if not match or _LOOPBACK.match(match.group(1).lower()):
        return None
    return match.group(1).lower()


def plain_http_advice(host: str, trusted: bool) -> str:
    login = "any login in the URL (and every package) crosses the network in clear text"
    if trusted:
        return f"{login} (`--trusted-host {host}` only silences pip). Use https://."
    return (
        f"pip refuses it unless `--trusted-host {host}` is given, and even then {login}. "
        "Use https://."
    )


# Build args that hand pip (or uv) a package index: PIP_INDEX_URL, PIP_EXTRA_INDEX_URL,
# PIP_FIND_LINKS, UV_INDEX_URL, UV_DEFAULT_INDEX, …
_INDEX_ARG = re.compile(r"INDEX|FIND_LINKS", re.IGNORECASE)


def plain_http_build_args(build_args: dict[str, str]) -> dict[str, str]:
    """Build args naming a plain-http package index: name → what to do."""
    found = {}
    for name, value in build_args.items():
        hosts = [h for url in value.split() if (h := plain_http_host(url))]
        if _INDEX_ARG.search(name) and hosts:
            found[name] = plain_http_advice(hosts[0], trusted=False)
    return found
