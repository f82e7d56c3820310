"""Issue 5's acceptance on the demo fleet, through the real CLI: `verify waves` finds what phase B
must fix, `apply phase-b` fixes it, and afterwards both cluster types are clean, azure generates the
same Applications, and every overlay still builds with the real kustomize."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from fleetmig.fleet.demo import write_demo

from .test_cli import fleetmig


def waves(root: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = fleetmig("verify", "waves", "--repo", root, "--format", "json", *args)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def problems(report: dict[str, Any], cluster_type: str) -> list[tuple[str, str]]:
    (entry,) = [c for c in report["clusterTypes"] if c["clusterType"] == cluster_type]
    return [(p["kind"], p["message"]) for p in entry["problems"]]


def applications(report: dict[str, Any], cluster_type: str) -> set[tuple[str, str, str, str]]:
    (entry,) = [c for c in report["clusterTypes"] if c["clusterType"] == cluster_type]
    return {(a["name"], a["namespace"], a["rolloutPhase"], a["chart"]) for a in entry["applications"]}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("phase-b") / "fleet"
    write_demo(root)
    return root


def test_before_phase_b_local_reports_the_omitted_components_and_the_unmatched_phase(demo: Path) -> None:
    code, report = waves(demo, "--cluster-type", "local")
    assert code == 1
    found = problems(report, "local")
    omitted = sorted(message.split("`")[1] for kind, message in found if kind == "omitted")
    assert omitted == ["cluster-agent-operator", "local-platform-azure-dns-issuer"]
    assert any(kind == "unmatched" and "rollout-phase 356" in message for kind, message in found)
    assert [c["clusterType"] for c in report["clusterTypes"]] == ["local"]


def test_after_phase_b_both_cluster_types_are_clean_and_azure_is_unchanged(demo: Path, tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    subprocess.run(["git", "clone", "-q", str(demo), str(fleet)], check=True)
    _, before = waves(fleet)

    assert fleetmig("apply", "phase-b", "--repo", fleet, "--check").returncode == 1
    applied = fleetmig("apply", "phase-b", "--repo", fleet)
    assert applied.returncode == 0, applied.stderr
    assert fleetmig("apply", "phase-b", "--repo", fleet, "--check").returncode == 0

    code, after = waves(fleet)
    assert code == 0, after
    assert problems(after, "azure") == [] and problems(after, "local") == []
    assert applications(after, "azure") == applications(before, "azure")
    gone = {a[0] for a in applications(before, "local") - applications(after, "local")}
    assert gone == {"cluster-agent-operator", "local-platform-azure-dns-issuer"}
    assert all(not path.is_symlink() for path in (fleet / "environments/local/components").rglob("component.yaml"))
    for overlay in ("local", "azure"):
        built = subprocess.run(
            ["kubectl", "kustomize", str(fleet / "argocd/overlays" / overlay)], capture_output=True, text=True
        )
        assert built.returncode == 0, built.stderr
    phases = {a[2] for a in applications(after, "azure")}
    assert {"155", "250", "356", "650"} <= phases  # rollout phases are never renumbered


def test_markdown_and_table_outputs(demo: Path) -> None:
    markdown = fleetmig("verify", "waves", "--repo", demo, "--cluster-type", "azure", "--format", "markdown")
    assert markdown.returncode == 1
    assert "### azure: 25 Applications" in markdown.stdout
    assert "| 356 | `dev-platform-backstage` | ameide-dev | `sources/charts/platform/backstage` |" in markdown.stdout
    table = fleetmig("verify", "waves", "--repo", demo, "--cluster-type", "azure")
    assert "azure: unmatched environments/_shared/components/platform/developer/backstage/component.yaml" in (
        table.stdout
    )


def test_a_template_error_names_the_descriptor_that_caused_it(demo: Path, tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    subprocess.run(["git", "clone", "-q", str(demo), str(fleet)], check=True)
    descriptor = fleet / "environments/_shared/components/apps/graph/component.yaml"
    descriptor.write_text(descriptor.read_text().replace('componentType: "workload"\n', ""), encoding="utf-8")
    code, report = waves(fleet, "--cluster-type", "azure")
    assert code == 1
    (error,) = {p["path"] for p in report["clusterTypes"][0]["problems"] if p["kind"] == "template"}
    assert error == "environments/_shared/components/apps/graph/component.yaml"


def test_unknown_cluster_type_is_a_user_error(demo: Path) -> None:
    result = fleetmig("verify", "waves", "--repo", demo, "--cluster-type", "gke")
    assert result.returncode == 2
    assert "unknown cluster type `gke`" in result.stderr and "Traceback" not in result.stderr
