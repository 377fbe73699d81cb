"""One file holding two flows: each becomes its own deployment."""

import prefect


@prefect.flow
def refresh_prices(currency: str = "EUR") -> str:
    return f"prices refreshed in {currency}"


@prefect.flow(name="archive-invoices")
def archive(days: int = 30) -> str:
    return f"archived invoices older than {days} days"
