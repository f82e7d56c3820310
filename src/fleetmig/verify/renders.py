"""Render equivalence: every release the change touches, rendered on both sides with real Helm.

The base side is the fleet at a git revision (`git archive`, in a scratch directory), the head side
the working tree. A release is rendered when an input changed: its descriptor, a values file it
layers, or a file of its chart or of a `file://` dependency. Objects are matched by (group, kind,
namespace, name); the base is rendered twice so that values Helm randomness picks anew are known
and reported as random, not as a regression. A difference passes only when a codemod declared it
(`verify.declared`).
"""

from __future__ import annotations

import difflib
import io
import posixpath
import tarfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import git
import yaml

from fleetmig.errors import InputError
from fleetmig.fleet.components import Release, omitted_components
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.render import RenderFailed, manifests, namespace_of, render_release, same_apart_from_randomness
from fleetmig.fleet.scratch import written
from fleetmig.verify.declared import DECLARATIONS, Key

WORKERS = 2


@dataclass
class Difference:
    release: str
    key: Key
    change: str  # added | removed | changed
    declared_by: str | None
    field: str | None = None
    diff: str = ""

    @property
    def name(self) -> str:
        group, kind, namespace, name = self.key
        return f"{group + '/' if group else ''}{kind} {namespace}/{name}"


@dataclass
class RenderReport:
    rendered: int = 0
    unaffected: int = 0
    differences: list[Difference] = field(default_factory=list)
    random: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    declared_releases: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and all(d.declared_by for d in self.differences)


@contextmanager
def fleet_at(root: Path, revision: str) -> Iterator[Fleet]:
    """The fleet as committed at `revision` (a scratch copy from `git archive`)."""
    try:
        repo = git.Repo(root, search_parent_directories=True)
        top = Path(repo.working_tree_dir or root).resolve()
        prefix = root.resolve().relative_to(top).as_posix()
        archive = repo.git.archive(
            revision, "--format=tar", *([prefix] if prefix != "." else []), stdout_as_string=False
        )
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise InputError("--base needs the fleet to be a git repository", root) from None
    except git.GitCommandError as error:
        raise InputError(f"cannot read revision `{revision}`: {error.stderr.strip()}", root) from None

    def extract(folder: Path) -> None:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(folder, filter="tar")

    with written("fleetmig-base-", extract) as scratch:
        yield Fleet.open(scratch / prefix if prefix != "." else scratch)


def compare(base: Fleet, head: Fleet) -> RenderReport:
    report = RenderReport()
    changed = changed_paths(base, head)
    old, new = charted_releases(base), charted_releases(head)
    work: list[tuple[str, Release | None, Release | None]] = []
    for label in sorted(old.keys() | new.keys()):
        before, after = old.get(label), new.get(label)
        if after is None and before is not None:
            reason = omitted_components(head.policy, before.cluster_type).get(before.component.name)
            if reason:
                report.declared_releases.append(f"{label}: no longer generated ({reason}; b1-local-allowlist)")
                continue
        if before is not None and after is not None and not inputs_changed(base, before, head, after, changed):
            report.unaffected += 1
            continue
        work.append((label, before, after))
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(lambda item: _render_pair(base, head, item), work))
    for label, outcome in zip((w[0] for w in work), results, strict=True):
        if isinstance(outcome, str):
            report.errors.append(f"{label}: {outcome}")
            continue
        report.rendered += 1
        was, again, now = outcome
        report.differences += _differences(label, was, again, now, report)
    return report


def _render_pair(
    base: Fleet, head: Fleet, item: tuple[str, Release | None, Release | None]
) -> tuple[dict[Key, Any], dict[Key, Any], dict[Key, Any]] | str:
    _, before, after = item
    try:
        was = _objects(base, before, fresh=True) if before else {}
        now = _objects(head, after, fresh=False) if after else {}
        # What Helm randomness changes matters only where the two sides differ at all.
        again = _objects(base, before, fresh=True) if before and was != now else was
    except RenderFailed as error:
        return f"does not render: {error}"
    return was, again, now


