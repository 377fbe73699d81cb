from tabulate import tabulate


def render(rows: list[dict[str, object]]) -> str:
    return tabulate(rows, headers="keys")
