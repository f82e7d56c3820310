"""`fleetmig check` asks each codemod only for what its rules report (`Codemod.guard`). Where a
codemod skips work to answer sooner, its violations are still exactly those of a full `apply`, and a
release it takes to render something without rendering it does render something."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fleetmig.check.rules import RULES
from fleetmig.check.run import Violation, violations_of
from fleetmig.engine import Changeset, Codemod, registry
from fleetmig.engine.runner import apply_one
from fleetmig.fleet.components import Release
from fleetmig.fleet.demo import write_demo
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.render import RenderFailed, render_release, renders_anything, surely_renders

from .conftest import GOLDEN
from .helm_render import helm
from .test_cli import fleetmig
from .test_make_fleet import _make_fleet

GUARDED = [cls for cls in registry.all_codemods() if cls.guard is not Codemod.guard]
WHOLE_FLEETS = ["demo", "demo-migrated", "synthetic", "synthetic-migrated"]
GOLDEN_INPUTS = [f"{cls.id}/{case.name}" for cls in GUARDED for case in sorted((GOLDEN / cls.id).iterdir())]


@pytest.fixture(scope="module")
def fleets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    helm()
    base = tmp_path_factory.mktemp("guard")
    write_demo(base / "demo")
    _make_fleet()(base / "synthetic", 40)
    out = {name: base / name for name in ("demo", "synthetic")}
    for name, root in list(out.items()):
        migrated = out[f"{name}-migrated"] = base / f"{name}-migrated"
        shutil.copytree(root, migrated, symlinks=True)
        applied = fleetmig("apply", "all", "--repo", migrated)
        assert applied.returncode == 0, applied.stderr
    return {**out, **{name: GOLDEN / name / "input" for name in GOLDEN_INPUTS}}


def _violations(cls: type[Codemod], changeset: Changeset) -> list[Violation]:
    return [v for rule in RULES if cls.id in rule.codemods for v in violations_of(rule, changeset)]


@pytest.mark.parametrize("name", WHOLE_FLEETS + GOLDEN_INPUTS)
def test_the_guard_finds_what_apply_finds(fleets: dict[str, Path], name: str) -> None:
    fleet = Fleet.open(fleets[name])
    for cls in GUARDED:
        expected = _violations(cls, apply_one(cls, fleet))
        assert _violations(cls, apply_one(cls, fleet, guard=True)) == expected, cls.id


def test_the_guard_still_finds_a_component_emptied_on_local(fleets: dict[str, Path]) -> None:
    (cls,) = [cls for cls in GUARDED if cls.id == "c3-local-disables"]
    guarded = _violations(cls, apply_one(cls, Fleet.open(fleets["c3-local-disables/keda-and-graph"]), guard=True))
    assert any("keda-scaledobjects" in v.path for v in guarded)


@pytest.mark.parametrize("name", WHOLE_FLEETS)
def test_a_release_said_to_render_something_does(fleets: dict[str, Path], name: str) -> None:
    fleet = Fleet.open(fleets[name])
    sure = [r for r in fleet.releases if r.component.chart_path and surely_renders(fleet, r)]
    assert sure, "no chart qualifies: the shortcut is never taken"
    for release in sure:
        try:
            rendered = render_release(fleet, release)
        except RenderFailed:
            continue  # the check does not report a release Helm refuses
        assert renders_anything(rendered), release.label


GATED = "{{- if .Values.enabled }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\n{{- end }}\n"


# The local layer, and whether the shortcut must be taken there (None: either way, as long as it is right).
LAYERS = {
    "enabled: true\n": True,
    "{}\n": True,
    "enabled: false\n": False,
    "enabled: null\n": None,
    "enabled: 'yes'\n": None,
}


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_the_enabled_gate_is_taken_only_where_helm_takes_it(fleets: dict[str, Path], layer: str) -> None:
    fleet = Fleet.open(fleets["demo-migrated"])
    layout = fleet.policy.layout

    def local_layer(release: Release) -> str:  # where c3 writes `enabled: false`
        return layout.env_values_for(str(release.env), release.component.domain, release.component.name)

    release = next(
        r
        for r in fleet.releases
        if r.cluster_type == "local"
        and local_layer(r) in r.value_files
        and r.component.chart_path
        and not r.component.chart_path.startswith(layout.third_party)
        and not (fleet.values(f"{r.component.chart_path}/Chart.yaml") or {}).get("dependencies")
    )
    chart = str(release.component.chart_path)
    view = fleet.with_contents(
        {
            **{rel: None for rel in fleet.files.glob(f"{chart}/**") if not rel.endswith("/Chart.yaml")},
            f"{chart}/values.yaml": b"enabled: true\n",
            f"{chart}/templates/probe.yaml": GATED.encode(),
            local_layer(release): layer.encode(),
        }
    )
    surely = surely_renders(view, release)
    assert renders_anything(render_release(view, release)) or not surely
    assert LAYERS[layer] in (None, surely)
