"""Helpers for tests that render a fleet's releases with real Helm."""

from __future__ import annotations

from typing import Any

import pytest

from fleetmig.fleet.components import Release
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.render import render_release


def helm() -> Any:
    return pytest.importorskip("helm_python", reason="install the `helm` extra: pip install -e '.[helm]'")


def render(
    fleet: Fleet, release: Release, values: dict[str, Any] | None = None, *, fresh: bool = False
) -> dict[str, str]:
    """{template: manifest text} of the release's chart with its layered values."""
    helm()
    return render_release(fleet, release, values, fresh=fresh)


def same_apart_from_randomness(before: str, again: str, after: str) -> bool:
    """`after` equals `before` on every line two renders of the same input agree on."""
    first, second, third = before.splitlines(), again.splitlines(), after.splitlines()
    if not len(first) == len(second) == len(third):
        return False
    return all(a == c for a, b, c in zip(first, second, third, strict=True) if a == b)


def owned_renders(fleet: Fleet, values: dict[str, Any] | None = None) -> dict[str, dict[str, str]]:
    """Every release of an owned chart, rendered twice; templates whose output Helm randomness changes
    between the two renders keep both texts joined by NUL (compare with `same_render`)."""
    third_party = fleet.policy.layout.third_party
    out: dict[str, dict[str, str]] = {}
    for release in fleet.releases:
        chart = release.component.chart_path
        if not chart or chart.startswith(third_party):
            continue
        merged = {**fleet.release_values(release), **(values or {})}
        first, second = render(fleet, release, merged), render(fleet, release, merged, fresh=True)
        out[release.label] = {t: text if text == second[t] else f"{text}\0{second[t]}" for t, text in first.items()}
    return out


def same_render(before: str, after: str) -> bool:
    first, _, second = before.partition("\0")
    return same_apart_from_randomness(first, second, after) if second else first == after
