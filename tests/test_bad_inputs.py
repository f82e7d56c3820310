"""Issue 15: every case of the bad-input corpus (tests/bad_inputs/cases.py) through `plan`, `apply`,
`check` and `verify`: each succeeds or exits 2 naming the file and line, never a traceback or a
hang, and a command that fails (or only reads) leaves every byte of the tree as it was."""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import signal
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from types import FrameType

import pytest

from fleetmig import cli

from .bad_inputs.cases import CASES, Case, mini_fleet
from .fleets import commit_all

COMMANDS = {
    "plan": ["plan", "all", "--format", "json"],
    "check": ["check", "--format", "json"],
    "verify": ["verify", "--base", "HEAD", "--no-schemas", "--format", "json"],
    "apply": ["apply", "all", "--allow-dirty", "--format", "json"],  # last: it may change the tree
}
TIME_LIMIT = 120  # seconds per command: far above any case, far below a hang


def tree_state(root: Path) -> str:
    digest = hashlib.sha256()
    for directory, folders, files in os.walk(root):
        folders[:] = sorted(f for f in folders if f != ".git")
        for name in sorted(files + [f for f in folders if os.path.islink(os.path.join(directory, f))]):
            path = Path(directory, name)
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            if path.is_symlink():
                digest.update(os.readlink(path).encode())
            elif path.is_file() and os.access(path, os.R_OK):
                digest.update(path.read_bytes())
            digest.update(f"{path.lstat().st_mode}".encode())
    return digest.hexdigest()


def run(args: list[str]) -> tuple[int, str, str]:
    """fleetmig in this process (a new interpreter per command would triple the corpus' run time)."""
    out, err = io.StringIO(), io.StringIO()

    def hung(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"fleetmig {' '.join(args[:2])} did not finish in {TIME_LIMIT}s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(TIME_LIMIT)
    argv = sys.argv
    sys.argv = ["fleetmig", *args]
    code = 0
    try:
        with redirect_stdout(out), redirect_stderr(err):
            cli.main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        sys.argv = argv
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad") / "mini"
    mini_fleet(root)
    commit_all(root)
    code, _, err = run(["plan", "all", "--repo", str(root), "--format", "json"])
    assert code == 0, err
    return root


def test_the_corpus_has_forty_cases() -> None:
    assert len(CASES) >= 40 and len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_bad_input(case: Case, base: Path, tmp_path: Path) -> None:
    if case.as_root_skip and os.geteuid() == 0:
        pytest.skip("file permissions do not bind root")
    root = tmp_path / "fleet"
    shutil.copytree(base, root, symlinks=True)
    case.build(root)
    try:
        for command, args in COMMANDS.items():
            before = tree_state(root)
            code, _, err = run([*args, "--repo", str(root)])
            assert "Traceback" not in err and "internal error" not in err, f"{command}: {err}"
            assert code in (0, 1, 2), f"{command} exited {code}: {err}"
            if code == 2:
                where = re.escape(case.names) + (f":{case.line}" if case.line is not None else r":\d+")
                assert re.search(where, err), f"{command} does not name {case.names} and a line: {err}"
            if command != "apply" or code == 2:
                assert tree_state(root) == before, f"{command} changed the tree"
            if command == "plan" and case.ok:
                assert code == 0, f"valid input refused: {err}"
    finally:
        for path in root.rglob("*"):  # let pytest clean up what the case made unreadable
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() else 0o644)
