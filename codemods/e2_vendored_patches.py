"""E2: fleet patches inside vendored charts move into the wrappers; the vendored trees go back to pristine."""

from __future__ import annotations

import difflib
import gzip
import hashlib
import io
import posixpath
import re
import tarfile
from dataclasses import dataclass
from typing import Any

import yaml

from fleetmig.edit.gotemplate import TemplateSyntaxError, wrapping_if
from fleetmig.edit.yaml import YamlEditor
from fleetmig.engine import Changeset, Codemod
from fleetmig.errors import EditRefused
from fleetmig.fleet.components import Release
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.render import RenderFailed, differing_objects, objects_by_name

LOCK = "charts.lock.yaml"
MARKERS = re.compile(r"AMEIDE PATCH|FLEET PATCH|LOCAL PATCH", re.IGNORECASE)
WORKLOADS = ("Deployment", "StatefulSet")


@dataclass(frozen=True)
class Vendored:
    alias: str
    name: str
    version: str
    tree: str
    archive: str | None
    digest: str | None
    line: int


@dataclass(frozen=True)
class Toggle:
    """A patch that wraps a workload template in `if .Values.<path>.enabled` and adds that key."""

    template: str
    path: tuple[str, ...]  # e.g. ("langfuse", "worker")


class VendoredPatches(Codemod):
    """Find fleet changes inside vendored charts; re-express them in the wrapper and restore pristine.

    ## What it changes
    Each chart in `third_party/charts.lock.yaml` whose entry records `archive:` (the upstream chart
    package, checked against the entry's `digest`) is compared file by file with that archive.
    A difference fleetmig can re-express is moved out: a workload template wrapped in
    `if .Values.<path>.enabled` with that key added to the chart's `values.yaml` (an in-tree on/off
    toggle) becomes `<path>.replicas: 0` in the wrapper's values layers that turned it off. The
    vendored files then get their pristine bytes back from the archive (the one edit fleetmig makes
    under `third_party/`, and only from a verified archive). The declared difference: the workload
    is rendered with zero replicas where it was not rendered at all. Everything else is checked with
    real Helm to render exactly as before.

    Any other difference is reported file by file with the changed line ranges; a chart without a
    recorded archive is searched for patch markers (`AMEIDE PATCH`, `FLEET PATCH`, `LOCAL PATCH`)
    and those are reported. Nothing is guessed.

    ## Why
    Vendored trees must match upstream so upgrades are mechanical; fleet logic belongs in wrappers
    (plan 519 §2 goal 5, §6 third criterion, §7; lint L1, L24).

    ## Before
        # third_party/langfuse/langfuse/1.5.8/templates/worker/deployment.yaml
        {{- if .Values.langfuse.worker.enabled }}
        apiVersion: apps/v1
        kind: Deployment
        # sources/values/env/local/observability/platform-langfuse.yaml
        langfuse:
          langfuse:
            worker:
              enabled: false

    ## After
        # third_party/.../templates/worker/deployment.yaml: as upstream ships it
        # sources/values/env/local/observability/platform-langfuse.yaml
        langfuse:
          langfuse:
            worker:
              replicas: 0
    """

    id = "e2-vendored-patches"
    phase = "E"
    title = "Vendored charts are pristine; their fleet patches live in the wrappers"
    requires = ("e1-wrappers",)

    def apply(self, fleet: Fleet) -> Changeset:
        changeset = self.changeset()
        for vendored in _locked(fleet, changeset):
            if vendored.archive is None:
                self._markers(fleet, vendored, changeset)
                continue
            pristine = _pristine(fleet, vendored, changeset)
            if pristine is None:
                continue
            tree = {
                rel[len(vendored.tree) + 1 :]: fleet.read_bytes(rel) for rel in fleet.files.glob(f"{vendored.tree}/**")
            }
            changed = sorted(k for k in tree.keys() | pristine.keys() if tree.get(k) != pristine.get(k))
            if changed:
                self._move_out(fleet, vendored, tree, pristine, changed, changeset)
        return changeset

    def _markers(self, fleet: Fleet, vendored: Vendored, changeset: Changeset) -> None:
        for rel in fleet.files.glob(f"{vendored.tree}/**"):
            text = fleet.read_bytes(rel).decode("utf-8", errors="replace")
            for match in MARKERS.finditer(text):
                changeset.manual(
                    rel,
                    text.count("\n", 0, match.start()) + 1,
                    f"marked as a fleet patch in vendored {vendored.name} {vendored.version}, and {LOCK} records no "
                    "`archive:` to compare with; record the upstream package to let fleetmig move it out",
                )

    def _move_out(
        self,
        fleet: Fleet,
        vendored: Vendored,
        tree: dict[str, bytes],
        pristine: dict[str, bytes],
        changed: list[str],
        changeset: Changeset,
    ) -> None:
        toggles = _toggles(tree, pristine, changed)
        explained = {t.template for t in toggles} | ({"values.yaml"} if toggles else set())
        unexplained = [rel for rel in changed if rel not in explained]
        if unexplained or not toggles or not _values_only_add_toggles(tree, pristine, toggles):
            for rel in changed:
                changeset.manual(
                    f"{vendored.tree}/{rel}",
                    _first_changed_line(tree.get(rel), pristine.get(rel)),
                    f"differs from the upstream {vendored.name} {vendored.version} package "
                    f"({_summary(tree.get(rel), pristine.get(rel))}); fleetmig cannot re-express this change in the "
                    "wrapper automatically: move it into the wrapper by hand, then restore the file from the archive",
                )
            return
        contents: dict[str, bytes | None] = {f"{vendored.tree}/{rel}": pristine.get(rel) for rel in changed}
        knobs: dict[str, bytes] = {}
        try:
            for rel, after in _replica_knobs(fleet, vendored, toggles).items():
                knobs[rel] = after
        except EditRefused as refusal:
            changeset.manual(refusal.path or vendored.tree, refusal.line, f"not moved out: {refusal.message}")
            return
        contents.update(knobs)
        problem = _proof(fleet, fleet.with_contents(contents), vendored)
        if problem:
            changeset.manual(f"{vendored.tree}/{changed[0]}", None, f"not moved out: {problem}")
            return
        toggle_names = ", ".join(".".join(t.path) for t in toggles)
        for rel in changed:
            path = f"{vendored.tree}/{rel}"
            changeset.edit(
                path,
                tree[rel],
                pristine[rel],
                f"restore the upstream {vendored.name} {vendored.version} file (verified archive); "
                f"the `{toggle_names}.enabled` toggle moved to the wrapper's values",
                1,
            )
        for rel, after in knobs.items():
            changeset.edit(
                rel, fleet.read_bytes(rel), after, f"`{toggle_names}` off as `replicas: 0` (upstream has no toggle)", 1
            )


