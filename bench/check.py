"""`fleetmig check` as a ratio to the parsing floor measured in the same run, each in its own process
(fleetmig keeps renders and parses for the rest of a run; a second check in one process would be
served from them and flatter the number).

By default on the demo fleet before and after `apply all` (every rule enabled); `--fleet DIR` checks
an existing fleet instead (e.g. one written by bench/make_fleet.py). The floor is reading every YAML
file and parsing it with PyYAML's C loader (bench/floor.py).
Usage: `python3 bench/check.py [--repeat N] [--fleet DIR]`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from floor import yaml_files
from scale import BENCH, measure

from fleetmig.fleet.demo import write_demo


def timed(argv: list[str], repeat: int) -> list[float]:
    return [wall for wall, _, _ in (measure(argv, 600) for _ in range(repeat)) if wall is not None]


def report(label: str, root: Path, repeat: int) -> None:
    floor = min(timed([sys.executable, str(BENCH / "floor.py"), str(root)], repeat))
    checks = timed([sys.executable, "-m", "fleetmig", "check", "--repo", str(root), "--format", "json"], repeat)
    ratios = [wall / floor for wall in checks]
    print(f"{label}: {len(yaml_files(root))} YAML files, best of {repeat}")
    print(f"  floor (read + CSafeLoader, own process): {floor * 1000:8.1f} ms")
    print(f"  check (own process):                     {min(checks) * 1000:8.1f} ms  ratio {min(ratios):5.1f}x")
    print(f"  ratio median {statistics.median(ratios):.1f}x, spread {min(ratios):.1f}x..{max(ratios):.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fleet", type=Path, help="Check this fleet instead of the demo.")
    args = parser.parse_args()
    if args.fleet is not None:
        report(str(args.fleet), args.fleet, args.repeat)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "fleet"
        write_demo(root)
        report("demo fleet before the migration", root, args.repeat)
        subprocess.run([sys.executable, "-m", "fleetmig", "apply", "all", "--repo", str(root)], capture_output=True)
        report("demo fleet after apply all", root, args.repeat)


if __name__ == "__main__":
    main()
