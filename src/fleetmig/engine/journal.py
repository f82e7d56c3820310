"""Crash consistency for apply: a journal makes a run's writes all-or-nothing, and a lock keeps two
runs from interleaving.

A run stages every new content in a temp file beside its target (the tree is untouched), records
the staged files in the journal with state `staging` first and `committing` once all are on disk
(fsynced), then renames them into place and removes what the run deletes. Whatever kills the
process (SIGKILL, power loss, Ctrl-C), the next fleetmig command on the fleet finds the journal and
rolls back (`staging`: delete the temp files, the tree is as before) or forward (`committing`:
finish the renames and removals, the tree is as after), and reports which.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fleetmig.errors import InputError

JOURNAL = "journal.json"
LOCK = "lock"
FAULT_ENV = "FLEETMIG_FAULT_AFTER_WRITES"  # tests only: signal this process after N file operations …
FAULT_SIGNAL_ENV = "FLEETMIG_FAULT_SIGNAL"  # … with this signal (KILL by default; INT is a Ctrl-C)


def state_dir(root: Path) -> Path:
    """`.git/fleetmig/` in a git work tree (never part of a commit); for a fleet outside git, a folder
    of the user's cache named after the fleet's path (fleetmig never adds files to the tree)."""
    git_dir = root / ".git"
    if git_dir.is_dir():
        return git_dir / "fleetmig"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "fleetmig" / "runs" / hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:24]


@dataclass
class Recovered:
    action: str  # "rolled back" | "rolled forward"
    files: int

    def __str__(self) -> str:
        return f"an interrupted apply was {self.action} ({self.files} file{'s' * (self.files != 1)})"


_HELD: dict[Path, int] = {}  # roots this process holds the lock of (re-entrant: apply, then write)


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold the fleet's write lock; a second writer fails at once, naming the holder."""
    key = root.resolve()
    if _HELD.get(key):
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    directory = state_dir(root)
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / LOCK, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise InputError(
                f"another fleetmig run is writing to this fleet ({holder}); wait for it to finish", root
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        _HELD[key] = 1
        try:
            yield
        finally:
            del _HELD[key]
            handle.seek(0)
            handle.truncate()


class Journal:
    """One run's record of staged files (temp → target) and removals, relative to the root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = state_dir(root) / JOURNAL
        self._operations = 0
        limit = os.environ.get(FAULT_ENV)
        self._fault_after = int(limit) if limit and limit.isdigit() else None
        self._fault_signal = getattr(signal, f"SIG{os.environ.get(FAULT_SIGNAL_ENV, 'KILL')}", signal.SIGKILL)

    def tick(self) -> None:
        """Count one file operation; the fault-injection hook kills the process at the Nth."""
        self._operations += 1
        if self._fault_after is not None and self._operations == self._fault_after:
            os.kill(os.getpid(), self._fault_signal)

    def record(self, state: str, staged: list[tuple[Path, Path]], removals: list[Path], made: list[Path]) -> None:
        """`made`: the folders staging creates (a rollback removes them again)."""
        entry = {
            "state": state,
            "pid": os.getpid(),
            "staged": [[self._rel(temp), self._rel(target)] for temp, target in staged],
            "removals": [self._rel(path) for path in removals],
            "made": [self._rel(path) for path in made],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_suffix(".tmp")
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump(entry, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, self.path)
        _fsync_dir(self.path.parent)
        self.tick()

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def recover(root: Path) -> Recovered | None:
    """Finish or undo a run that did not end; None when there was none."""
    path = state_dir(root) / JOURNAL
    if not path.is_file():
        return None
    with locked(root):
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            # The journal itself was cut short: it is written before any temp file, so nothing was staged.
            path.unlink(missing_ok=True)
            return Recovered("rolled back", 0)
        staged = [(root / temp, root / target) for temp, target in entry.get("staged", [])]
        if entry.get("state") == "committing":
            for temp, target in staged:
                if temp.exists():
                    os.replace(temp, target)
            for rel in entry.get("removals", []):
                with contextlib.suppress(FileNotFoundError):
                    (root / rel).unlink()
            result = Recovered("rolled forward", len(staged) + len(entry.get("removals", [])))
        else:
            for temp, _ in staged:
                temp.unlink(missing_ok=True)
            remove_made([root / rel for rel in entry.get("made", [])])
            result = Recovered("rolled back", len(staged))
        path.unlink(missing_ok=True)
        return result


def missing_folders(targets: list[Path]) -> list[Path]:
    """The folders that do not exist yet above `targets`, parents first."""
    missing: dict[Path, None] = {}
    for target in targets:
        chain = []
        folder = target.parent
        while not folder.exists():
            chain.append(folder)
            folder = folder.parent
        missing.update((f, None) for f in reversed(chain))
    return list(missing)


def remove_made(folders: list[Path]) -> None:
    for folder in reversed(folders):  # children first
        with contextlib.suppress(OSError):
            folder.rmdir()


@contextlib.contextmanager
def uninterruptible() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the renames are done (then take effect): never half a tree."""
    blocked = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
