from prefect import flow
from prefect.states import State


@flow
def frame(state: State | None = None, rows: int = 5) -> None:
    """A type from a library: read in the built image."""
