import textwrap

import prefect
from prefect import Flow, State
from prefect import flow as prefect_flow
from prefect.flows import flow as pflow
from prefect.flows import FlowRun

from tools import flow_like as flow
from tools import team_flow

SUMMARY = "Counts signups."


def on_failure(hook_flow: Flow, run: FlowRun, state: State) -> None:
    pass


@prefect_flow(name="signups", on_failure=[on_failure], description=SUMMARY)
def signups(day: str = "mon") -> None:
    """Ignored: description= wins."""


@prefect_flow(name="signups-v1")
def replaced(n: int = 1) -> None:
    pass


@prefect_flow(name="replaced-final", description=textwrap.dedent("""
    Replaced twice.
      Indented line.
    """))
def replaced(n: int = 2, m: str = "x") -> None:  # noqa: F811 (Python keeps this one)
    pass


def count(region: str = "eu", limit: int = 10) -> None:
    """Counts."""


daily_count = pflow(name="daily-count")(count)
also = prefect.flow(count, name="count-direct")
count_us = daily_count.with_options(name="daily-count-us")
count_eu = daily_count.with_options(name="daily-count-eu", description="EU only.")


@flow
def not_prefect(x: int = 1) -> None:
    pass


@team_flow
def made_by_factory(x: int = 1) -> None:
    pass


def shadowed() -> None:
    pass


shadowed = prefect.flow(shadowed)
shadowed = None  # Python keeps this: no flow named shadowed
