"""Write a whole run's changes all-or-nothing, through the journal (engine/journal.py)."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fleetmig.engine import journal
from fleetmig.engine.changeset import FileChange
from fleetmig.errors import InputError

# Staging waits on fsync, that is on the disk, not the CPU: several writes in flight let the disk
# batch them (a migration at fleet scale writes thousands of files).
STAGING_THREADS = 8


def write_atomically(root: Path, changes: Sequence[FileChange]) -> None:
    """All of `changes` or none of them, even if the process dies midway (see engine/journal.py):
    stage every new content in a temp file beside its target, then rename them all into place."""
    run = f"{os.getpid()}-{secrets.token_hex(4)}"
    # The final state of every path the run touches (several codemods may change one file).
    final: dict[Path, tuple[bytes | None, Path]] = {}
    for change in changes:
        source = _inside(root, change.path)
        if change.kind == "delete":
            final[source] = (None, source)
            continue
        assert change.after is not None
        if change.kind == "move":
            final[source] = (None, source)
            target = _inside(root, change.new_path)
            final[target] = (change.after, source)
        else:
            final[source] = (change.after, final.get(source, (None, source))[1])
    staged = [
        (target.parent / f".{target.name}.{run}.fleetmig", target)
        for target, (content, _) in final.items()
        if content is not None
    ]
    removals = [target for target, (content, _) in final.items() if content is None]
    contents = [content for content, _ in final.values() if content is not None]
    modes = [mode_from for content, mode_from in final.values() if content is not None]
    with journal.locked(root):
        log = journal.Journal(root)
        made = journal.missing_folders([target for _, target in staged])
        log.record("staging", staged, removals, made)
        try:
            with ThreadPoolExecutor(max_workers=STAGING_THREADS) as pool:
                writes = [
                    pool.submit(_stage, temp, content, mode_from)
                    for (temp, _), content, mode_from in zip(staged, contents, modes, strict=True)
                ]
                try:
                    for write in writes:
                        write.result()
                        log.tick()
                except BaseException:
                    pool.shutdown(wait=True, cancel_futures=True)  # no write may outlive the cleanup
                    raise
            log.record("committing", staged, removals, made)
        except BaseException:
            for temp, _ in staged:
                temp.unlink(missing_ok=True)
            journal.remove_made(made)
            log.clear()
            raise
        with journal.uninterruptible():
            for temp, target in staged:
                os.replace(temp, target)
                log.tick()
            for path in removals:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                log.tick()
            log.clear()


def _inside(root: Path, rel: str | None) -> Path:
    assert rel is not None
    # The folder is resolved, not the entry: a symlink is replaced or removed itself, never written through.
    path = (root / rel).parent.resolve() / Path(rel).name
    if not path.is_relative_to(root.resolve()):
        raise InputError("refusing to write outside the fleet root", rel)
    return root / rel


def _stage(temp: Path, content: bytes, mode_from: Path) -> None:
    temp.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temp, stat.S_IMODE(mode_from.stat().st_mode))
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


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
