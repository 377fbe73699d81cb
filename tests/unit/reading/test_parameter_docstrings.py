"""A flow's parameter descriptions from its Google-style docstring, as Prefect reads them."""

from __future__ import annotations

from prefect_flow_deploy.reading.parameter_docstrings import parameter_docstrings


def test_the_args_section_gives_each_parameter_its_description() -> None:
    doc = """Load the day's orders.

    Args:
        day: The day to load, as YYYY-MM-DD.
        limit: How many orders at most;
            more are left for the next run.

    Returns:
        The number of orders loaded.
    """
    assert parameter_docstrings(doc) == {
        "day": "The day to load, as YYYY-MM-DD.",
        "limit": "How many orders at most;\nmore are left for the next run.",
    }


def test_no_docstring_or_no_args_section_gives_nothing() -> None:
    assert parameter_docstrings(None) == {}
    assert parameter_docstrings("") == {}
    assert parameter_docstrings("Just a summary line.") == {}


def test_griffe_s_warnings_stay_quiet_and_its_logger_is_left_as_it_was() -> None:
    import logging

    logger = logging.getLogger("griffe")
    before = logger.disabled
    assert parameter_docstrings("Args:\n    x (int: broken type.\n") is not None
    assert logger.disabled == before
