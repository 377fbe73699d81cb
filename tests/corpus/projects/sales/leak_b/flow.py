from prefect import flow

from models import Settings


@flow(name="leak-b")
def main(settings: Settings = Settings()) -> None:
    pass
