"""fleetmig at fleet scale: every command on synthetic fleets of N components, as ratios to the floor.

For each N (default 250, 1000, 4000) a fleet is written by bench/make_fleet.py, then each command
runs as its own process, as a user runs it: `plan all`, `apply all --dry-run`, `apply all`, a second
`apply all` (nothing left: the no-op), `check` and `verify waves` on the migrated fleet. The floor, in
its own process the same way, reads every YAML file and parses it with PyYAML's C loader. Printed per
command: wall time, peak RSS, ratio to the floor; then the scaling exponent between consecutive N
(log of the time ratio over log of the N ratio; 1.0 is linear).
Usage: `python3 bench/scale.py [--sizes 250,1000,4000] [--timeout S] [--keep DIR]`.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from floor import yaml_files
from make_fleet import make_fleet

BENCH = Path(__file__).resolve().parent
COMMANDS = {
    "plan all": ["plan", "all", "--format", "json"],
    "apply all --dry-run": ["apply", "all", "--dry-run", "--format", "json"],
    "apply all": ["apply", "all", "--format", "json"],
    "apply all (no-op)": ["apply", "all", "--format", "json"],
    "check": ["check", "--format", "json"],
    "verify waves": ["verify", "waves", "--format", "json"],
}
TARGETS = {"plan all": 2.0, "apply all (no-op)": 2.0, "check": 3.0, "apply all": 8.0}


def measure(argv: list[str], timeout: float) -> tuple[float | None, float, int]:
    """Wall seconds (None on timeout), peak RSS in MB and exit code of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
            return None, usage.ru_maxrss / 1024, -9
        time.sleep(0.02)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def run_size(components: int, root: Path, timeout: float) -> dict[str, tuple[float | None, float, int]]:
    make_fleet(root, components)
    files = len(yaml_files(root))
    floor = min(measure([sys.executable, str(BENCH / "floor.py"), str(root)], timeout)[0] or math.inf for _ in range(3))
    results = {"floor": (floor, 0.0, 0)}
    print(f"\nN={components}: {files} YAML files; floor (read + CSafeLoader, own process) {floor:.2f} s", flush=True)
    print(f"  {'command':22} {'wall s':>9} {'RSS MB':>8} {'ratio':>8} {'target':>7}  exit")
    for label, args in COMMANDS.items():
        wall, rss, code = measure([sys.executable, "-m", "fleetmig", *args, "--repo", str(root)], timeout)
        results[label] = (wall, rss, code)
        ratio = f"{wall / floor:7.1f}x" if wall is not None else " timeout"
        target = f"{TARGETS[label]:5.0f}x" if label in TARGETS else ""
        shown = f"{wall:9.2f}" if wall is not None else f">{timeout:8.0f}"
        print(f"  {label:22} {shown} {rss:8.0f} {ratio:>8} {target:>7}  {code}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="250,1000,4000")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--keep", type=Path, help="Write the fleets here and keep them.")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    table = {}
    with tempfile.TemporaryDirectory() as scratch:
        base = args.keep or Path(scratch)
        for size in sizes:
            table[size] = run_size(size, base / f"fleet-{size}", args.timeout)
    print("\nscaling exponent (1.0 = linear):")
    for small, large in itertools.pairwise(sizes):
        for label in ["floor", *COMMANDS]:
            before, after = table[small][label][0], table[large][label][0]
            if before and after:
                exponent = math.log(after / before) / math.log(large / small)
                print(f"  {label:22} N {small} -> {large}: {exponent:.2f}")


if __name__ == "__main__":
    main()
