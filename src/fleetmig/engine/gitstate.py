"""Which files of a git work tree hold uncommitted changes."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import git


def dirty_paths(root: Path, paths: Iterable[str]) -> list[str]:
    """Those of `paths` (relative to `root`) that are modified, staged or untracked; [] outside git."""
    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return []
    if repo.bare or repo.working_tree_dir is None:
        return []
    top = Path(repo.working_tree_dir).resolve()
    prefix = root.resolve().relative_to(top).as_posix()
    to_repo = {(f"{prefix}/{p}" if prefix != "." else p): p for p in paths}
    # `git status --porcelain` covers staged, unstaged and untracked in one call.
    output = repo.git.status("--porcelain=v1", "-z", "--untracked-files=all", "--", *to_repo)
    dirty = set()
    for record in output.split("\0"):
        if len(record) > 3:
            dirty.add(record[3:])
    return sorted(to_repo[p] for p in to_repo if p in dirty)
