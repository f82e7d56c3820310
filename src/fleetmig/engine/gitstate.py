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
    # `git status --porcelain` covers staged, unstaged and untracked in one call. It is asked about
    # the fleet's folder as a whole: git matches every path against every pathspec, so naming the
    # thousands of files a migration touches made this call quadratic (10 s for 20,000 paths).
    output = repo.git.status("--porcelain=v1", "-z", "--untracked-files=all", "--", prefix)
    dirty = set()
    records = iter(output.split("\0"))
    for record in records:
        if len(record) > 3:
            dirty.add(record[3:])
            if {"R", "C"} & set(record[:2]):  # a rename or copy: its source path is the next record
                dirty.add(next(records, ""))
    return sorted(to_repo[p] for p in to_repo if p in dirty)
