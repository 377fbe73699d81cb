import datetime

from prefect import flow

import constants
from constants import FLOW_NAMES, NAMES, TEAM, Flows, Kind, Stage
from constants import names as n


@flow(name=NAMES.DAILY)
def daily() -> None:
    pass


@flow(name=Flows.HOURLY.value, description=f"Runs every hour for {TEAM}.")
def hourly() -> None:
    pass


@flow(name=Kind.AUDIT)
def audit() -> None:
    pass


@flow(name=f"{TEAM}-monthly")
def monthly() -> None:
    pass


@flow(name=constants.NAMES.WEEKLY)
def weekly() -> None:
    pass


@flow(name=FLOW_NAMES["cleanup"])
def cleanup() -> None:
    pass


@flow(name=n.TEAM + "-yearly")
def yearly() -> None:
    pass


@flow(name=f"{TEAM}-{Stage.PROD}")
def staged() -> None:
    pass


@flow(name=f"{TEAM}-{datetime.date(2024, 1, 1):%Y}")
def dated() -> None:  # only running it tells: computed in the image
    pass
