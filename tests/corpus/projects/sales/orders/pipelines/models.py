"""Settings of the orders pipeline."""

from datetime import date
from typing import Annotated, Optional

from pydantic import BaseModel, Field

from .base import Region, Window

Percent = Annotated[float, Field(ge=0, le=100)]


class Destination(BaseModel):
    table: str
    schema_name: str = "analytics"


class OrdersConfig(BaseModel):
    """How to load orders.

    Used by the daily and the backfill flows.
    """

    region: Region = Region.EU
    window: Window = Window()
    destination: Optional[Destination] = None
    since: date | None = None
    sample: Percent = 100.0
    tags: list[str] = Field(default_factory=list)
    batch_size: Annotated[int, Field(gt=0, description="Rows per insert")] = 500
