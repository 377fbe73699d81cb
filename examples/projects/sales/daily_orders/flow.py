"""A folder with no requirements.txt: the default recipe still builds it."""

from prefect import flow, get_run_logger


@flow(log_prints=True)
def daily_orders(region: str = "eu", limit: int = 10) -> str:
    message = f"processed {limit} orders for {region}"
    get_run_logger().info(message)
    return message


if __name__ == "__main__":
    daily_orders()
