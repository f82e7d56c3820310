"""a5-values-schema, proved with real Helm: after phase A (a1 + a5) every owned chart of the demo fleet
renders with its releases' values, and fails fast, naming the schema, when the contract is missing or
malformed. Helm v4 validates `values.schema.json` on render exactly as `helm template` does in Argo CD.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from fleetmig.engine import registry, runner
from fleetmig.fleet.components import Release
from fleetmig.fleet.consumers import charts
from fleetmig.fleet.demo import write_demo
from fleetmig.fleet.model import Fleet

from .conftest import GOLDEN

helm = pytest.importorskip("helm_python", reason="install the `helm` extra: pip install -e '.[helm]'")

SCHEMA_ERROR = "values don't meet the specifications of the schema(s)"


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    root = tmp_path_factory.mktemp("demo") / "fleet"
    write_demo(root)
    codemods = registry.select("a1-fleet-contract,a5-values-schema")
    result = runner.apply(Fleet.open(root), codemods, write=True, allow_dirty=True)
    (a5,) = [run for run in result.runs if run.codemod.id == "a5-values-schema"]
    # Every release already receives the contract from a1, so a5 has nothing to report to a human.
    assert [f.message for f in a5.findings if not f.pending] == []
    return Fleet.open(root)


@pytest.fixture(scope="module")
def owned_releases(migrated: Fleet) -> dict[str, list[Release]]:
    """chart path → its releases, for every owned chart (each of which now has a schema)."""
    owned = {chart.path for chart in charts(migrated) if not chart.vendored}
    assert owned and all((migrated.root / path / "values.schema.json").is_file() for path in owned)
    by_chart: dict[str, list[Release]] = {}
    for release in migrated.releases:
        if release.component.chart_path in owned:
            by_chart.setdefault(release.component.chart_path, []).append(release)
    return by_chart


@contextmanager
def loaded(path: Path) -> Iterator[Any]:
    chart = helm.Chart.load(str(path))
    try:
        yield chart
    finally:
        chart.close()


def render(chart: Any, values: dict[str, Any], name: str) -> dict[str, str]:
    rendered: dict[str, str] = chart.render(values, name=name, namespace="ameide-test")
    return rendered


def test_every_release_of_an_owned_chart_renders(migrated: Fleet, owned_releases: dict[str, list[Release]]) -> None:
    assert sum(len(releases) for releases in owned_releases.values()) >= 20
    for path, releases in owned_releases.items():
        with loaded(migrated.root / path) as chart:
            for release in releases:
                values = migrated.release_values(release)
                assert values["global"]["ameide"]["cluster"]["type"] == release.cluster_type
                assert isinstance(render(chart, values, release.component.name), dict), release.label


@pytest.mark.parametrize("breakage", ["contract missing", "unknown arch"])
def test_an_owned_chart_fails_fast_on_a_broken_contract(
    migrated: Fleet, owned_releases: dict[str, list[Release]], breakage: str
) -> None:
    for path, releases in owned_releases.items():
        release = releases[0]
        values = copy.deepcopy(migrated.release_values(release))
        if breakage == "contract missing":
            del values["global"]["ameide"]["cluster"]
            expected = "at '/global/ameide': missing property 'cluster'"
        else:
            values["global"]["ameide"]["cluster"]["arch"] = "s390x"
            expected = "at '/global/ameide/cluster/arch': value must be one of 'amd64', 'arm64'"
        with loaded(migrated.root / path) as chart, pytest.raises(helm.HelmValuesError) as failure:
            render(chart, values, release.component.name)
        message = str(failure.value)
        assert SCHEMA_ERROR in message and expected in message, (release.label, message)


def test_a_closed_subchart_schema_keeps_working_once_global_is_declared(tmp_path: Path) -> None:
    """helm/helm#10392: Helm coalesces the parent's `global` into every subchart before validating it,
    so a subchart schema with `additionalProperties: false` rejects it unless `global` is declared."""
    case = GOLDEN / "a5-values-schema" / "merge-closed-root-four-spaces"
    contract = {"ameide": {"cluster": {"type": "local", "name": "k3d-ameide", "arch": "arm64"}}}
    outcomes = {}
    for tree in ("input", "expected"):
        parent = tmp_path / tree / "umbrella"
        (parent / "templates").mkdir(parents=True)
        (parent / "Chart.yaml").write_text("apiVersion: v2\nname: umbrella\nversion: 0.1.0\n", encoding="utf-8")
        (parent / "values.yaml").write_text("", encoding="utf-8")
        shutil.copytree(case / tree / "sources/charts/apps/graph", parent / "charts/graph")
        with loaded(parent) as chart:
            try:
                outcomes[tree] = render(chart, {"global": contract}, "umbrella")
            except helm.HelmValuesError as error:
                outcomes[tree] = str(error)
    assert isinstance(outcomes["input"], str) and "additional properties 'global' not allowed" in outcomes["input"]
    assert outcomes["expected"]["umbrella/charts/graph/templates/configmap.yaml"].endswith('clusterType: "local"\n')
