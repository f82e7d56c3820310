"""`fleetmig demo`: write the built-in pre-migration demo fleet and commit it to a new git repo."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import git
import jinja2

from fleetmig.errors import InputError
from fleetmig.resources import shipped_dir

SYMLINKS_FILE = "_symlinks.txt"
_AUTHOR = git.Actor("fleetmig demo", "demo@fleetmig.invalid")


def write_demo(target: Path) -> int:
    """Write the demo fleet into `target` (new or empty) and commit it; returns the file count."""
    source = shipped_dir("templates") / "demo"
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError("demo target must be a new or empty directory", target)
    target.mkdir(parents=True, exist_ok=True)
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(source), keep_trailing_newline=True)
    count = 0
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source).as_posix()
        if path.is_dir() or rel == SYMLINKS_FILE or "__pycache__" in rel:
            continue
        destination = target / rel
        destination.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith(".j2"):
            rendered = environment.get_template(rel).render()
            destination.with_suffix("").write_bytes(rendered.encode("utf-8"))
        else:
            shutil.copyfile(path, destination)
            shutil.copymode(path, destination)
        count += 1
    count += _make_symlinks(source / SYMLINKS_FILE, target)
    repo = git.Repo.init(target, initial_branch="main")
    repo.git.add("--all")
    repo.index.commit("demo fleet: pre-migration state", author=_AUTHOR, committer=_AUTHOR)
    return count


def _make_symlinks(listing: Path, target: Path) -> int:
    if not listing.is_file():
        return 0
    count = 0
    for raw in listing.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        link, _, pointee = (part.strip() for part in line.partition("->"))
        path = target / link
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(pointee, path)
        count += 1
    return count
