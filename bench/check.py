"""`fleetmig check` as a ratio to the parsing floor measured in the same run.

By default on the demo fleet before and after `apply all` (every rule enabled); `--fleet DIR` checks
an existing fleet instead (e.g. one written by a synthetic-fleet generator). The floor is reading every
YAML file and parsing it with PyYAML's C loader (bench/floor.py).
Usage: `python3 bench/check.py [--repeat N] [--fleet DIR]`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from floor import best_of, floor, yaml_files

from fleetmig.check.run import check
from fleetmig.engine import registry, runner
from fleetmig.fleet.demo import write_demo
from fleetmig.fleet.model import Fleet


def measure(label: str, root: Path, repeat: int) -> None:
    floor_s = best_of(repeat, lambda: floor(root))
    report = check(Fleet.open(root))
    samples = [best_of(1, lambda: check(Fleet.open(root))) for _ in range(repeat)]
    best = min(samples)
    print(f"{label}: {len(yaml_files(root))} YAML files, {len(report.violations)} violations, best of {repeat}")
    print(f"  floor (read + CSafeLoader): {floor_s * 1000:8.2f} ms")
    print(f"  check ({len(report.rules)} rules):          {best * 1000:8.2f} ms  ratio {best / floor_s:6.1f}x")
    ratios = [sample / floor_s for sample in samples]
    print(f"  ratio median {statistics.median(ratios):.1f}x, spread {min(ratios):.1f}x..{max(ratios):.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--fleet", type=Path, help="Check this fleet instead of the demo.")
    args = parser.parse_args()
    registry.all_codemods()  # import cost is paid once per process, not per check
    if args.fleet is not None:
        measure(str(args.fleet), args.fleet, args.repeat)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "fleet"
        write_demo(root)
        measure("demo fleet before the migration", root, args.repeat)
        runner.apply(Fleet.open(root), registry.all_codemods(), write=True, allow_dirty=False)
        measure("demo fleet after apply all", root, args.repeat)


if __name__ == "__main__":
    main()
