"""Component descriptors and the releases the ApplicationSets make of them.

The reference fleet has two ApplicationSets: `cluster` (descriptors under `<components>/cluster/`,
one Application per cluster type) and `ameide` (every other descriptor, one Application per
environment). Their value-file lists are read here as the reference layout defines them (plan 519
§1, fleet-domain §2.2); a fleet whose ApplicationSets layer values differently must say so in the
layout before codemods rely on `Release.value_files`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from fleetmig.errors import InputError
from fleetmig.fleet.policy import Policy

Scope = Literal["cluster", "env"]

CLUSTER_BAND = "cluster"
LOCAL_CLUSTER_TYPE = "local"
VALUES_REF = "$values/"


@dataclass(frozen=True)
class Component:
    """One `component.yaml` (symlinks resolved by reading through them)."""

    name: str
    path: str
    scope: Scope
    domain: str | None
    chart_path: str | None
    extra_value_files: tuple[str, ...]  # chart.valueFiles as written, `$values/` refs only


@dataclass(frozen=True)
class Release:
    """One Application: a component on one environment (or, cluster-scoped, one cluster type)."""

    component: Component
    env: str | None
    cluster_type: str
    value_files: tuple[str, ...]  # fleet-relative, lowest first; missing files are skipped (ignoreMissingValueFiles)

    @property
    def label(self) -> str:
        return f"{self.component.name}@{self.env or self.cluster_type}"


def parse_component(rel: str, data: Any, components_root: str) -> Component:
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise InputError("a component descriptor needs a string `name`", rel, 1)
    chart = data.get("chart") or {}
    if not isinstance(chart, dict):
        raise InputError("`chart` must be a mapping", rel)
    chart_path = chart.get("path")
    if chart_path is not None and not isinstance(chart_path, str):
        raise InputError("`chart.path` must be a string", rel)
    extra = chart.get("valueFiles") or []
    if not isinstance(extra, list) or not all(isinstance(v, str) for v in extra):
        raise InputError("`chart.valueFiles` must be a list of strings", rel)
    band = rel[len(components_root) :].lstrip("/").split("/", 1)[0]
    domain = data.get("domain")
    return Component(
        name=data["name"],
        path=rel,
        scope="cluster" if band == CLUSTER_BAND else "env",
        domain=domain if isinstance(domain, str) else None,
        chart_path=chart_path.rstrip("/") if chart_path else None,
        extra_value_files=tuple(v[len(VALUES_REF) :] for v in extra if v.startswith(VALUES_REF)),
    )


def omitted_components(policy: Policy, cluster_type: str) -> dict[str, str]:
    """component name → why the policy keeps it off `cluster_type` (omit list, capability gates)."""
    rules = policy.cluster_types.get(cluster_type)
    if rules is None:
        return {}
    out = {name: f"clusterTypes.{cluster_type}.omit lists it" for name in rules.omit}
    for component, capability in policy.capability_gates.items():
        if rules.capability(capability) is False:
            out.setdefault(component, f"capability `{capability}` is false on {cluster_type}")
    return out
