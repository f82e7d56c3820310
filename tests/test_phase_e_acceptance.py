"""Issue 8's acceptance on the demo fleet with real Helm: after `apply phase-e` no component deploys a
vendored chart directly, every vendored tree is byte for byte its recorded upstream archive, and the
manifests are unchanged apart from the declared difference (the langfuse worker at zero replicas on
local instead of absent)."""

from __future__ import annotations

import gzip
import io
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetmig.fleet.demo import write_demo
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.render import objects_by_name, same_apart_from_randomness

from .helm_render import helm
from .test_cli import fleetmig

THIRD_PARTY = "sources/charts/third_party"
DECLARED = {("platform-langfuse@local", ("Deployment", "platform-langfuse-worker"))}


def renders(fleet: Fleet, *, fresh: bool = False) -> dict[str, dict[tuple[str, str], Any]]:
    return {release.label: objects_by_name(fleet, release, fresh=fresh) for release in fleet.releases}


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    helm()
    before = tmp_path_factory.mktemp("phase-e") / "before"
    write_demo(before)
    after = before.parent / "after"
    shutil.copytree(before, after, symlinks=True)
    assert fleetmig("apply", "phase-e", "--repo", after, "--check").returncode == 1
    applied = fleetmig("apply", "phase-e", "--repo", after)
    assert applied.returncode == 0, applied.stderr
    assert fleetmig("apply", "phase-e", "--repo", after, "--check").returncode == 0
    return before, after


def test_no_component_deploys_a_vendored_chart(migrated: tuple[Path, Path]) -> None:
    _, after = migrated
    fleet = Fleet.open(after)
    assert fleet.releases
    assert [r.label for r in fleet.releases if (r.component.chart_path or "").startswith(THIRD_PARTY)] == []


def test_vendored_trees_are_their_upstream_archives(migrated: tuple[Path, Path]) -> None:
    _, after = migrated
    lock = yaml.safe_load((after / THIRD_PARTY / "charts.lock.yaml").read_text())
    for entry in lock["charts"]:
        tree = after / THIRD_PARTY / entry["alias"] / entry["name"] / str(entry["version"])
        archive = gzip.decompress((after / THIRD_PARTY / entry["archive"]).read_bytes())
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            upstream = {
                m.name.split("/", 1)[1]: tar.extractfile(m).read()  # type: ignore[union-attr]
                for m in tar.getmembers()
                if m.isfile()
            }
        ours = {p.relative_to(tree).as_posix(): p.read_bytes() for p in tree.rglob("*") if p.is_file()}
        assert ours == upstream, entry["name"]


def test_renders_change_only_where_declared(migrated: tuple[Path, Path]) -> None:
    before_dir, after_dir = migrated
    before, again, after = (
        renders(Fleet.open(before_dir)),
        renders(Fleet.open(before_dir), fresh=True),
        renders(Fleet.open(after_dir)),
    )
    assert before.keys() == after.keys()
    for label, objects in after.items():
        for key in objects.keys() - before[label].keys():
            assert (label, key) in DECLARED, f"{label} gains {key}"
            assert objects[key]["spec"]["replicas"] == 0
        assert before[label].keys() <= objects.keys(), label
        for key, obj in before[label].items():
            assert same_apart_from_randomness(obj, again[label][key], objects[key]), f"{label}: {key}"
    assert all((label, key) in {(lbl, k) for lbl, o in after.items() for k in o} for label, key in DECLARED)
