"""Small fleets written by tests (the golden inputs and the demo cover the big ones)."""

from __future__ import annotations

from pathlib import Path

import git

POLICY = """\
version: 1
clusterTypes:
  local:
    cluster: {name: k3d-ameide, arch: arm64}
"""

LOCAL_GLOBALS = """\
# The cluster this release runs on.
cluster:
  type: k3d
  name: k3d-ameide
storageClass: local-path
"""


def write_fleet(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def small_fleet(root: Path, extra: dict[str, str | bytes] | None = None) -> Path:
    files: dict[str, str | bytes] = {
        "fleetmig.yaml": POLICY,
        "sources/values/cluster/local/globals.yaml": LOCAL_GLOBALS,
        "sources/values/base/globals.yaml": "imageRegistry: ghcr.io/ameideio\n",
    }
    files.update(extra or {})
    return write_fleet(root, files)


def commit_all(root: Path) -> git.Repo:
    repo = git.Repo.init(root, initial_branch="main")
    repo.git.add("--all")
    actor = git.Actor("test", "test@fleetmig.invalid")
    repo.index.commit("fleet", author=actor, committer=actor)
    return repo


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file's bytes (symlinks by target), to prove that nothing was written."""
    out = {}
    for path in sorted(root.rglob("*")):
        if ".git" in path.relative_to(root).parts:
            continue
        if path.is_symlink():
            out[str(path.relative_to(root))] = str(path.readlink()).encode()
        elif path.is_file():
            out[str(path.relative_to(root))] = path.read_bytes()
    return out
