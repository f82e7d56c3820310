"""Write a synthetic fleet with N components in the reference layout, deterministic for N and seed.

It starts from the demo fleet and adds copies of its components until `_shared` holds N: each copy
gets its own descriptor (and local descriptor, real file or symlink as the original), its own values
files at every layer, and its own copy of the owned chart it deploys (a component deploying a vendored
chart keeps deploying it directly). The policy's per-component lists (omit, off, capability gates)
name the copies too, so every phase finds the same kinds of work as on the demo, N/14 times over.
Usage: `python3 bench/make_fleet.py N DIR [--seed S]`.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
from pathlib import Path

import git
import yaml
from ruamel.yaml import YAML

from fleetmig.fleet.demo import write_demo

SHARED = "environments/_shared/components"
LOCAL = "environments/local/components"
VALUES = "sources/values"
THIRD_PARTY = "sources/charts/third_party/"
_ACTOR = git.Actor("fleetmig bench", "bench@fleetmig.invalid")


def make_fleet(root: Path, components: int, seed: int = 519) -> int:
    """Write the fleet into `root` (new or empty) and commit it; returns the number of files."""
    write_demo(root)
    templates = sorted(p.parent.relative_to(root / SHARED) for p in (root / SHARED).rglob("component.yaml"))
    rng = random.Random(seed)
    policy_path = root / "fleetmig.yaml"
    rt = YAML()  # round trip, YAML 1.2: `off:` stays a key, comments stay
    policy = rt.load(policy_path.read_text())
    originals = sorted((root / VALUES).rglob("*.yaml"))
    for number in range(len(templates), components):
        _copy_component(root, rng.choice(templates), number, policy, originals)
    with policy_path.open("w") as file:
        rt.dump(policy, file)
    repo = git.Repo(root)
    repo.git.add("--all")
    repo.index.commit(f"synthetic fleet: {components} components, seed {seed}", author=_ACTOR, committer=_ACTOR)
    return sum(1 for p in root.rglob("*") if ".git" not in p.parts and (p.is_file() or p.is_symlink()))


def _copy_component(root: Path, template: Path, number: int, policy: dict[str, object], originals: list[Path]) -> None:
    suffix = f"-{number:04d}"
    descriptor = (root / SHARED / template / "component.yaml").read_text()
    name = str(yaml.safe_load(descriptor)["name"])
    new_name = name + suffix
    new_dir = template.parent / (template.name + suffix)
    chart = re.search(r"^\s+path:\s*(\S+)", descriptor, re.MULTILINE)

    def renamed(text: str) -> str:
        """The copy's descriptor: its own name and its own copy of an owned chart. Vendored trees are
        not copied (a copy deploys the same vendored chart), so their paths stay."""
        lines = []
        owned = chart.group(1) if chart is not None else None
        for line in text.splitlines(keepends=True):
            if THIRD_PARTY not in line:
                if owned is not None and line.strip().startswith("path:") and owned in line:
                    line = line.replace(owned, owned + suffix)
                else:
                    line = line.replace(name, new_name)
            lines.append(line)
        return "".join(lines)

    _write(root / SHARED / new_dir / "component.yaml", renamed(descriptor))
    if chart is not None and not chart.group(1).startswith(THIRD_PARTY) and (root / chart.group(1)).is_dir():
        shutil.copytree(root / chart.group(1), root / (chart.group(1) + suffix), symlinks=True)
    local = root / LOCAL / template / "component.yaml"
    if local.is_symlink():
        link = root / LOCAL / new_dir / "component.yaml"
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.readlink(local).replace(f"/{template.name}/", f"/{template.name}{suffix}/"), link)
    elif local.is_file():
        _write(root / LOCAL / new_dir / "component.yaml", renamed(local.read_text()))
    for values in (p for p in originals if p.name == f"{name}.yaml" or p.name.startswith(f"{name}-")):
        copy = values.with_name(values.name.replace(name, new_name, 1))
        _write(copy, values.read_text())
    for cluster_type in (policy.get("clusterTypes") or {}).values():  # type: ignore[attr-defined]
        for key in ("omit", "off"):
            if name in (cluster_type.get(key) or []):
                cluster_type[key].append(new_name)
    gates = policy.get("capabilityGates") or {}
    if name in gates:  # type: ignore[operator]
        gates[new_name] = gates[name]  # type: ignore[index]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("components", type=int)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--seed", type=int, default=519)
    args = parser.parse_args()
    files = make_fleet(args.directory, args.components, args.seed)
    print(f"wrote {args.components} components ({files} files) to {args.directory}")


if __name__ == "__main__":
    main()
