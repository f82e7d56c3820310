"""Real Helm renders of the fleet's releases, as Argo CD's repo-server would produce them.

Helm v4 runs in-process through helm-python-sdk (`pip install 'fleetmig[helm]'`). A codemod sees
the fleet with the changes of earlier codemods pending, so a chart is rendered from that view: the
chart folder (and every `file://` dependency it names) is written to a scratch directory first.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import threading
from collections import OrderedDict, deque
from collections.abc import Collection, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from fleetmig.cores import cores
from fleetmig.edit.gotemplate import TemplateSyntaxError, emits_key_line
from fleetmig.errors import FleetmigError, InputError
from fleetmig.fleet.components import Release
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.rendermemo import RenderMemo
from fleetmig.fleet.scratch import written
from fleetmig.fleet.values import SAFE_LOADER

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


def render_release(
    fleet: Fleet, release: Release, values: dict[str, Any] | None = None, *, fresh: bool = False
) -> dict[str, str]:
    """{template: text} of the release's chart with its layered values (or `values`)."""
    assert release.component.chart_path is not None
    return render_chart(
        fleet,
        release.component.chart_path,
        fleet.release_values(release) if values is None else values,
        release.component.name,
        namespace_of(fleet, release),
        fresh=fresh,
    )


def rendered_ahead(
    fleet: Fleet, releases: Iterable[Release]
) -> Iterator[tuple[Release, dict[str, str] | RenderFailed]]:
    """Each release with its render, or why Helm refused it, in order. Helm renders in Go without
    holding Python's lock, so the next few releases render on the other cores meanwhile."""
    pending: deque[tuple[Release, Future[dict[str, str]]]] = deque()
    upcoming = iter(releases)
    threads = cores()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        while True:
            while len(pending) < 2 * threads and (release := next(upcoming, None)) is not None:
                pending.append((release, pool.submit(render_release, fleet, release)))
            if not pending:
                return
            release, future = pending.popleft()
            outcome: dict[str, str] | RenderFailed
            try:
                outcome = future.result()
            except RenderFailed as failure:
                outcome = failure
            yield release, outcome


# 16 Mi characters: all the distinct render text of `plan all` on a 1,000-component synthetic fleet
# (6 Mi), and at 4,000 (25 Mi) still the renders a codemod's re-run asks for again. Measured there,
# `plan all` took 71 s with 12 Mi as with 64 Mi, and 85 s with 4 Mi; peak RSS moved within its noise.
_MEMO = RenderMemo(budget=16 * 2**20)
_CHARTS_LOCK = threading.Lock()


def render_chart(
    fleet: Fleet, chart: str, values: dict[str, Any], name: str, namespace: str, *, fresh: bool = False
) -> dict[str, str]:
    """Renders of the same chart content, values and release are shared within a run (codemods and
    verify render the same releases again and again); `fresh` renders anew, for callers that compare
    two renders to find Helm randomness."""
    if not fleet.exists(f"{chart}/Chart.yaml"):
        raise RenderFailed(f"`{chart}` is not a chart (no Chart.yaml)")
    digest = hashlib.blake2b(digest_size=20)
    _fingerprint(fleet, chart, digest, seen=())
    chart_key = digest.hexdigest()
    digest.update(json.dumps([values, name, namespace], sort_keys=True, default=str).encode())
    key = digest.hexdigest()
    cached = None if fresh else _MEMO.get(key)
    if cached is not None:
        return cached
    loaded, lock = _loaded(fleet, chart, chart_key)
    helm = _helm()
    try:
        with lock:
            rendered: dict[str, str] = loaded.render(values, name=name, namespace=namespace)
    except helm.HelmError as error:
        raise RenderFailed(str(error)) from None
    _MEMO.put(key, rendered)
    return rendered


_CHARTS: OrderedDict[str, tuple[Any, threading.Lock]] = OrderedDict()
_CHARTS_SIZE = 64


