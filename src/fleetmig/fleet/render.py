"""Real Helm renders of the fleet's releases, as Argo CD's repo-server would produce them.

Helm v4 runs in-process through helm-python-sdk (`pip install 'fleetmig[helm]'`). A codemod sees
the fleet with the changes of earlier codemods pending, so a chart is rendered from that view: the
chart folder (and every `file://` dependency it names) is written to a scratch directory first.
"""

from __future__ import annotations

import posixpath
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from fleetmig.errors import FleetmigError
from fleetmig.fleet.components import Release
from fleetmig.fleet.model import Fleet

NOTES = "NOTES.txt"


class HelmUnavailable(FleetmigError):
    """helm-python-sdk is not installed."""


class RenderFailed(Exception):
    """Helm refused to render (template error, schema violation); the message is Helm's."""


def namespace_of(fleet: Fleet, release: Release) -> str:
    """The namespace Argo CD deploys the release to: the cluster config's, else the descriptor's."""
    entry = next((e for e in fleet.cluster_entries if e.env == release.env), None)
    if entry is not None and entry.namespace:
        return entry.namespace
    data = fleet.values(release.component.path)
    namespace = data.get("namespace") if isinstance(data, dict) else None
    return namespace if isinstance(namespace, str) else "default"


def render_release(fleet: Fleet, release: Release, values: dict[str, Any] | None = None) -> dict[str, str]:
    """{template: text} of the release's chart with its layered values (or `values`)."""
    assert release.component.chart_path is not None
    return render_chart(
        fleet,
        release.component.chart_path,
        fleet.release_values(release) if values is None else values,
        release.component.name,
        namespace_of(fleet, release),
    )


def render_chart(fleet: Fleet, chart: str, values: dict[str, Any], name: str, namespace: str) -> dict[str, str]:
    helm = _helm()
    if not fleet.exists(f"{chart}/Chart.yaml"):
        raise RenderFailed(f"`{chart}` is not a chart (no Chart.yaml)")
    with _materialized(fleet, chart) as directory:
        try:
            loaded = helm.Chart.load(str(directory))
        except helm.HelmError as error:
            raise RenderFailed(str(error)) from None
        try:
            rendered: dict[str, str] = loaded.render(values, name=name, namespace=namespace)
        except helm.HelmError as error:
            raise RenderFailed(str(error)) from None
        finally:
            loaded.close()
    return rendered


def manifests(rendered: dict[str, str]) -> list[Any]:
    """The Kubernetes objects a render produced (empty documents and NOTES.txt skipped)."""
    out = []
    for template, text in sorted(rendered.items()):
        if template.endswith(NOTES):
            continue
        out += [doc for doc in yaml.safe_load_all(text) if doc]
    return out


def objects_by_name(fleet: Fleet, release: Release) -> dict[tuple[str, str], Any]:
    """The release's rendered objects keyed by (kind, name)."""
    docs = manifests(render_release(fleet, release))
    return {(str(d.get("kind")), str((d.get("metadata") or {}).get("name"))): d for d in docs if isinstance(d, dict)}


def same_apart_from_randomness(first: Any, second: Any, candidate: Any) -> bool:
    """`candidate` equals `first` wherever two renders of the same input (`first`, `second`) agree;
    where they differ (Helm randomness), it only has to be a value of the same type."""
    if first == second:
        return bool(candidate == first)
    if isinstance(first, dict) and isinstance(second, dict) and isinstance(candidate, dict):
        return first.keys() == candidate.keys() and all(
            same_apart_from_randomness(first[k], second.get(k), candidate[k]) for k in first
        )
    if isinstance(first, list) and isinstance(second, list) and isinstance(candidate, list):
        return len(first) == len(candidate) == len(second) and all(
            same_apart_from_randomness(a, b, c) for a, b, c in zip(first, second, candidate, strict=True)
        )
    return type(first) is type(candidate)


def _helm() -> Any:
    try:
        import helm_python
    except ImportError:
        raise HelmUnavailable(
            "rendering charts needs Helm: install fleetmig with the helm extra (pip install 'fleetmig[helm]')"
        ) from None
    return helm_python


@contextmanager
def _materialized(fleet: Fleet, chart: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="fleetmig-helm-") as scratch:
        target = Path(scratch, "chart")
        _write_chart(fleet, chart, target, seen=())
        yield target


def _write_chart(fleet: Fleet, folder: str, target: Path, seen: tuple[str, ...]) -> None:
    """The chart's files, with every `file://` dependency copied into its `charts/` as
    `helm dependency build` does (Argo CD runs it before rendering a chart with dependencies)."""
    if folder in seen:
        raise RenderFailed(f"`{folder}` depends on itself through file:// dependencies")
    for rel in fleet.files.glob(f"{folder}/**"):
        if fleet.exists(rel):
            path = target / rel[len(folder) + 1 :]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(fleet.read_bytes(rel))
    meta_path = f"{folder}/Chart.yaml"
    meta = fleet.values(meta_path) if fleet.exists(meta_path) else None
    for dependency in (meta or {}).get("dependencies") or []:
        repository = str(dependency.get("repository", "")) if isinstance(dependency, dict) else ""
        if repository.startswith("file://"):
            source = posixpath.normpath(posixpath.join(folder, repository[len("file://") :]))
            _write_chart(fleet, source, target / "charts" / str(dependency.get("name")), (*seen, folder))
