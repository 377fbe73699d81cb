"""Names: image repositories from folder names, deployment names, tags."""

from __future__ import annotations

import re
import unicodedata

# Prefect's rule for the names of flows, deployments and work pools: the `Name`,
# `NameOrEmpty` and `NonEmptyishName` types of prefect.types.names refuse these (and a Flow
# refuses them when made: flows._raise_on_name_with_banned_characters).
BANNED_CHARACTERS = ("/", "%", "&", ">", "<")
# The folder name of a project that could not be listed (discovery): its deployments are kept.
UNREADABLE_PROJECT = "*"
_INVALID = re.compile(r"[^a-z0-9._-]+")
_SEPARATOR_RUN = re.compile(r"[._-]{2,}")
# A registry prefix: optional host[:port] then path components.
_REGISTRY = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?)(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)


def image_component(name: str) -> str:
    """Turn a folder name into a valid image path component ("My Flow_v2" → "my-flow_v2")."""
    text = _INVALID.sub("-", name.strip().lower())
    text = _SEPARATOR_RUN.sub(lambda m: "_" if set(m.group()) == {"_"} else "-", text)
    text = text.strip("._-")
    return text


def image_repository(registry: str, project: str, folder: str) -> str:
    """`<registry>/<project>/<folder>`; without a registry, a local name `<project>/<folder>`."""
    parts = [image_component(project), image_component(folder)]
    if not all(parts):
        raise ValueError(f"{project}/{folder} has no letters or digits to name an image after")
    path = "/".join(parts)
    return f"{registry.rstrip('/')}/{path}" if registry else path


def normalise_registry(registry: str) -> str:
    """`https://ghcr.io/Acme/Flows/` -> `ghcr.io/acme/flows`: image names are lower case
    (GitHub owners often are not: `ghcr.io/${{ github.repository_owner }}`), and a scheme or
    a trailing slash is a common slip."""
    text = registry.strip()
    text = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", text)
    return text.rstrip("/").lower()


def is_valid_registry(registry: str) -> bool:
    return bool(_REGISTRY.match(registry.rstrip("/")))


def registry_host(reference: str) -> str:
    """The registry host of an image reference, as Docker decides it."""
    first, _, rest = reference.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def repository_of(reference: str) -> str:
    """`host:5000/a/b:tag` or `host/a/b@sha256:…` → the repository, `host:5000/a/b`."""
    name = reference.split("@", 1)[0]
    head, slash, last = name.rpartition("/")
    return head + slash + last.split(":", 1)[0]


def flow_name_from_function(function: str) -> str:
    """Prefect's own rule for a flow without `name=`."""
    return function.replace("_", "-")


# Characters that change how text is shown rather than show: bidirectional overrides,
# embeddings, isolates and marks (a right-to-left override makes `evil\u202etxt.py` read
# `evilyp.txt`). With control characters (ANSI escapes, newlines), a name holding one
# passes Prefect's own rule, then fails after the push (httpx refuses it in the URL).
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def banned_characters(name: str) -> list[str]:
    """The characters of `name` that Prefect refuses in names, sorted."""
    return sorted({c for c in name if c in BANNED_CHARACTERS})


def unprintable_characters(name: str) -> list[str]:
    """Control characters and bidirectional overrides in `name`, as escapes (`\\x1b`,
    `\\u202e`), sorted."""
    found = {c for c in name if c in BIDI_CONTROLS or unicodedata.category(c) == "Cc"}
    return sorted(c.encode("unicode_escape").decode() for c in found)


def name_problem(kind: str, name: str) -> str | None:
    """Why `name` cannot be the name of a `kind` (flow, deployment, work pool), or None:
    a character Prefect refuses, or one that is not printed as itself."""
    banned = banned_characters(name)
    if banned:
        return (
            f"the {kind} name {name!r} contains {', '.join(repr(c) for c in banned)}, which "
            f"Prefect refuses in names ({' '.join(BANNED_CHARACTERS)}; prefect.types.names)"
        )
    unprintable = unprintable_characters(name)
    if unprintable:
        return (
            f"the {kind} name {name!r} contains {', '.join(unprintable)}: a control character "
            "(an ANSI escape, a newline) or a bidirectional override, which no log shows as "
            "it is and no URL may hold (the deployment would fail after the push)"
        )
    return None


def refused_name(kind: str, name: str) -> str | None:
    """Why Prefect refuses `name` as the name of a `kind` (deployment, work pool), or None."""
    return name_problem(kind, name)


INPUTS_LABEL = "io.prefect-flow-deploy.inputs"

FOLDER_LABEL = "io.prefect-flow-deploy.folder"
