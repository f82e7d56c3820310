"""Issue 4's acceptance on the demo fleet: phase A applied with the real CLI, proved with real Helm.

Before and after `fleetmig apply phase-a`, every owned chart is rendered for every release the
ApplicationSets generate (each environment's layered values); the manifests must be identical apart
from what Helm randomness changes between two renders of the same input. The contract schema the
phase adds is exercised by the same renders.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from fleetmig.fleet.demo import write_demo
from fleetmig.fleet.model import Fleet

from .helm_render import helm, owned_renders, render, same_render
from .test_cli import fleetmig

Renders = dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Renders, Renders, dict[str, bytes]]:
    helm()
    root = tmp_path_factory.mktemp("phase-a") / "fleet"
    write_demo(root)
    before = owned_renders(Fleet.open(root))
    originals = {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink() and ".git" not in p.parts
    }
    assert fleetmig("apply", "phase-a", "--repo", root, "--check").returncode == 1
    applied = fleetmig("apply", "phase-a", "--repo", root)
    assert applied.returncode == 0, applied.stderr
    return root, before, owned_renders(Fleet.open(root)), originals


def test_second_run_has_nothing_to_do(migrated: tuple[Path, Renders, Renders, dict[str, bytes]]) -> None:
    root = migrated[0]
    assert fleetmig("apply", "phase-a", "--repo", root, "--check").returncode == 0
    plan = fleetmig("plan", "phase-a", "--repo", root, "--format", "json")
    pending = {c["id"]: c["pending"] for c in json.loads(plan.stdout)["codemods"]}
    assert all(pending[cid] == 0 for cid in pending if cid.startswith("a")), pending


def test_every_owned_release_renders_the_same(migrated: tuple[Path, Renders, Renders, dict[str, bytes]]) -> None:
    _, before, after, _ = migrated
    assert before.keys() == after.keys() and len(before) >= 30
    for label, manifests in before.items():
        assert manifests.keys() == after[label].keys(), label
        for template, text in manifests.items():
            first = after[label][template].partition("\0")[0]
            assert same_render(text, first), f"{label} {template} renders differently after phase A"


def test_edited_files_keep_every_comment_and_vendored_charts_are_untouched(
    migrated: tuple[Path, Renders, Renders, dict[str, bytes]],
) -> None:
    root, _, _, originals = migrated
    changed = [rel for rel, data in originals.items() if (root / rel).read_bytes() != data]
    assert changed, "phase A changed nothing"
    assert not [rel for rel in changed if rel.startswith("sources/charts/third_party/")]
    for rel in changed:
        after = (root / rel).read_text(encoding="utf-8").replace("\r\n", "\n").splitlines()
        for line in originals[rel].decode("utf-8").replace("\r\n", "\n").splitlines():
            if line.lstrip().startswith("#"):
                assert line in after, f"{rel}: comment line lost: {line!r}"


def test_the_contract_is_enforced_by_every_owned_chart(
    migrated: tuple[Path, Renders, Renders, dict[str, bytes]],
) -> None:
    root = migrated[0]
    fleet = Fleet.open(root)
    third_party = fleet.policy.layout.third_party
    one_release_per_chart = {
        r.component.chart_path: r
        for r in fleet.releases
        if r.component.chart_path and not r.component.chart_path.startswith(third_party)
    }
    assert len(one_release_per_chart) >= 10
    for release in one_release_per_chart.values():
        missing = copy.deepcopy(fleet.release_values(release))
        del missing["global"]["ameide"]["cluster"]
        with pytest.raises(Exception, match=r"(?s)schema.*missing property 'cluster'"):
            render(fleet, release, missing)
        malformed = copy.deepcopy(fleet.release_values(release))
        malformed["global"]["ameide"]["cluster"]["arch"] = "s390x"
        with pytest.raises(Exception, match=r"(?s)schema.*/global/ameide/cluster/arch"):
            render(fleet, release, malformed)


HAND_FIXES = {
    "sources/charts/apps/graph/templates/_helpers.tpl": (".Values.cluster.type", ".Values.global.ameide.cluster.type"),
    "sources/charts/apps/www-ameide/templates/_helpers.tpl": ("index .Values $key", ".Values.global.ameide.cluster"),
    "sources/charts/cluster/agent-operator/templates/deployment.yaml": (
        "with .Values.cluster }}",
        "with .Values.global.ameide.cluster }}",
    ),
    "sources/charts/observability/otel-collector/templates/deployment.yaml": (
        'index .Values "cluster" "arch"',
        ".Values.global.ameide.cluster.arch",
    ),
}


def test_once_humans_move_the_last_readers_the_bridge_goes_and_the_collision_ends(
    migrated: tuple[Path, Renders, Renders, dict[str, bytes]],
) -> None:
    root = migrated[0]
    for rel, (old, new) in HAND_FIXES.items():
        path = root / rel
        assert old in path.read_text(encoding="utf-8"), rel
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    fleet = Fleet.open(root)
    postgres = next(r for r in fleet.releases if r.label == "platform-postgres-clusters@local")
    assert "type: k3d" in render(fleet, postgres)["postgres-clusters/templates/postgres-ameide.yaml"]

    dropped = fleetmig("apply", "phase-a", "--repo", root, "--allow-dirty")
    assert dropped.returncode == 0, dropped.stderr
    fleet = Fleet.open(root)
    for layer in ("local", "azure"):
        text = (root / f"sources/values/cluster/{layer}/globals.yaml").read_text(encoding="utf-8")
        assert "\ncluster:" not in text and "global:" in text
    cluster_spec = render(fleet, postgres)["postgres-clusters/templates/postgres-ameide.yaml"]
    assert "k3d" not in cluster_spec and "context:" not in cluster_spec  # no unexpected spec keys (plan 519 §6)
    assert fleetmig("apply", "phase-a", "--repo", root, "--check", "--allow-dirty").returncode == 0
