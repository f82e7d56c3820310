"""A full `fleetmig verify` of the demo fleet after `apply all`, against a bare Helm render.

Prints the wall time of the verify, the releases it rendered (both sides, the base twice), renders
per second, and the ratio of its cost per render to one bare `helm_python.Chart.render` of a demo
chart measured in the same run, so the number means the same on any machine.
Usage: `python3 bench/verify.py [--repeat N]`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import helm_python

from fleetmig.engine import registry, runner
from fleetmig.fleet import render
from fleetmig.fleet.demo import write_demo
from fleetmig.fleet.model import Fleet
from fleetmig.verify.run import verify

CHART = "sources/charts/platform/backstage"


def bare_render(root: Path, repeat: int) -> float:
    """Seconds for one in-process render of a demo chart with its defaults (best of `repeat`)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        chart = helm_python.Chart.load(str(root / CHART))
        try:
            chart.render({}, name="bench", namespace="bench")
        finally:
            chart.close()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "fleet"
        write_demo(root)
        base = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
        # Before the migration: afterwards the chart requires the fleet contract a bare render lacks.
        single = bare_render(root, args.repeat * 5)
        runner.apply(Fleet.open(root), registry.all_codemods(), write=True, allow_dirty=False)
        runs = []
        report = None
        for _ in range(args.repeat):
            render.forget()  # every repetition renders, as a fresh `fleetmig verify` would
            start = time.perf_counter()
            report = verify(root, base.strip(), check_waves=False, schemas=False)
            runs.append(time.perf_counter() - start)
        assert report is not None and report.render is not None
        renders = report.render.rendered * 3  # base twice (randomness), migrated once
        best = min(runs)
        print(f"demo fleet after apply all: {report.render.rendered} releases verified, {renders} renders")
        print(f"bare Chart.render:        {single * 1000:8.2f} ms")
        print(f"verify (render only):     {best * 1000:8.2f} ms  ({renders / best:.1f} renders/s)")
        print(f"cost per render:          {best / renders / single:8.2f}x a bare render")
        spread = f"{min(runs):.2f}s .. {max(runs):.2f}s, median {statistics.median(runs):.2f}s"
        print(f"spread over {args.repeat} runs: {spread}")


if __name__ == "__main__":
    main()
