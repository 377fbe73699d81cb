from typing import Optional

from prefect import flow, task

from pipelines.base import Region
from pipelines.models import Destination, OrdersConfig, Window


@task
def load(config: OrdersConfig) -> int:
    return 0


@flow(name="daily-orders", log_prints=True)
def daily(config: OrdersConfig = OrdersConfig(), dry_run: bool = False) -> None:
    """Load yesterday's orders.

    Args:
        config: what to load
        dry_run: print, do not write
    """
    load(config)


@flow
def backfill(
    start: str,
    region: Region = Region.US,
    window: Window = Window(days=30),
    destination: Optional[Destination] = None,
    regions: list[Region] = [Region.EU],
) -> None:
    """Reload a range."""
