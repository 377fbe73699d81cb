"""`new`: a flow folder that deploys as it is, with Prefect's name for its function, or nothing
written at all when its names would collide with the repository's (or break its rules)."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefect_flow_deploy.commands.new import NewFlow, ScaffoldError, create, files_for
from prefect_flow_deploy.settings.options import Options

from .test_validate import cli


@pytest.mark.parametrize(
    ("new", "message"),
    [
        (NewFlow("sales", "daily-orders"), "the deployment daily-orders/sales is defined twice"),
        (
            NewFlow("sales", "other", flow="daily-orders"),
            "the deployment daily-orders/sales is defined twice",
        ),
        (NewFlow("sales", "Daily_Orders"), "both become the image sales/daily_orders"),
        (NewFlow("sales", "daily_orders"), "already exists"),
        (NewFlow("sales", "x", schedule="0 6 * *"), 'Invalid cron string: "0 6 * *"'),
        (NewFlow("sales", "_shared"), "would be skipped"),
        (NewFlow("sales", "x", flow=" "), "--flow is empty"),
    ],
)
def test_new_refuses_names_that_collide_and_writes_nothing(
    tmp_path: Path, new: NewFlow, message: str
) -> None:
    options = Options(projects_root=tmp_path / "projects")
    create(NewFlow("sales", "daily_orders"), options)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(ScaffoldError) as caught:
        create(new, options)
    assert message in str(caught.value)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_a_flow_name_that_is_not_prefect_s_default_is_written_as_name() -> None:
    assert (
        "@flow(name='weekly report')"
        in files_for(NewFlow("p", "w", flow="weekly report"))["flow.py"]
    )
    assert "@flow\ndef daily_orders(" in files_for(NewFlow("p", "daily_orders"))["flow.py"]
    assert "prefect.yaml" not in files_for(NewFlow("p", "daily_orders"))


def test_new_on_the_command_line_says_what_collides(tmp_path: Path) -> None:
    assert cli("new", "sales", "daily_orders", cwd=tmp_path).returncode == 0
    again = cli("new", "sales", "orders", "--flow", "daily-orders", cwd=tmp_path)
    assert again.returncode == 3
    assert (
        "cannot create sales/orders: the deployment daily-orders/sales is defined twice"
        in again.stderr
    )
    assert "--flow" in again.stderr


@pytest.mark.parametrize(
    ("new", "function", "flow_name"),
    [
        (NewFlow("p", "daily_orders"), "daily_orders", "daily-orders"),
        (NewFlow("p", "Daily Orders!"), "daily_orders", "daily-orders"),
        (NewFlow("p", "2024-report"), "flow_2024_report", "flow-2024-report"),
        (NewFlow("p", "class"), "flow_class", "flow-class"),
        (NewFlow("p", "w", flow="weekly report"), "weekly_report", "weekly report"),
    ],
)
def test_the_function_is_a_python_name_and_the_flow_prefect_s(
    new: NewFlow, function: str, flow_name: str
) -> None:
    assert (new.function, new.flow_name) == (function, flow_name)


def test_a_schedule_is_a_prefect_yaml_entry_in_utc() -> None:
    files = files_for(NewFlow("sales", "daily", schedule="0 6 * * *"))
    assert set(files) == {"flow.py", "requirements.txt", "prefect.yaml"}
    assert "entrypoint: flow.py:daily" in files["prefect.yaml"]
    assert "cron: 0 6 * * *" in files["prefect.yaml"] and "timezone: UTC" in files["prefect.yaml"]
