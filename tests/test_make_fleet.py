"""The synthetic fleet of the benchmarks is a valid fleet: every copy deploys a chart that exists."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import yaml

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _make_fleet() -> Any:
    spec = importlib.util.spec_from_file_location("make_fleet", BENCH / "make_fleet.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_fleet


def test_every_component_of_a_synthetic_fleet_deploys_a_chart_that_exists(tmp_path: Path) -> None:
    root = tmp_path / "fleet"
    _make_fleet()(root, 74)
    descriptors = sorted(root.glob("environments/*/components/**/component.yaml"))
    charts = {
        str(d.relative_to(root)): ((yaml.safe_load(d.read_text()) or {}).get("chart") or {}).get("path")
        for d in descriptors
    }
    missing = {d: path for d, path in charts.items() if path and not (root / path / "Chart.yaml").is_file()}
    assert not missing
    copies = [d for d, path in charts.items() if path and "-00" in d]
    assert any("/third_party/" in charts[d] for d in copies), "no copy deploys a vendored chart"
    assert any("/third_party/" not in charts[d] and charts[d].endswith(d.split("/")[-2][-5:]) for d in copies)
    names = [yaml.safe_load(d.read_text())["name"] for d in descriptors if "/_shared/" in str(d)]
    assert len(names) == len(set(names))
