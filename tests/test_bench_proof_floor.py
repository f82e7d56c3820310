"""bench/proof_floor.py runs end to end on a small synthetic fleet: it migrates a copy, finds the
releases the migration touched, and every one of them renders on both sides."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_proof_floor_renders_every_touched_release_on_both_sides(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH / "proof_floor.py"), "--sizes", "10", "--keep", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=BENCH,
    )
    assert run.returncode == 0, run.stderr
    touched = re.search(r"touches (\d+) releases", run.stdout)
    refused = re.search(r"\d+ renders, (\d+) refused", run.stdout)
    assert touched and refused, run.stdout
    assert int(touched.group(1)) > 0 and refused.group(1) == "0"
    for line in ("least `plan all`", "least `apply all`"):
        assert re.search(re.escape(line) + r".*\d+\.\d+x  target", run.stdout), line
    assert (tmp_path / "fleet-10-migrated" / "fleetmig.yaml").is_file()