def _objects(fleet: Fleet, release: Release, *, fresh: bool) -> dict[Key, Any]:
    """The release's objects by (group, kind, namespace, name); an unchanged release reuses the
    base's render (render_release's memo), the base itself is rendered fresh twice for randomness."""
    namespace = namespace_of(fleet, release)
    out: dict[Key, Any] = {}
    for obj in manifests(render_release(fleet, release, fresh=fresh)):
        if isinstance(obj, dict):
            group = str(obj.get("apiVersion", "")).rpartition("/")[0]
            meta = obj.get("metadata") or {}
            out[(group, str(obj.get("kind")), str(meta.get("namespace") or namespace), str(meta.get("name")))] = obj
    return out


def _differences(
    label: str, was: dict[Key, Any], again: dict[Key, Any], now: dict[Key, Any], report: RenderReport
) -> list[Difference]:
    removed = {k: v for k, v in was.items() if k not in now}
    added = {k: v for k, v in now.items() if k not in was}
    changed: dict[Key, tuple[Any, Any]] = {}
    for key in was.keys() & now.keys():
        if was[key] == now[key]:
            continue
        if was[key] != again.get(key) and same_apart_from_randomness(was[key], again.get(key), now[key]):
            report.random.append(f"{label}: {key[1]} {key[2]}/{key[3]} (Helm randomness in the base render)")
            continue
        changed[key] = (was[key], now[key])
    explained: dict[Key, str] = {}
    for declaration in DECLARATIONS:
        for key in declaration.explains(removed, added, changed):
            explained.setdefault(key, f"{declaration.codemod}: {declaration.description}")
    out = [Difference(label, k, "removed", explained.get(k), diff=_yaml_diff(v, None)) for k, v in removed.items()]
    out += [Difference(label, k, "added", explained.get(k), diff=_yaml_diff(None, v)) for k, v in added.items()]
    out += [
        Difference(label, k, "changed", explained.get(k), _first_field(b, a), _yaml_diff(b, a))
        for k, (b, a) in changed.items()
    ]
    return sorted(out, key=lambda d: (d.declared_by is not None, d.key))


def charted_releases(fleet: Fleet) -> dict[str, Release]:
    """The releases that deploy a chart, by label."""
    return {r.label: r for r in fleet.releases if r.component.chart_path}


def inputs_changed(base: Fleet, before: Release, head: Fleet, after: Release, changed: set[str]) -> bool:
    """Whether `changed` holds a file the release renders from, on either side: its descriptor, a
    values file it layers, a file of its chart or of a `file://` dependency."""
    return bool(_inputs(base, before) & changed or _inputs(head, after) & changed)


def _inputs(fleet: Fleet, release: Release) -> set[str]:
    chart = release.component.chart_path or ""
    paths = {release.component.path, *release.value_files}
    folders = [chart]
    meta = fleet.values(f"{chart}/Chart.yaml") if fleet.exists(f"{chart}/Chart.yaml") else None
    for dependency in (meta or {}).get("dependencies") or []:
        repository = str(dependency.get("repository", "")) if isinstance(dependency, dict) else ""
        if repository.startswith("file://"):
            folders.append(posixpath.normpath(posixpath.join(chart, repository[len("file://") :])))
    for folder in folders:
        paths |= set(fleet.files.glob(f"{folder}/**"))
    return paths


def changed_paths(base: Fleet, head: Fleet) -> set[str]:
    """The files created, deleted or changed between the two fleets."""
    names = set(base.files.files()) | set(head.files.files())
    return {
        rel
        for rel in names
        if base.exists(rel) != head.exists(rel) or (base.exists(rel) and base.read_bytes(rel) != head.read_bytes(rel))
    }


def _first_field(before: Any, after: Any, path: str = "") -> str | None:
    if before == after:
        return None
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(before.keys() | after.keys(), key=str):
            found = _first_field(before.get(key), after.get(key), f"{path}.{key}" if path else str(key))
            if found:
                return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (b, a) in enumerate(zip(before, after, strict=True)):
            found = _first_field(b, a, f"{path}[{index}]")
            if found:
                return found
    return path or "(object)"


def _yaml_diff(before: Any, after: Any, limit: int = 40) -> str:
    lines = list(
        difflib.unified_diff(
            yaml.safe_dump(before, sort_keys=True).splitlines() if before is not None else [],
            yaml.safe_dump(after, sort_keys=True).splitlines() if after is not None else [],
            "base",
            "migrated",
            lineterm="",
            n=1,
        )
    )
    return "\n".join(lines[:limit] + (["…"] if len(lines) > limit else []))
