#!/usr/bin/env python3
"""Print the rollout-phase inventory for one cluster type.

Usage:
    scripts/wave_inventory.py sources/values/cluster/local/globals.yaml

Reads the cluster identity from the cluster-type globals file and lists every
component.yaml under environments/_shared/components with its rollout phase, so a
human can compare it against the RollingSync steps in argocd/applicationsets/.
"""
from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPONENTS = ROOT / "environments" / "_shared" / "components"


def load_globals(path: Path) -> dict:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def cluster_label(values: dict) -> str:
    # k3d / aks; older globals files had no cluster block at all.
    cluster = values.get("global", {}).get("ameide", {}).get("cluster", {})
    name = cluster.get("name", "unknown")
    return f"{values['global']['ameide']['cluster']['type']}:{name}" if cluster else "unknown"


def inventory() -> dict[str, list[str]]:
    phases: dict[str, list[str]] = defaultdict(list)
    for descriptor in sorted(COMPONENTS.rglob("component.yaml")):
        data = yaml.safe_load(descriptor.read_text(encoding="utf-8")) or {}
        phase = str(data.get("rolloutPhase", "???"))
        phases[phase].append(data.get("name", descriptor.parent.name))
    return phases


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    values = load_globals(Path(argv[1]))
    print(f"# cluster {cluster_label(values)}")
    for phase, names in sorted(inventory().items()):
        print(f"{phase}  {', '.join(sorted(names))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
