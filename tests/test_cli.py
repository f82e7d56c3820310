"""The CLI end to end, as users run it: a real process, real exit codes, real files, real git."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .fleets import commit_all, small_fleet, snapshot

GLOBALS = "sources/values/cluster/local/globals.yaml"


def fleetmig(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "fleetmig", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
    )


@pytest.fixture(scope="module")
def demo_fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("demo") / "fleet"
    result = fleetmig("demo", target)
    assert result.returncode == 0, result.stderr
    return target


def test_demo_writes_a_committed_fleet_and_prints_next_steps(demo_fleet: Path) -> None:
    assert (demo_fleet / "fleetmig.yaml").is_file()
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=demo_fleet, capture_output=True, text=True, check=True
    )
    assert status.stdout == ""
    assert fleetmig("demo", demo_fleet).returncode == 2  # not empty any more


def test_phase_a_check_fails_before_and_passes_after_apply(tmp_path: Path, demo_fleet: Path) -> None:
    fleet = tmp_path / "copy"
    subprocess.run(["git", "clone", "-q", str(demo_fleet), str(fleet)], check=True)

    plan = fleetmig("plan", "--repo", fleet)
    assert plan.returncode == 0, plan.stderr
    assert "a1-fleet-contract" in plan.stdout and "nothing pending" not in plan.stdout

    dry = fleetmig("apply", "phase-a", "--repo", fleet, "--dry-run")
    assert dry.returncode == 0
    assert "+global:" in dry.stdout or "+  ameide:" in dry.stdout
    assert subprocess.run(["git", "status", "--porcelain"], cwd=fleet, capture_output=True, text=True).stdout == ""

    assert fleetmig("apply", "phase-a", "--repo", fleet, "--check").returncode == 1
    applied = fleetmig("apply", "phase-a", "--repo", fleet)
    assert applied.returncode == 0, applied.stderr
    assert fleetmig("apply", "phase-a", "--repo", fleet, "--check").returncode == 0

    changed = subprocess.run(["git", "diff", "--numstat"], cwd=fleet, capture_output=True, text=True).stdout
    assert "sources/values/cluster/local/globals.yaml" in changed
    globals_removed = [line.split()[1] for line in changed.splitlines() if line.endswith("globals.yaml")]
    assert globals_removed and all(r == "0" for r in globals_removed), f"globals only gain lines: {changed}"


def test_plan_formats(demo_fleet: Path) -> None:
    data = json.loads(fleetmig("plan", "--repo", demo_fleet, "--format", "json").stdout)
    assert data["pending"] >= 1
    assert data["codemods"][0]["id"] == "a1-fleet-contract"
    markdown = fleetmig("plan", "--repo", demo_fleet, "--format", "markdown").stdout
    assert "- [ ] Phase A: Fleet contract + compatibility bridge" in markdown
    assert "  - [ ] `a1-fleet-contract`" in markdown


def test_apply_json_output(demo_fleet: Path) -> None:
    result = fleetmig("apply", "phase-a", "--repo", demo_fleet, "--dry-run", "--format", "json")
    payload = json.loads(result.stdout)
    assert payload["written"] is False
    assert {c["codemod"] for c in payload["changes"]} >= {"a1-fleet-contract", "a3-template-consumers"}
    assert {c["codemod"][0] for c in payload["changes"]} == {"a"}
    assert all(c["diff"].startswith("diff --fleetmig") for c in payload["changes"])


def test_malformed_yaml_exits_2_naming_file_and_line_and_writes_nothing(tmp_path: Path) -> None:
    fleet = small_fleet(tmp_path, {"sources/values/cluster/azure/globals.yaml": "cluster:\n  name: 'unclosed\n"})
    commit_all(fleet)
    before = snapshot(fleet)
    result = fleetmig("apply", "all", "--repo", fleet)
    assert result.returncode == 2
    assert "sources/values/cluster/azure/globals.yaml:" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(fleet) == before


def test_dirty_tree_is_refused_with_exit_2(tmp_path: Path) -> None:
    fleet = small_fleet(tmp_path)
    commit_all(fleet)
    (fleet / GLOBALS).write_bytes((fleet / GLOBALS).read_bytes() + b"# local edit\n")
    result = fleetmig("apply", "all", "--repo", fleet)
    assert result.returncode == 2
    assert "--allow-dirty" in result.stderr
    assert fleetmig("apply", "all", "--repo", fleet, "--allow-dirty").returncode == 0


def test_list_explain_schema_and_usage_errors(tmp_path: Path) -> None:
    listing = fleetmig("list")
    assert listing.stdout.startswith("a1-fleet-contract\tA\t")
    explained = fleetmig("explain", "a1-fleet-contract").stdout
    for section in ("## What it changes", "## Why", "## Before", "## After"):
        assert section in explained
    schema = json.loads(fleetmig("schema").stdout)
    assert schema["type"] == "object"
    assert fleetmig("explain", "nope").returncode == 2
    assert fleetmig("apply", "phase-q", "--repo", tmp_path).returncode == 2
    assert fleetmig("apply").returncode == 2  # missing TARGET


def test_list_with_repo_counts_pending_work(tmp_path: Path) -> None:
    fleet = small_fleet(tmp_path)
    assert fleetmig("list", "--repo", fleet).stdout.splitlines()[0].endswith("\t1")


def test_bad_policy_exits_2_with_the_key_and_line(tmp_path: Path) -> None:
    fleet = small_fleet(tmp_path, {"fleetmig.yaml": "version: 1\nclusterTypes:\n  local:\n    colour: blue\n"})
    result = fleetmig("plan", "--repo", fleet)
    assert result.returncode == 2
    assert "fleetmig.yaml:4" in result.stderr and "colour" in result.stderr


def test_init_writes_a_policy_that_loads(tmp_path: Path) -> None:
    fleet = small_fleet(tmp_path)
    (fleet / "fleetmig.yaml").unlink()
    assert fleetmig("init", "--repo", fleet).returncode == 0
    assert fleetmig("plan", "--repo", fleet).returncode == 0
    assert fleetmig("init", "--repo", fleet).returncode == 2  # never overwrites


def test_apply_all_on_the_demo_leaves_nothing_pending(tmp_path: Path, demo_fleet: Path) -> None:
    # Phase E's wrappers give phase A (schema) and C (gate) new work: one `apply all` still settles it.
    fleet = tmp_path / "copy"
    subprocess.run(["git", "clone", "-q", str(demo_fleet), str(fleet)], check=True)
    applied = fleetmig("apply", "all", "--repo", fleet)
    assert applied.returncode == 0, applied.stderr
    assert (fleet / "sources/charts/platform/langfuse/values.schema.json").is_file()
    assert fleetmig("apply", "all", "--repo", fleet, "--check").returncode == 0
