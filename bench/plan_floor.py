"""`plan all` on the demo fleet, as a ratio to the parsing floor measured in the same run.

The floor is what any tool must pay: read every YAML file of the fleet and parse it with PyYAML's
C loader. Both run in their own process (a second plan in one process would be served from the
renders and parses fleetmig keeps for a run), so the number means the same on a slow CI machine and
a fast laptop. Usage: `python3 bench/plan_floor.py [--repeat N]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from floor import yaml_files
from scale import BENCH, measure

from fleetmig.fleet.demo import write_demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "fleet"
        write_demo(root)
        floor = [measure([sys.executable, str(BENCH / "floor.py"), str(root)], 600)[0] for _ in range(args.repeat)]
        plan = [measure([sys.executable, "-m", "fleetmig", "plan", "all", "--repo", str(root)], 600)[0]
                for _ in range(args.repeat)]  # fmt: skip
        floor_s = min(f for f in floor if f is not None)
        ratios = [p / floor_s for p in plan if p is not None]
        print(f"demo fleet: {len(yaml_files(root))} YAML files, best of {args.repeat}, each in its own process")
        print(f"floor (read + CSafeLoader): {floor_s * 1000:8.1f} ms")
        print(f"plan all:                   {min(ratios) * floor_s * 1000:8.1f} ms  ratio {min(ratios):5.1f}x")
        print(f"ratio median {statistics.median(ratios):.1f}x, spread {min(ratios):.1f}x..{max(ratios):.1f}x")


if __name__ == "__main__":
    main()
