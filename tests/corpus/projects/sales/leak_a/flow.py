from prefect import flow

from models import Settings


@flow(name="leak-a")
def main(settings: Settings = Settings()) -> None:
    pass