def _locked(fleet: Fleet, changeset: Changeset) -> list[Vendored]:
    root = fleet.policy.layout.third_party.rstrip("/")
    rel = f"{root}/{LOCK}"
    if not fleet.exists(rel):
        return []
    editor = fleet.yaml(rel)
    data: Any = editor.data() or {}
    out = []
    for index, entry in enumerate(data.get("charts") or []):
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), str | int | float) for k in ("alias", "name", "version")
        ):
            changeset.manual(rel, editor.line_of(("charts", index)), "lock entry needs alias, name and version")
            continue
        alias, name, version = str(entry["alias"]), str(entry["name"]), str(entry["version"])
        archive = entry.get("archive")
        out.append(
            Vendored(
                alias,
                name,
                version,
                f"{root}/{alias}/{name}/{version}",
                f"{root}/{archive}" if isinstance(archive, str) else None,
                str(entry["digest"]) if entry.get("digest") else None,
                editor.line_of(("charts", index)),
            )
        )
    return out


def _pristine(fleet: Fleet, vendored: Vendored, changeset: Changeset) -> dict[str, bytes] | None:
    """The archive's files (relative to the chart), when it exists and matches the lock's digest."""
    assert vendored.archive is not None
    lock = f"{fleet.policy.layout.third_party.rstrip('/')}/{LOCK}"
    if not fleet.exists(vendored.archive):
        changeset.manual(lock, vendored.line, f"`{vendored.archive}` does not exist")
        return None
    raw = fleet.read_bytes(vendored.archive)
    actual = "sha256:" + hashlib.sha256(raw).hexdigest()
    if vendored.digest != actual:
        changeset.manual(
            lock, vendored.line, f"`{vendored.archive}` is {actual}, not the recorded digest; it cannot be trusted"
        )
        return None
    try:
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(raw))) as tar:
            prefix = f"{vendored.name}/"
            return {
                member.name[len(prefix) :]: tar.extractfile(member).read()  # type: ignore[union-attr]
                for member in tar.getmembers()
                if member.isfile() and member.name.startswith(prefix)
            }
    except (OSError, tarfile.TarError, EOFError) as error:
        changeset.manual(lock, vendored.line, f"`{vendored.archive}` is not a chart archive: {error}")
        return None


