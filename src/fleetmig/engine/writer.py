"""Write a whole run's changes so that an error before the first rename leaves every file as it was."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path

from fleetmig.engine.changeset import FileChange
from fleetmig.errors import InputError


def write_atomically(root: Path, changes: Sequence[FileChange]) -> None:
    """Stage every new content in a temp file beside its target, then rename them all into place."""
    staged: list[tuple[Path, Path]] = []
    removals: list[Path] = []
    try:
        for change in changes:
            if change.kind == "delete":
                removals.append(_inside(root, change.path))
                continue
            target = _inside(root, change.new_path if change.kind == "move" else change.path)
            assert change.after is not None
            staged.append((_stage(target, change.after, _inside(root, change.path)), target))
            if change.kind == "move":
                removals.append(_inside(root, change.path))
    except BaseException:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
        raise
    for temp, target in staged:
        os.replace(temp, target)
    for path in removals:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _inside(root: Path, rel: str | None) -> Path:
    assert rel is not None
    # The folder is resolved, not the entry: a symlink is replaced or removed itself, never written through.
    path = (root / rel).parent.resolve() / Path(rel).name
    if not path.is_relative_to(root.resolve()):
        raise InputError("refusing to write outside the fleet root", rel)
    return root / rel


def _stage(target: Path, content: bytes, mode_from: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".fleetmig", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(name, stat.S_IMODE(mode_from.stat().st_mode))
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def undo(root: Path, changes: Sequence[FileChange]) -> None:
    """Put back what `changes` replaced (after they were written): the inverse, written the same way."""
    inverse: list[FileChange] = []
    links: list[tuple[Path, str]] = []
    for change in reversed(changes):
        if change.kind == "create":
            inverse.append(FileChange("delete", change.path, change.after, None, change.codemod, "undo"))
        elif change.kind == "delete":
            assert change.before is not None
            inverse.append(FileChange("create", change.path, None, change.before, change.codemod, "undo"))
        elif change.kind == "move":
            assert change.new_path is not None
            inverse.append(
                FileChange(
                    "move", change.new_path, change.after, change.before, change.codemod, "undo", None, change.path
                )
            )
        elif change.kind == "materialize":
            assert change.before is not None
            links.append((_inside(root, change.path), change.before.decode()))
        else:
            inverse.append(FileChange("edit", change.path, change.after, change.before, change.codemod, "undo"))
    write_atomically(root, inverse)
    for path, target in links:
        path.unlink(missing_ok=True)
        os.symlink(target, path)
