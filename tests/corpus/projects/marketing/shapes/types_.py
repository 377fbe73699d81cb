from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Literal

from typing_extensions import NotRequired, TypedDict

Channel = Literal["email", "sms", "push"]


class Priority(IntEnum):
    LOW = 1
    HIGH = 2


@dataclass
class Audience:
    """Who receives the campaign."""

    segment: str
    size_limit: int | None = None
    channels: list[Channel] = field(default_factory=list)


class Budget(TypedDict):
    currency: str
    amount: float
    cap: NotRequired[float]
