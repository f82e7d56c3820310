"""The least any `plan all` or `apply all` that proves its changes must spend, as ratios to the floor.

DESIGN.md ("Proof, not promise"): every chart and environment a change touches is rendered with real
Helm before and after, and the objects are compared. This measures what that alone costs on a
synthetic fleet of N components (bench/make_fleet.py), after `apply all` migrated a copy of it:

- renders: every release present on both sides whose inputs the migration changed (verify's rule:
  its descriptor, a values file it layers, a file of its chart or of a `file://` dependency),
  rendered once before and once after with real Helm in-process, identical inputs rendered once
  (the values are layered before the clock starts). fleetmig's own proofs render more: a
  second time where objects differ (Helm randomness), and again when a later codemod changed the
  release's inputs;
- objects: each distinct template text those renders produced, parsed once with PyYAML's C loader
  (a proof compares objects, not text);
- editor: a round-trip (ruamel.yaml) parse of every YAML file the migration edits or deletes, once
  (what keeping comments and layout costs; the issue's own rule is to pay it only for those files).

Each is timed on one core. Nothing else of a run is counted (no fleet model, no codemod logic, no
writes, no diffs; of the renders only the time inside Helm's own calls), and the sums are divided
by the number of cores as if the work shared out perfectly, so they are lower bounds for `plan all`
(Helm + objects) and `apply all` (all three). Each is printed as a ratio to the floor measured in
the same run (read and parse every YAML file with the C loader, own process, best of 3), next to
the issue's targets.
Usage: `python3 bench/proof_floor.py [--sizes 1000,4000] [--keep DIR]`.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import helm_python
import yaml
from floor import yaml_files
from make_fleet import make_fleet
from scale import BENCH, measure

from fleetmig.cores import cores
from fleetmig.edit.yaml.parse import load_documents
from fleetmig.errors import InputError
from fleetmig.fleet.components import Release
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.render import NOTES, RenderFailed, render_release
from fleetmig.verify.renders import changed_paths, charted_releases, inputs_changed

TARGETS = {"plan all": 2.0, "apply all": 8.0}


def touched_releases(base: Fleet, head: Fleet, changed: set[str]) -> list[tuple[Release, Release]]:
    old, new = charted_releases(base), charted_releases(head)
    return [
        (old[label], new[label])
        for label in sorted(old.keys() & new.keys())
        if inputs_changed(base, old[label], head, new[label], changed)
    ]


def timed_renders(jobs: list[tuple[Fleet, Release]]) -> tuple[float, float, list[dict[str, str]], int]:
    """Seconds to render every job on one core, of them the seconds inside Helm's own calls (chart
    load and render; the rest writes the chart folder Helm loads, and keys the memo), the renders,
    and how many Helm refused. The jobs come chart by chart (Helm loads a chart once for its
    releases)."""
    for fleet, release in jobs:
        fleet.release_values(release)  # the values layering is the model's work, not the render's
    inside = [0.0]

    def clocked(call: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                inside[0] += time.perf_counter() - start

        return timed

    chart = helm_python.Chart
    load, render = chart.load, chart.render
    chart.load, chart.render = staticmethod(clocked(load)), clocked(render)  # type: ignore[method-assign]
    renders: list[dict[str, str]] = []
    start = time.perf_counter()
    try:
        for fleet, release in jobs:
            with contextlib.suppress(RenderFailed):
                renders.append(render_release(fleet, release))
    finally:
        chart.load, chart.render = load, render  # type: ignore[method-assign]
    return time.perf_counter() - start, inside[0], renders, len(jobs) - len(renders)


def timed_objects(renders: list[dict[str, str]]) -> tuple[float, int]:
    texts = {text for rendered in renders for name, text in rendered.items() if not name.endswith(NOTES)}
    start = time.perf_counter()
    for text in texts:
        list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    return time.perf_counter() - start, len(texts)


def timed_editor(base: Fleet, changed: set[str]) -> tuple[float, int, int]:
    """Seconds to parse each distinct text of the edited YAML files round-trip, once (fleetmig
    keeps such parses by text: the synthetic fleet's copies repeat files), the files and the texts."""
    edited = [
        rel
        for rel in sorted(changed)
        if rel.endswith((".yaml", ".yml")) and "/templates/" not in rel and base.exists(rel)
    ]
    texts = {base.read_bytes(rel).decode("utf-8"): rel for rel in edited}
    start = time.perf_counter()
    for text, rel in texts.items():
        with contextlib.suppress(InputError):
            load_documents(text, rel)
    return time.perf_counter() - start, len(edited), len(texts)


def run_size(components: int, scratch: Path) -> None:
    before_root, after_root = scratch / f"fleet-{components}", scratch / f"fleet-{components}-migrated"
    make_fleet(before_root, components)
    shutil.copytree(before_root, after_root, symlinks=True)
    migrated = subprocess.run(
        [sys.executable, "-m", "fleetmig", "apply", "all", "--repo", str(after_root), "--format", "json"],
        stdout=subprocess.DEVNULL,
    )
    if migrated.returncode not in (0, 1):
        sys.exit(f"apply all failed on the {components}-component fleet (exit {migrated.returncode})")
    floor = min(
        measure([sys.executable, str(BENCH / "floor.py"), str(before_root)], 3600)[0] or math.inf for _ in range(3)
    )
    base, head = Fleet.open(before_root), Fleet.open(after_root)
    changed = changed_paths(base, head)
    pairs = touched_releases(base, head, changed)
    jobs = [(base, old) for old, _ in pairs] + [(head, new) for _, new in pairs]
    render_s, helm_s, renders, refused = timed_renders(jobs)
    objects_s, texts = timed_objects(renders)
    editor_s, edited, distinct = timed_editor(base, changed)

    def row(label: str, seconds: float, note: str = "") -> None:
        print(f"  {label:50} {seconds:7.2f} s {seconds / floor:6.1f}x  {note}")

    print(f"\nN={components}: {len(yaml_files(before_root))} YAML files; floor (read + CSafeLoader, own process) "
          f"{floor:.2f} s")  # fmt: skip
    print(f"  the migration changes {len(changed)} files and touches {len(pairs)} releases")
    row("renders, before and after (one core)", render_s, f"{2 * len(pairs)} renders, {refused} refused")
    row("  of which inside Helm (chart load + render)", helm_s)
    row("objects: the renders' text, C loader (one core)", objects_s, f"{texts} distinct template texts")
    row("editor: ruamel parse of the edited YAML (one core)", editor_s, f"{edited} files, {distinct} distinct texts")
    # At best every core takes an equal share of each.
    least_plan = (helm_s + objects_s) / cores()
    least_apply = least_plan + editor_s / cores()
    row(f"least `plan all` on {cores()} cores: Helm + objects", least_plan, f"target {TARGETS['plan all']:.0f}x")
    row(f"least `apply all` on {cores()} cores: + editor", least_apply, f"target {TARGETS['apply all']:.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,4000")
    parser.add_argument("--keep", type=Path, help="Write the fleets here and keep them.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        for size in (int(s) for s in args.sizes.split(",")):
            run_size(size, args.keep or Path(scratch))


if __name__ == "__main__":
    main()