def forget() -> None:
    """Drop the shared renders and loaded charts (a benchmark that must render every time)."""
    _MEMO.clear()
    with _CHARTS_LOCK:
        charts = list(_CHARTS.values())
        _CHARTS.clear()
    for chart, lock in charts:
        with lock:
            chart.close()


def _loaded(fleet: Fleet, chart: str, chart_key: str) -> tuple[Any, threading.Lock]:
    """The chart loaded into Helm once per content: the three environments' releases of a chart,
    and every codemod that renders it, reuse it (a chart is written to disk and parsed only once)."""
    helm = _helm()
    with _CHARTS_LOCK:
        entry = _CHARTS.get(chart_key)
        if entry is not None:
            _CHARTS.move_to_end(chart_key)
            return entry
    with _materialized(fleet, chart) as directory:
        try:
            loaded = helm.Chart.load(str(directory))
        except helm.HelmError as error:
            raise RenderFailed(str(error)) from None
    entry = (loaded, threading.Lock())
    evicted = None
    with _CHARTS_LOCK:
        _CHARTS[chart_key] = entry
        if len(_CHARTS) > _CHARTS_SIZE:
            _, evicted = _CHARTS.popitem(last=False)
    if evicted is not None:
        with evicted[1]:  # not while another thread renders it
            evicted[0].close()
    return entry


def manifests(rendered: dict[str, str]) -> list[Any]:
    """The Kubernetes objects a render produced (empty documents and NOTES.txt skipped).

    Shared, not copied: callers compare and read them, never change them."""
    out: list[Any] = []
    for template, text in sorted(rendered.items()):
        if not template.endswith(NOTES):
            out += _documents(text)
    return out


# A key at the start of a line holds a mapping entry (or continues a scalar) of a document, which is
# then not empty: enough to know a template rendered something without parsing it.
_TOP_LEVEL_KEY = re.compile(r"^[A-Za-z_][\w./-]*:(?:[ \t]|$)", re.MULTILINE)


def renders_anything(rendered: dict[str, str]) -> bool:
    """`bool(manifests(rendered))`, parsing only templates whose text shows no top-level key."""
    texts = [text for template, text in sorted(rendered.items()) if not template.endswith(NOTES)]
    return any(_TOP_LEVEL_KEY.search(text) for text in texts) or any(_documents(text) for text in texts)


def surely_renders(fleet: Fleet, release: Release) -> bool:
    """`renders_anything` of the release's render, known without rendering (False: not known).

    True when the chart has a template that outputs a line starting with a mapping key whatever the
    values, or inside an `if .Values.enabled` that wraps it and that the release's values pass, so
    that Helm's render is either refused or not empty. Only for a plain chart: an application chart
    without dependencies or `.helmignore` (what Helm loads is then exactly its folder), none of whose
    `define`s could take a template file's name."""
    chart = release.component.chart_path
    if chart is None or not fleet.exists(f"{chart}/Chart.yaml") or fleet.exists(f"{chart}/.helmignore"):
        return False
    try:
        meta = fleet.values(f"{chart}/Chart.yaml")
    except InputError:
        return False  # Helm refuses it too: the render says so
    if not isinstance(meta, dict) or meta.get("type", "application") != "application" or meta.get("dependencies"):
        return False
    if fleet.files.glob(f"{chart}/charts/**"):
        return False
    texts = {}
    for rel in fleet.files.glob(f"{chart}/templates/**"):
        try:
            texts[rel] = fleet.read_bytes(rel).decode("utf-8")
        except UnicodeDecodeError:
            return False
    if any(_TEMPLATE_FILE_DEFINE.search(text) for text in texts.values()):
        return False
    # Helm renders every file of templates/ but partials (`_*`); NOTES.txt holds no object.
    rendered = [
        text for rel, text in texts.items() if not posixpath.basename(rel).startswith("_") and not rel.endswith(NOTES)
    ]
    return any(_emits(text, None) for text in rendered) or (
        _enabled(fleet, release, chart) and any(_emits(text, ".Values.enabled") for text in rendered)
    )


_TEMPLATE_FILE_DEFINE = re.compile(r"define\s+[\"`][^\"`]*templates/")


