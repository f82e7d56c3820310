"""Read access to a fleet's files, with pending changes layered over the disk.

Codemods run one after another in memory: each sees the files as the earlier ones left them, and
nothing touches the disk until the whole run has been prepared and checked.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Mapping
from pathlib import Path

from fleetmig.errors import InputError
from fleetmig.fleet import reads

# Folders that never hold fleet content; walking them would only cost time.
_SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".venv", "__pycache__"})


def under(*folders: str) -> tuple[str, ...]:
    """Prefixes of the paths inside `folders`, for `str.startswith`."""
    return tuple(folder.rstrip("/") + "/" for folder in folders)


class _OnDisk:
    """No pending content: the file is as the disk has it."""


_ON_DISK = _OnDisk()
_FOLD_AT = 256  # pending changes a view copies before it folds them into a new base


class FileView:
    """The fleet's files: the disk under `root`, overlaid with pending contents (None = deleted)."""

    def __init__(self, root: Path, overlay: Mapping[str, bytes | None] | None = None) -> None:
        self.root = root
        # Pending contents in two levels: a derived view shares its parent's `_base` and copies only
        # `_top`, what changed since the base was last folded in. Codemods derive a view for every
        # candidate they prove, and copying every pending file each time made that quadratic.
        self._base: dict[str, bytes | None] = dict(overlay or {})
        self._top: dict[str, bytes | None] = {}
        self._disk_cache: dict[str, bytes] = {}
        self._disk_files: dict[str, bool] = {}  # is_file() answers: the disk does not change during a run
        self._listing: list[str] | None = None
        self._files: list[str] | None = None  # listing with the overlay applied

    def with_contents(self, contents: Mapping[str, bytes | None]) -> FileView:
        view = FileView(self.root)
        view._disk_cache = self._disk_cache  # the disk does not change during a run
        view._disk_files = self._disk_files
        view._listing = self._listing
        top = {**self._top, **contents}
        if len(top) > _FOLD_AT:
            view._base = {**self._base, **top}
        else:
            view._base, view._top = self._base, top
        if self._files is not None:
            # Edits leave the listing as it is (and shared); creations and deletions patch a copy.
            names = self._files
            for rel, content in contents.items():
                index = bisect.bisect_left(names, rel)
                present = index < len(names) and names[index] == rel
                if present == (content is not None):
                    continue
                if names is self._files:
                    names = names.copy()
                if present:
                    del names[index]
                else:
                    names.insert(index, rel)
            view._files = names
        return view

    def _pending(self, rel: str) -> bytes | _OnDisk | None:
        top = self._top
        return top[rel] if rel in top else self._base.get(rel, _ON_DISK)

    def exists(self, rel: str) -> bool:
        reads.path(rel)
        content = self._pending(rel)
        if not isinstance(content, _OnDisk):
            return content is not None
        known = self._disk_files.get(rel)
        if known is None:
            known = self._disk_files[rel] = (self.root / rel).is_file()
        return known

    def is_dir(self, rel: str) -> bool:
        reads.path(rel)
        reads.listing(rel.rstrip("/") + "/**")
        return isinstance(self._pending(rel), _OnDisk) and (self.root / rel).is_dir()

    def read_bytes(self, rel: str) -> bytes:
        reads.path(rel)
        content = self._pending(rel)
        if not isinstance(content, _OnDisk):
            if content is None:
                raise InputError("file was deleted by an earlier codemod in this run", rel)
            return content
        cached = self._disk_cache.get(rel)
        if cached is not None:
            return cached
        path = self.root / rel
        try:
            data = path.read_bytes()
        except IsADirectoryError:
            raise InputError("expected a file, found a directory", rel) from None
        except FileNotFoundError:
            raise InputError("file not found", rel) from None
        except OSError as err:
            raise InputError(f"cannot read file: {err.strerror}", rel) from None
        self._disk_cache[rel] = data
        return data

    def link_target(self, rel: str) -> str | None:
        """What the symlink at `rel` points to, as written in the link; None when it is not one
        (a path with pending content is a regular file by then)."""
        reads.path(rel)
        if not isinstance(self._pending(rel), _OnDisk):
            return None
        path = self.root / rel
        return os.readlink(path) if path.is_symlink() else None

    def files(self) -> list[str]:
        """Every file path (POSIX, relative to the root), disk and overlay, sorted."""
        reads.listing("**")
        return list(self._sorted_files())

    def _sorted_files(self) -> list[str]:
        if self._files is None:
            if self._listing is None:
                found, regular = _walk(self.root)
                self._listing = sorted(found)
                self._disk_files.update(dict.fromkeys(regular, True))  # `exists` need not stat them
            overlay = {**self._base, **self._top}
            names = {name for name in self._listing if overlay.get(name, b"") is not None}
            names.update(name for name, content in overlay.items() if content is not None)
            self._files = sorted(names)
        return self._files

    def glob(self, pattern: str) -> list[str]:
        """Paths matching a glob in which `**` spans folders (as in Argo CD's git files generator)."""
        reads.listing(pattern)
        # Only the names under the pattern's literal prefix are tested: globbing one chart's folder
        # must not cost a scan of the whole fleet. A folder's `**` matches every one of them, which
        # spares compiling a pattern per chart.
        prefix = reads.literal_prefix(pattern)
        every = pattern == f"{prefix}**" and (not prefix or prefix.endswith("/"))
        match = None if every else reads.glob_regex(pattern).match
        names = self._sorted_files()
        out = []
        for index in range(bisect.bisect_left(names, prefix), len(names)):
            name = names[index]
            if not name.startswith(prefix):
                break
            if match is None or match(name):
                out.append(name)
        return out


def _walk(root: Path) -> tuple[list[str], list[str]]:
    """The files under `root` as `os.walk` finds them (a symlinked folder is not entered, one that
    cannot be read is skipped), and which of them are regular files (not links), named as strings:
    a path object per file costs more than the walk."""
    names: list[str] = []
    regular: list[str] = []
    folders = [(str(root), "")]
    while folders:
        folder, prefix = folders.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            continue
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if not is_dir:
                names.append(prefix + entry.name)
                if entry.is_file(follow_symlinks=False):
                    regular.append(prefix + entry.name)
            elif not entry.is_symlink() and entry.name not in _SKIP_DIRS:
                folders.append((entry.path, f"{prefix}{entry.name}/"))
    return names, regular
