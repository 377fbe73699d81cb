from __future__ import annotations

import datetime
import typing as t
from typing import Any, Dict, List, Optional, Tuple, Union

import prefect

import types_
from types_ import Audience, Budget, Channel, Priority

DEFAULT_CHANNEL = "email"
LIMIT = 25


@prefect.flow(description="Send one campaign.")
def send(
    audience: Audience,
    budget: Optional[Budget] = None,
    channel: Channel = DEFAULT_CHANNEL,
    priority: Priority = Priority.HIGH,
    when: datetime.datetime | None = None,
    limit: int = LIMIT,
    extra: Dict[str, Any] = {},
    ids: List[int] = [1, 2],
    pair: Tuple[str, int] = ("a", 1),
    either: Union[int, str, None] = None,
    mode: t.Literal["fast", "slow"] = "fast",
    raw: types_.Priority = types_.Priority.LOW,
    *,
    strict: bool = True,
    **options: str,
) -> None:
    pass


@prefect.flows.flow
def report(days: t.Optional[int] = 7, /, fmt: str = "csv", *rows: int) -> None:
    """Weekly report.

    Args:
        days: how many days
        fmt: the output format
    """