def _emits(text: str, gate: str | None) -> bool:
    try:
        return emits_key_line(text, gate)
    except TemplateSyntaxError:
        return False


def _enabled(fleet: Fleet, release: Release, chart: str) -> bool:
    """Whether `.Values.enabled` is true in Helm's render: Helm lays the chart's defaults under the
    values it is given again, so a key those values lack comes back from the defaults."""
    values = fleet.release_values(release)
    if "enabled" in values:
        return values["enabled"] is True
    defaults = fleet.values(f"{chart}/values.yaml") if fleet.exists(f"{chart}/values.yaml") else None
    return isinstance(defaults, dict) and defaults.get("enabled") is True


def objects_of_kinds(rendered: dict[str, str], kinds: Collection[str]) -> list[Any]:
    """The rendered objects whose `kind` is one of `kinds`. A template whose text never names one of
    them cannot render one, so it is not parsed."""
    out: list[Any] = []
    for template, text in sorted(rendered.items()):
        if not template.endswith(NOTES) and any(kind in text for kind in kinds):
            out += [doc for doc in _documents(text) if isinstance(doc, dict) and doc.get("kind") in kinds]
    return out


@lru_cache(maxsize=1024)
def _documents(text: str) -> tuple[Any, ...]:
    """A template's objects, parsed once per text: the releases of a chart across environments and
    the before/again/after renders of a proof mostly produce the same text, template by template."""
    return tuple(doc for doc in yaml.load_all(text, Loader=SAFE_LOADER) if doc)


def objects_by_name(fleet: Fleet, release: Release, *, fresh: bool = False) -> dict[tuple[str, str], Any]:
    """The release's rendered objects keyed by (kind, name)."""
    docs = manifests(render_release(fleet, release, fresh=fresh))
    return {(str(d.get("kind")), str((d.get("metadata") or {}).get("name"))): d for d in docs if isinstance(d, dict)}


def differing_objects(
    fleet: Fleet, release: Release, was: dict[tuple[str, str], Any], now: dict[tuple[str, str], Any]
) -> list[tuple[str, str]]:
    """The objects `was` (the release rendered in `fleet`) and `now` both hold but render
    differently, beyond Helm randomness; in `was`'s order. The release is rendered a second time to
    see what randomness changes only when an object differs at all, which a proof rarely finds."""
    differing = [key for key, obj in was.items() if key in now and obj != now[key]]
    if not differing:
        return []
    again = objects_by_name(fleet, release, fresh=True)
    return [
        key for key in differing if key not in again or not same_apart_from_randomness(was[key], again[key], now[key])
    ]


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
    with written("fleetmig-helm-", lambda folder: _write_chart(fleet, chart, folder / "chart", seen=())) as scratch:
        yield scratch / "chart"


def _fingerprint(fleet: Fleet, folder: str, digest: Any, seen: tuple[str, ...]) -> None:
    """Every byte `_write_chart` would write for the chart, fed to `digest`."""
    if folder in seen:
        return
    for rel in fleet.files.glob(f"{folder}/**"):
        if fleet.exists(rel):
            digest.update(rel.encode() + b"\0" + fleet.read_bytes(rel) + b"\0")
    for source in _file_dependencies(fleet, folder).values():
        _fingerprint(fleet, source, digest, (*seen, folder))


def _file_dependencies(fleet: Fleet, folder: str) -> dict[str, str]:
    """{dependency name: chart folder} of the chart's `file://` dependencies."""
    meta_path = f"{folder}/Chart.yaml"
    meta = fleet.values(meta_path) if fleet.exists(meta_path) else None
    out = {}
    for dependency in (meta or {}).get("dependencies") or []:
        repository = str(dependency.get("repository", "")) if isinstance(dependency, dict) else ""
        if repository.startswith("file://"):
            out[str(dependency.get("name"))] = posixpath.normpath(posixpath.join(folder, repository[len("file://") :]))
    return out


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
    for name, source in _file_dependencies(fleet, folder).items():
        _write_chart(fleet, source, target / "charts" / name, (*seen, folder))
