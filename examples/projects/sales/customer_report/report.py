"""A flow that imports a helper module of its own folder and a package from requirements.txt."""

from helpers import render
from prefect import flow, get_run_logger


@flow(name="customer-report")
def build_report(customers: int = 3) -> str:
    table = render([{"customer": f"c{i}", "orders": i * 2} for i in range(customers)])
    get_run_logger().info("report for %s customers:\n%s", customers, table)
    return table
