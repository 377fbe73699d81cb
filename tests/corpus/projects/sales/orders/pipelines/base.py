from enum import Enum

from pydantic import BaseModel, Field


class Region(str, Enum):
    """Where the orders come from."""

    EU = "eu"
    US = "us"


class Window(BaseModel):
    days: int = Field(7, ge=1, description="How far back to look")
    include_today: bool = False
