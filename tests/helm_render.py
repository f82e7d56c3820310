"""Real Helm renders of a fleet's releases, as Argo CD would produce them (tests only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fleetmig.fleet.components import Release
from fleetmig.fleet.model import Fleet


def helm() -> Any:
    return pytest.importorskip("helm_python", reason="install the `helm` extra: pip install -e '.[helm]'")


def namespace(fleet: Fleet, release: Release) -> str:
    entry = next((e for e in fleet.cluster_entries if e.env == release.env), None)
    return (entry.namespace if entry and entry.namespace else None) or "default"


def render(fleet: Fleet, release: Release, values: dict[str, Any] | None = None) -> dict[str, str]:
    """{template: manifest text} of the release's chart with its layered values."""
    assert release.component.chart_path is not None
    chart = helm().Chart.load(str(Path(fleet.root) / release.component.chart_path))
    try:
        rendered: dict[str, str] = chart.render(
            fleet.release_values(release) if values is None else values,
            name=release.component.name,
            namespace=namespace(fleet, release),
        )
        return rendered
    finally:
        chart.close()


def same_apart_from_randomness(before: str, again: str, after: str) -> bool:
    """`after` equals `before` on every line two renders of the same input agree on."""
    first, second, third = before.splitlines(), again.splitlines(), after.splitlines()
    if not len(first) == len(second) == len(third):
        return False
    return all(a == c for a, b, c in zip(first, second, third, strict=True) if a == b)
