import humanize
from prefect import flow, get_run_logger


@flow
def campaign_sync(campaign: str = "spring", contacts: int = 1200) -> str:
    message = f"synced {humanize.intcomma(contacts)} contacts for {campaign}"
    get_run_logger().info(message)
    return message
