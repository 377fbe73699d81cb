from prefect import flow


@flow
def weekly_digest(audience: str = "everyone", top: int = 5) -> str:
    return f"digest of the top {top} stories for {audience}"