def _toggles(tree: dict[str, bytes], pristine: dict[str, bytes], changed: list[str]) -> list[Toggle]:
    found = []
    for rel in changed:
        if not rel.startswith("templates/") or rel not in pristine or rel not in tree:
            continue
        text = tree[rel].decode("utf-8", errors="replace")
        try:
            gate = wrapping_if(text)
        except TemplateSyntaxError:
            continue
        match = re.fullmatch(r"\.Values((?:\.\w+)+)\.enabled", gate.condition) if gate else None
        if gate is None or match is None:
            continue
        inner = text[gate.if_span[1] : gate.end_span[0]].lstrip("\n")
        if inner.rstrip("\n") == pristine[rel].decode("utf-8", errors="replace").rstrip("\n"):
            found.append(Toggle(rel, tuple(match.group(1).strip(".").split("."))))
    return found


def _values_only_add_toggles(tree: dict[str, bytes], pristine: dict[str, bytes], toggles: list[Toggle]) -> bool:
    """values.yaml differs from upstream only by the toggles' `enabled` keys (and their comments)."""
    try:
        ours, theirs = yaml.safe_load(tree.get("values.yaml", b"")), yaml.safe_load(pristine.get("values.yaml", b""))
    except yaml.YAMLError:
        return False
    for toggle in toggles:
        node = ours
        for key in toggle.path:
            node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict) or node.pop("enabled", None) is not True:
            return False
    return bool(ours == theirs)


def _replica_knobs(fleet: Fleet, vendored: Vendored, toggles: list[Toggle]) -> dict[str, bytes]:
    """Values layers that switch a toggle off get `replicas: 0` instead (under the wrapper's key)."""
    out: dict[str, bytes] = {}
    for rel in sorted({f for r in fleet.releases for f in r.value_files if fleet.exists(f)}):
        data = fleet.values(rel)
        for toggle in toggles:
            path = (vendored.name, *toggle.path)
            node: Any = data
            for key in path:
                node = node.get(key) if isinstance(node, dict) else None
            if not isinstance(node, dict) or node.get("enabled") is not False:
                continue
            editor = fleet.yaml(rel) if rel not in out else YamlEditor(out[rel], rel)
            editor.insert(path, "replicas", 0, after="enabled")
            editor.delete((*path, "enabled"))
            out[rel] = editor.to_bytes()
    return out


def _proof(before: Fleet, after: Fleet, vendored: Vendored) -> str | None:
    """Every release on the vendored chart renders as before, apart from toggled-off workloads now at
    zero replicas."""
    now_releases = {r.label: r for r in after.releases}
    for release in before.releases:
        if release.label not in now_releases or not _uses(before, release, vendored):
            continue
        try:
            was, now = objects_by_name(before, release), objects_by_name(after, now_releases[release.label])
            differing = set(differing_objects(before, release, was, now))
        except RenderFailed as error:
            return f"{release.label} does not render: {error}"
        for key in set(was) | set(now):
            if key in was and key in now:
                if key in differing:
                    return f"{release.label} renders {'/'.join(key)} differently"
            elif key in now and not (key[0] in WORKLOADS and (now[key].get("spec") or {}).get("replicas") == 0):
                return f"{release.label} gains {'/'.join(key)}"
            elif key in was:
                return f"{release.label} loses {'/'.join(key)}"
    return None


def _uses(fleet: Fleet, release: Release, vendored: Vendored) -> bool:
    """Whether the release's chart is the vendored chart or depends on it through `file://`."""
    chart = release.component.chart_path or ""
    if chart == vendored.tree:
        return True
    meta = fleet.values(f"{chart}/Chart.yaml") if fleet.exists(f"{chart}/Chart.yaml") else None
    for dependency in (meta or {}).get("dependencies") or []:
        repository = str(dependency.get("repository", "")) if isinstance(dependency, dict) else ""
        target = posixpath.normpath(posixpath.join(chart, repository[len("file://") :]))
        if repository.startswith("file://") and target == vendored.tree:
            return True
    return False


def _first_changed_line(ours: bytes | None, theirs: bytes | None) -> int | None:
    if ours is None or theirs is None:
        return None
    for tag, i1, _, _, _ in difflib.SequenceMatcher(None, theirs.splitlines(), ours.splitlines()).get_opcodes():
        if tag != "equal":
            return i1 + 1
    return None


def _summary(ours: bytes | None, theirs: bytes | None) -> str:
    if theirs is None:
        return "not in the upstream package"
    if ours is None:
        return "missing from the vendored tree"
    ranges = [
        f"lines {j1 + 1}-{j2}" if j2 > j1 + 1 else f"line {j1 + 1}"
        for tag, _, _, j1, j2 in difflib.SequenceMatcher(None, theirs.splitlines(), ours.splitlines()).get_opcodes()
        if tag != "equal" and j2 > j1
    ]
    return "changed at " + ", ".join(ranges) if ranges else "lines removed"
