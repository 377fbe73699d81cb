"""Where a run builds its images (the `builder` setting) and which build cache it uses: pure
decisions, made once per run while planning and kept in the Plan (`Plan.build`), so that a
plan says them and execute only carries them out (build_site.py opens the builder).

`builder` is one of:

- empty (or `local`): the runner's own Docker engine, as before;
- `tcp://host:2376`: a remote Docker engine, with TLS client certificates given as secrets
  (`builder-tls-ca`, `builder-tls-cert`, `builder-tls-key`); `ssh://user@host` (the `ssh`
  client's own keys) or `unix:///path/docker.sock`: another engine;
- `buildkit://host:1234`: a BuildKit daemon, reached through a buildx builder of the
  `remote` driver made for the run (`docker buildx create --driver remote tcp://host:1234`,
  the same TLS secrets as its cacert, cert and key);
- `buildx:NAME`: a buildx builder made by an earlier step (docker/setup-buildx-action).

The cache: a Docker engine's own builder (buildx's `docker` driver) cannot export a build
cache to a registry (BuildKit says "Cache export is not supported for the docker driver"),
so on an engine the cache is the inline one, as before: the image the folder's deployments
run now is a `--cache-from` source, and a shared engine keeps its own build cache between
runs. A BuildKit builder exports the whole cache (`mode=max`: every stage's layers, not only
the final image's) to `<registry>/<project>/<folder>:buildcache`, and imports it first.
"""

from __future__ import annotations

import re

from prefect_flow_deploy.core.build_plan import CACHE_TAG, BuilderKind, BuildPlan, CacheKind
from prefect_flow_deploy.core.errors import ConfigurationError

FORMS = (
    "tcp://host:2376 (a Docker engine; TLS from builder-tls-ca, builder-tls-cert, "
    "builder-tls-key), ssh://user@host, unix:///path/docker.sock, buildkit://host:1234 "
    "(a BuildKit daemon) or buildx:NAME (a buildx builder); empty: this runner's engine"
)
_HOST_PORT = re.compile(r"^(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):[0-9]{1,5}$")
_SSH = re.compile(
    r"^(?:[A-Za-z0-9._-]+@)?(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9][A-Za-z0-9.-]*)(?::[0-9]{1,5})?$"
)
_BUILDX_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
TLS_INPUTS = ("builder-tls-ca", "builder-tls-cert", "builder-tls-key")


def parse_builder(value: str | None, source: str = "builder") -> tuple[BuilderKind, str]:
    """The builder's kind and address; a value of no known form is an error naming where it
    came from (`source`: "input builder", "--builder", a config file line)."""
    text = (value or "").strip()
    if text in ("", "local"):
        return "local", ""
    if text.startswith("buildx:"):
        name = text.removeprefix("buildx:")
        if _BUILDX_NAME.match(name):
            return "buildx", name
    scheme, separator, rest = text.partition("://")
    if separator:
        if scheme == "tcp" and _HOST_PORT.match(rest):
            return "docker", text
        if scheme == "ssh" and _SSH.match(rest):
            return "docker", text
        if scheme == "unix" and rest.startswith("/"):
            return "docker", text
        if scheme == "buildkit" and _HOST_PORT.match(rest):
            return "buildkit", f"tcp://{rest}"
    raise ConfigurationError(
        f"builder {text!r} (from {source}) is not a builder address. Write one of: {FORMS}."
    )


def build_plan(
    builder: str | None,
    registry: str,
    tls: tuple[str | None, str | None, str | None] = (None, None, None),
    sources: tuple[str, ...] = ("builder", *TLS_INPUTS),
) -> BuildPlan:
    """The run's build decision from its options: `tls` is (CA, client certificate, key) as
    given (only whether each is given matters here), `sources` where `builder` and each of
    them came from, for the messages."""
    kind, address = parse_builder(builder, sources[0])
    given = [bool(v and v.strip()) for v in tls]
    named = [f"{TLS_INPUTS[i]} (from {sources[i + 1]})" for i, g in enumerate(given) if g]
    takes_tls = kind == "buildkit" or address.startswith("tcp://")
    if any(given) and not takes_tls:
        raise ConfigurationError(
            f"{', '.join(named)} given, but builder {builder or '(this runner)'!r} does not "
            "use TLS certificates: they are for a tcp:// Docker engine or a buildkit:// "
            "daemon. Remove them, or set builder."
        )
    if given[1] != given[2]:
        missing = TLS_INPUTS[1] if not given[1] else TLS_INPUTS[2]
        raise ConfigurationError(
            f"{missing} is missing: a TLS client certificate needs both builder-tls-cert and "
            "builder-tls-key (PEM)."
        )
    if kind != "local" and not registry:
        raise ConfigurationError(
            f"builder is set (from {sources[0]}) but registry is not: an image built on another "
            "machine reaches the workers only through a registry. Set registry too."
        )
    cache: CacheKind = "registry" if kind in ("buildkit", "buildx") else "inline"
    return BuildPlan((builder or "").strip(), kind, address, given[1], cache)


def cache_ref(repository: str, platform: str | None = None) -> str:
    """The registry cache of a folder's repository (one per platform when several)."""
    suffix = f"-{platform.replace('/', '-')}" if platform else ""
    return f"{repository}:{CACHE_TAG}{suffix}"


def is_cache_tag(tag: str) -> bool:
    """A registry cache's tag (content tags are hashes: never this)."""
    return tag == CACHE_TAG or tag.startswith(CACHE_TAG + "-")


def cache_flags(
    plan: BuildPlan, repository: str, previous: str | None, platform: str | None = None
) -> tuple[list[str], list[str]]:
    """(`--cache-from` values, `--cache-to` values) for one build: the registry cache first
    when the builder has one, then the inline cache of the image the folder's deployments run
    now (of the same repository: another's is no cache of this folder)."""
    suffix = f"-{platform.replace('/', '-')}" if platform else ""
    sources: list[str] = []
    targets: list[str] = []
    if plan.cache == "registry":
        ref = cache_ref(repository, platform)
        sources.append(f"type=registry,ref={ref}")
        targets.append(f"type=registry,ref={ref},mode=max")
    if previous and previous.startswith(repository + ":"):
        sources.append(previous + suffix)
    return sources, targets
