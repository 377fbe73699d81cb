"""(split from registry.py)"""

from __future__ import annotations

import encodings.idna  # noqa: F401
from dataclasses import dataclass


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
