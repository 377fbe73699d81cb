"""The repository's flow factories: one definition, a dozen deployed flows."""

from prefect import flow


def make_flow(topic: str, cron: str, limit: int = 10, region: str = "eu"):
    """A daily report flow for `topic` (the schedule lives in prefect.yaml)."""

    @flow(name=f"daily-{topic}", description=f"Daily {topic} report ({cron}).", log_prints=True)
    def report(day: str = "mon", limit: int = limit, region: str = region) -> int:
        """Build the report.

        Args:
            day: The weekday to report on.
        """
        return limit

    return report


def make_loader(name, retries=2):
    def load(source: str = "s3", batch: int = 100) -> None:
        """Load a source."""

    return flow(name=name, retries=retries)(load)


def make_either(name, fancy=False):
    @flow(name=name)
    def plain() -> None:
        pass

    @flow(name=name + "-fancy")
    def fancy_flow() -> None:
        """The fancy one: its description, too, only loading the file tells."""

    if fancy:
        return fancy_flow
    return plain
