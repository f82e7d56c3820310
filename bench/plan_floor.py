"""`plan all` on the demo fleet, as a ratio to the parsing floor measured in the same run.

The floor is what any tool must pay: read every YAML file of the fleet and parse it with PyYAML's
C loader. fleetmig's own cost is printed as a multiple of that, so the number means the same on a
slow CI machine and a fast laptop. Usage: `python3 bench/plan_floor.py [--repeat N]`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from floor import best_of, floor, yaml_files

from fleetmig.engine import registry, runner
from fleetmig.fleet.demo import write_demo
from fleetmig.fleet.model import Fleet


def plan_all(root: Path) -> None:
    runner.simulate(Fleet.open(root), registry.all_codemods())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "fleet"
        write_demo(root)
        registry.all_codemods()  # import cost is paid once per process, not per plan
        files = len(yaml_files(root))
        floor_s = best_of(args.repeat, lambda: floor(root))
        plan_s = best_of(args.repeat, lambda: plan_all(root))
        samples = [best_of(1, lambda: plan_all(root)) / floor_s for _ in range(args.repeat)]
    print(f"demo fleet: {files} YAML files, best of {args.repeat}")
    print(f"floor (read + CSafeLoader): {floor_s * 1000:8.2f} ms")
    print(f"plan all:                   {plan_s * 1000:8.2f} ms  ratio {plan_s / floor_s:5.1f}x")
    print(f"ratio median {statistics.median(samples):.1f}x, spread {min(samples):.1f}x..{max(samples):.1f}x")


if __name__ == "__main__":
    main()
