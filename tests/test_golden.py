"""Byte-exact golden trees: tests/golden/<codemod-id>/<case>/{input,expected}/.

Each case copies `input/` to a temp dir, applies the codemod through the real runner (atomic
writes, idempotency guard), compares every resulting file byte for byte with `expected/` and the
findings a human must act on with `findings.txt` (`pytest --snapshot-update` regenerates both),
then proves a second apply changes nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from fleetmig.engine import registry, runner
from fleetmig.fleet.model import Fleet

from .conftest import GOLDEN

CASES = sorted(p for p in GOLDEN.glob("*/*") if (p / "input").is_dir())


def tree(root: Path) -> dict[str, Any]:
    """Every file's bytes; a symlink is written down as its target, so that one left in place
    (or one replaced by a file) shows in the snapshot."""
    out: dict[str, Any] = {}
    for path in sorted(root.iterdir()):
        if path.is_symlink():
            out[path.name] = f"symlink -> {path.readlink()}\n".encode()
        elif path.is_dir():
            out[path.name] = tree(path)
        else:
            out[path.name] = path.read_bytes()
    return out


@pytest.mark.parametrize("case", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_golden(case: Path, tmp_path: Path, snapshot: Any) -> None:
    (codemod,) = registry.select(case.parent.name)
    work = tmp_path / "fleet"
    shutil.copytree(case / "input", work, symlinks=True)

    result = runner.apply(Fleet.open(work), [codemod], write=True, allow_dirty=True)

    snapshot.snapshot_dir = case
    snapshot.assert_match_dir(tree(work), "expected")
    manual = [f"{f.location}: {f.message}\n" for run in result.runs for f in run.findings if not f.pending]
    snapshot.assert_match("".join(manual), "findings.txt")
    again = runner.simulate(Fleet.open(work), [codemod])
    assert not again.changes, f"second apply is not a no-op: {[c.path for c in again.changes]}"


def test_every_codemod_has_golden_cases() -> None:
    covered = {case.parent.name for case in CASES}
    missing = [cls.id for cls in registry.all_codemods() if cls.id not in covered]
    assert not missing, f"codemods without golden cases: {missing}"
