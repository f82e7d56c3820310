"""Issue 15: an apply killed at any point (SIGKILL after the Nth file operation, or Ctrl-C) leaves the
fleet entirely before or entirely after the run once the next fleetmig command has recovered it, and
two applies never interleave their writes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fleetmig.fleet.demo import write_demo

from .test_cli import fleetmig


def tree_hash(root: Path) -> str:
    """Every path, symlink target and byte of the work tree (not .git)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] == ".git":
            continue
        digest.update(str(rel).encode() + b"\0")
        if path.is_symlink():
            digest.update(b"-> " + os.readlink(path).encode())
        elif path.is_file():
            digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def run_apply(root: Path, target: str, fault: int, signal_name: str = "KILL") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLEETMIG_FAULT_AFTER_WRITES": str(fault), "FLEETMIG_FAULT_SIGNAL": signal_name}
    # As from a terminal, Ctrl-C raises KeyboardInterrupt even where this test runs with SIGINT
    # ignored (a background job inherits that, and Python then installs no handler of its own).
    interactive = (
        "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "sys.argv[0] = 'fleetmig'; runpy.run_module('fleetmig', run_name='__main__')"
    )
    return subprocess.run(
        [sys.executable, "-c", interactive, "apply", target, "--repo", str(root)],
        capture_output=True,
        text=True,
        env=env,
    )


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str, str, int]]:
    """Per target: the pristine demo, its hash before and after a clean apply, and the number of
    file operations that apply performs (journal records, staged files, renames, removals)."""
    out = {}
    for target in ("phase-a", "all"):
        pristine = tmp_path_factory.mktemp("crash") / "demo"
        write_demo(pristine)
        applied = pristine.parent / "applied"
        shutil.copytree(pristine, applied, symlinks=True)
        plan = json.loads(fleetmig("apply", target, "--repo", applied, "--dry-run", "--format", "json").stdout)
        changes = plan["changes"]
        assert fleetmig("apply", target, "--repo", applied).returncode == 0
        final: dict[str, bool] = {}  # path -> written (False: removed), as the writer collapses them
        for change in changes:
            final[change["path"]] = change["kind"] not in ("delete", "move")
            if change["kind"] == "move":
                final[change["new_path"]] = True
        written = sum(final.values())
        operations = 2 + 2 * written + (len(final) - written)
        out[target] = (pristine, tree_hash(pristine), tree_hash(applied), operations)
    return out


def points(operations: int) -> list[int]:
    """The first operations, the staging/committing boundary, the renames, the last one."""
    staged = (operations - 2) // 2
    return sorted({1, 2, 3, staged // 2, staged + 1, staged + 2, staged + 3, staged + 2 + staged // 2, operations})


@pytest.mark.parametrize("target", ["phase-a", "all"])
def test_a_killed_apply_is_rolled_back_or_forward_by_the_next_command(
    states: dict[str, tuple[Path, str, str, int]], target: str, tmp_path: Path
) -> None:
    pristine, before, after, operations = states[target]
    selected = points(operations) if target == "phase-a" else points(operations)[::3]
    outcomes = set()
    for fault in selected:
        root = tmp_path / f"fault-{fault}"
        shutil.copytree(pristine, root, symlinks=True)
        killed = run_apply(root, target, fault)
        assert killed.returncode == -9, (fault, killed.stderr)
        recovery = fleetmig("plan", "phase-a", "--repo", root)
        assert recovery.returncode == 0, recovery.stderr
        assert "an interrupted apply was rolled" in recovery.stderr
        state = tree_hash(root)
        assert state in (before, after), f"fault after operation {fault} left a half-written tree"
        outcomes.add("before" if state == before else "after")
        assert not list(root.rglob("*.fleetmig")) and not (root / ".git/fleetmig/journal.json").exists()
        assert fleetmig("plan", "phase-a", "--repo", root).stderr == ""  # recovered once, reported once
    assert outcomes == {"before", "after"}  # both sides of the commit point were hit


def test_ctrl_c_leaves_the_tree_before_or_after(states: dict[str, tuple[Path, str, str, int]], tmp_path: Path) -> None:
    pristine, before, after, operations = states["phase-a"]
    staged = (operations - 2) // 2
    for fault, expected in ((3, before), (staged + 4, after)):  # while staging; while renaming
        root = tmp_path / f"interrupt-{fault}"
        shutil.copytree(pristine, root, symlinks=True)
        interrupted = run_apply(root, "phase-a", fault, "INT")
        assert interrupted.returncode == 130 and "Traceback" not in interrupted.stderr
        assert tree_hash(root) == expected
        assert not list(root.rglob("*.fleetmig")) and not (root / ".git/fleetmig/journal.json").exists()


def test_a_second_apply_fails_clearly_while_the_first_holds_the_lock(
    states: dict[str, tuple[Path, str, str, int]], tmp_path: Path
) -> None:
    pristine, before, _, _ = states["phase-a"]
    root = tmp_path / "fleet"
    shutil.copytree(pristine, root, symlinks=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from fleetmig.engine import journal\n"
            "with journal.locked(Path(sys.argv[1])):\n    print('locked', flush=True); time.sleep(60)",
            str(root),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        second = fleetmig("apply", "phase-a", "--repo", root)
        assert second.returncode == 2
        assert f"another fleetmig run is writing to this fleet (pid {holder.pid})" in second.stderr
        assert tree_hash(root) == before
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    assert fleetmig("apply", "phase-a", "--repo", root).returncode == 0  # the lock dies with its holder
