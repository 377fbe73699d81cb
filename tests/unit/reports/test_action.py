import json
import re
from pathlib import Path

from prefect_flow_deploy.core.model import DeploymentPlan, FlowFolder, ImagePlan, Plan
from prefect_flow_deploy.core.results import FlowResult
from prefect_flow_deploy.reports.action import matrix, summary, ui_url

from ...action.runner import parse_output_file


def row(i: int, status: str = "unchanged", project: str | None = None) -> FlowResult:
    return FlowResult(
        project or f"project-{i % 10}", f"folder-{i}", f"flow-{i}", f"project-{i % 10}",
        f"00000000-0000-0000-0000-{i:012d}", f"ghcr.io/acme/flows/p/folder-{i}:abcdef0123456789abcd",
        "sha256:" + "a" * 64, "exists", status,  # type: ignore[arg-type]
    )  # fmt: skip


def test_summary_of_1000_flows_stays_under_the_limit_and_keeps_whole_tables() -> None:
    rows = [
        row(i, "failed" if i % 97 == 0 else "updated" if i % 5 == 0 else "unchanged")
        for i in range(1000)
    ]
    text = summary(rows, "https://api.prefect.cloud/api/accounts/a/workspaces/w", "deploy", 12.0)
    assert len(text.encode()) < 1024 * 1024
    assert text.count("### project-") == 10
    assert "https://app.prefect.cloud/account/a/workspace/w/deployments/deployment/" in text
    # Failures come first within a project table.
    first_table = text.split("### ")[1]
    assert first_table.index("failed") < first_table.index("updated")


def test_summary_summarises_instead_of_cutting_when_too_big() -> None:
    rows = [row(i) for i in range(20000)]
    for r in rows[:10]:
        r.status = "failed"
        r.error = "x" * 200
    text = summary(rows, None, "deploy")
    assert len(text.encode()) < 1024 * 1024
    assert "unchanged deployments" in text  # collapsed, not truncated
    assert text.rstrip().endswith("|") or text.rstrip().endswith("failed")
    assert all(
        line.count("|") in (0, 6, 7) or not line.startswith("|") for line in text.splitlines()
    )


def test_ui_links() -> None:
    assert (
        ui_url("http://127.0.0.1:4200/api", "x") == "http://127.0.0.1:4200/deployments/deployment/x"
    )
    assert ui_url("https://api.prefect.cloud/api/accounts/A/workspaces/W", "x") == (
        "https://app.prefect.cloud/account/A/workspace/W/deployments/deployment/x"
    )
    assert ui_url("https://example.com/prefect", "x") is None
    assert ui_url(None, "x") is None


def test_matrix_groups_only_folders_with_work_into_at_most_n_shards() -> None:
    folders = [FlowFolder("p", f"f{i}", Path(f"/r/p/f{i}")) for i in range(5)]
    images = [
        ImagePlan(f, f"r/p/f{i}", "t", {}, "build" if i < 3 else "exists")
        for i, f in enumerate(folders)
    ]
    deployments = [
        DeploymentPlan(None, f"x/p{i}", f"p/f{i}", "update" if i == 4 else "unchanged")
        for i in range(5)
    ]
    result = matrix(Plan(folders, images, deployments), shards=2)
    shards = result["include"]
    assert [s["shard"] for s in shards] == ["1", "2"]
    covered = [k for s in shards for k in s["folders"].split()]
    assert sorted(covered) == ["p/f0", "p/f1", "p/f2", "p/f4"]
    for shard in shards:
        pattern = re.compile(shard["flows"])
        assert all(pattern.search(k) for k in shard["folders"].split())
        assert not any(pattern.search(k) for k in covered if k not in shard["folders"].split())
    assert matrix(Plan(folders, images[3:4], []), shards=2) == {"include": []}
    assert json.loads(json.dumps(result)) == result


def test_matrix_shards_by_last_measured_build_time_not_by_count() -> None:
    """Ten folders to build in three shards: two slow ones (measured 300 s) that counting
    by name would put in one shard, a new one (the median), and one with writes only."""
    folders = [FlowFolder("p", f"f{i}", Path(f"/r/p/f{i}")) for i in range(11)]
    seconds: dict[int, float | None] = {i: 20.0 for i in range(9)}
    seconds.update({0: 300.0, 3: 300.0, 9: None})
    images = [
        ImagePlan(f, f"r/p/f{i}", "t", {}, "build" if i < 10 else "exists",
                  last_build_seconds=seconds.get(i))
        for i, f in enumerate(folders)
    ]  # fmt: skip
    writes = [DeploymentPlan(None, "x/p10", "p/f10", "update")]
    shards = matrix(Plan(folders, images, writes), shards=3)["include"]
    groups = [set(s["folders"].split()) for s in shards]
    assert {"p/f0"} <= groups[0] and {"p/f3"} <= groups[1]  # the slow ones apart
    assert all(len({"p/f0", "p/f3"} & g) <= 1 for g in groups)
    assert sorted(k for g in groups for k in g) == sorted(f.key for f in folders)
    estimates = [int(s["seconds"]) for s in shards]
    assert sum(estimates) == 300 * 2 + 20 * 7 + 20 + 1  # the new one at the median (20 s)
    assert max(estimates) == 300


def test_runner_output_parsing_matches_what_the_library_writes(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import github_action_utils as gha

    target = tmp_path / "out"
    target.write_text("")
    monkeypatch.setenv("GITHUB_OUTPUT", str(target))
    value = json.dumps([{"a": "line1\nline2", "b": "x=y<<z"}])
    gha.set_output("deployments", value)
    gha.set_output("built", "3")
    assert parse_output_file(target.read_text()) == {"deployments": value, "built": "3"}
