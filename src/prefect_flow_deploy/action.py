"""The GitHub Action's entry point: action inputs → the same Options the CLI builds."""

from __future__ import annotations


def main() -> None:
    raise SystemExit("the action entry point is being written")
