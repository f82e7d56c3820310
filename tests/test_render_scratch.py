"""Charts are written to a scratch folder for Helm: in memory when possible, never left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetmig.fleet import render
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.scratch import SCRATCH_VARIABLE

from .fleets import write_fleet
from .helm_render import helm

CHART = "sources/charts/apps/demo"


@pytest.fixture
def fleet(tmp_path: Path) -> Fleet:
    helm()
    files: dict[str, str | bytes] = {
        f"{CHART}/Chart.yaml": "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
        f"{CHART}/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n",
    }
    return Fleet.open(write_fleet(tmp_path / "fleet", files))


def rendered(fleet: Fleet) -> dict[str, str]:
    render.forget()  # load the chart again, so that it is written to a scratch folder again
    return render.render_chart(fleet, CHART, {"name": "cm"}, "demo", "default")


def test_a_configured_scratch_folder_holds_the_chart_only_while_helm_loads_it(
    fleet: Fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    seen: list[list[str]] = []
    load = helm().Chart.load

    def spying(path: str) -> object:
        seen.append(sorted(p.relative_to(scratch).as_posix() for p in scratch.rglob("*.yaml")))
        return load(path)

    monkeypatch.setenv(SCRATCH_VARIABLE, str(scratch))
    monkeypatch.setattr(helm().Chart, "load", spying)
    assert rendered(fleet) == {"demo/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n"}
    (written,) = seen
    assert [name.split("/", 1)[1] for name in written] == ["chart/Chart.yaml", "chart/templates/cm.yaml"]
    assert list(scratch.iterdir()) == []


def test_an_unusable_scratch_folder_falls_back_to_the_temporary_directory(
    fleet: Fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = rendered(fleet)
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    monkeypatch.setenv(SCRATCH_VARIABLE, str(not_a_folder))
    assert rendered(fleet) == expected
