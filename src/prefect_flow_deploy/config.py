"""The optional config file: per-tenant settings (see issue "The GitHub Action")."""

from __future__ import annotations

from pathlib import Path

from .options import Options


def apply_config(options: Options, path: Path | None, explicit: set[str]) -> Options:
    return options
