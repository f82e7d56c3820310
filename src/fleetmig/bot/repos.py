"""Which repositories a bot run covers: `--repos` inputs expanded, named, and sharded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fleetmig.errors import InputError

_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)")


@dataclass(frozen=True)
class RepoSpec:
    location: str  # a clone URL or a local path, as git accepts it
    name: str  # unique within the run: the workspace folder and the report's key


def read_repos(inputs: list[str]) -> list[RepoSpec]:
    """A list file (one URL or path per line, `#` comments), a git repository, or a folder of them."""
    locations: list[str] = []
    for item in inputs:
        path = Path(item)
        if _URL.match(item):
            locations.append(item)
        elif path.is_file():
            locations += _list_file(path)
        elif path.is_dir():
            found = [path] if _is_repo(path) else sorted(p for p in path.iterdir() if p.is_dir() and _is_repo(p))
            if not found:
                raise InputError("neither a git repository nor a folder of git repositories", path)
            locations += [str(p.resolve()) for p in found]
        else:
            raise InputError("no such file or folder (expected a repository list, a repository or a folder)", path)
    if not locations:
        raise InputError("--repos names no repository")
    return _named(list(dict.fromkeys(locations)))


def _list_file(path: Path) -> list[str]:
    out = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip() if not _URL.match(raw.strip()) else raw.strip()
        if not line:
            continue
        if _URL.match(line):
            out.append(line)
            continue
        local = (path.parent / line).resolve()
        if not _is_repo(local):
            raise InputError(f"`{line}` is not a git repository", path, number)
        out.append(str(local))
    return out


def _is_repo(path: Path) -> bool:
    return (path / ".git").exists() or ((path / "HEAD").is_file() and (path / "objects").is_dir())


def _named(locations: list[str]) -> list[RepoSpec]:
    specs = []
    taken: set[str] = set()
    for location in locations:
        stem = re.sub(r"\.git$", "", location.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]) or "repo"
        name, count = stem, 1
        while name in taken:
            count += 1
            name = f"{stem}-{count}"
        taken.add(name)
        specs.append(RepoSpec(location, name))
    return specs


def parse_shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise InputError(f"--shard `{text}`: expected I/N with 1 <= I <= N, e.g. 2/4")
    return int(match.group(1)), int(match.group(2))


def shard(specs: list[RepoSpec], index: int, total: int) -> list[RepoSpec]:
    """Round-robin over the repositories sorted by location: every shard of a CI matrix gets its
    share, and the same list always splits the same way whatever order it was given in."""
    ordered = sorted(specs, key=lambda spec: spec.location)
    return [spec for position, spec in enumerate(ordered) if position % total == index - 1]
