"""Issue 6's proof with real Helm on the demo fleet.

After the enabled gates (c1), every owned chart renders byte for byte what it rendered before for every
release with `enabled: true` (the default), and nothing with `enabled: false`. After all of phase C,
local's emptied and environment-tested components are off by an explicit `enabled: false` and still
render nothing, and every other release renders as before.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fleetmig.fleet.demo import write_demo
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.render import manifests

from .helm_render import helm, owned_renders, render, same_render
from .test_cli import fleetmig

OFF_ON_LOCAL = {"apps-keda-scaledobjects@local", "apps-graph@local"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, str]]]:
    helm()
    root = tmp_path_factory.mktemp("phase-c") / "fleet"
    write_demo(root)
    return root, owned_renders(Fleet.open(root))


def test_gates_keep_every_render_and_false_renders_nothing(
    demo: tuple[Path, dict[str, dict[str, str]]], tmp_path: Path
) -> None:
    root, before = demo
    fleet_dir = tmp_path / "gated"
    fleet_dir.mkdir()
    shutil.copytree(root, fleet_dir, dirs_exist_ok=True, symlinks=True)
    applied = fleetmig("apply", "c1-enabled-gate", "--repo", fleet_dir)
    assert applied.returncode == 0, applied.stderr
    fleet = Fleet.open(fleet_dir)
    after = owned_renders(fleet, {"enabled": True})
    assert after.keys() == before.keys() and len(after) >= 30
    for label, templates in before.items():
        assert templates.keys() == after[label].keys(), label
        for template, text in templates.items():
            assert same_render(text, after[label][template].partition("\0")[0]), f"{label}: {template}"
    for release in fleet.releases:
        if release.label in before:
            off = {**fleet.release_values(release), "enabled": False}
            assert manifests(render(fleet, release, off)) == [], release.label


def test_phase_c_turns_local_disables_into_enabled_false(
    demo: tuple[Path, dict[str, dict[str, str]]], tmp_path: Path
) -> None:
    root, before = demo
    fleet_dir = tmp_path / "phase-c"
    fleet_dir.mkdir()
    shutil.copytree(root, fleet_dir, dirs_exist_ok=True, symlinks=True)
    assert fleetmig("apply", "phase-c", "--repo", fleet_dir, "--check").returncode == 1
    applied = fleetmig("apply", "phase-c", "--repo", fleet_dir)
    assert applied.returncode == 0, applied.stderr
    assert fleetmig("apply", "phase-c", "--repo", fleet_dir, "--check").returncode == 0

    fleet = Fleet.open(fleet_dir)
    after = owned_renders(fleet)
    for label in OFF_ON_LOCAL:
        release = next(r for r in fleet.releases if r.label == label)
        assert fleet.release_values(release)["enabled"] is False
        assert manifests(render(fleet, release)) == [], label
    for label, templates in before.items():
        if label in OFF_ON_LOCAL:
            continue
        for template, text in templates.items():
            assert same_render(text, after[label][template].partition("\0")[0]), f"{label}: {template}"
    keda = (fleet_dir / "sources/values/env/local/apps/apps-keda-scaledobjects.yaml").read_text()
    assert "scaledObjects" not in keda and "KEDA is not installed on k3d" in keda
