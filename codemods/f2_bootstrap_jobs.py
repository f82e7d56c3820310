"""F2: bootstrap Jobs move onto `bootstrap-runner`, or are normalised in place where they do not fit."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from fleetmig.engine import Changeset, Codemod
from fleetmig.errors import EditRefused
from fleetmig.fleet.charts import BOOTSTRAP_LIBRARY as LIBRARY
from fleetmig.fleet.charts import Chart, application_charts, bootstrap_library_path, template_files
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.render import RenderFailed, objects_by_name

HELM_TO_ARGO = {
    "pre-install": "PreSync",
    "pre-upgrade": "PreSync",
    "post-install": "PostSync",
    "post-upgrade": "PostSync",
    "pre-delete": "PreDelete",
    "post-delete": "PostDelete",
    "test": "PostSync",  # Argo CD never runs Helm test hooks; a smoke test runs after the sync
    "test-success": "PostSync",
}
HELM_DELETE = {
    "before-hook-creation": "BeforeHookCreation",
    "hook-succeeded": "HookSucceeded",
    "hook-failed": "HookFailed",
}
DEADLINE, TTL, BACKOFF, WAIT = 900, 3600, 3, 300
ANNOTATION = re.compile(r"^(\s*)([\w./-]+):\s*(.*?)\s*$")
UNTIL = re.compile(r"^(\s*)until (.+?); do\s*$")
RUNTIME_INSTALL = re.compile(r"\b(apk add|apt-get install|apt install|yum install|pip install|curl [^|]*\| *(ba)?sh)\b")


@dataclass
class _Job:
    """The text of one Job manifest inside a template, with what fleetmig needs to edit it."""

    lines: list[str]
    start: int  # `apiVersion: batch/v1`
    end: int  # one past the manifest
    indent: int
    annotations: dict[str, tuple[int, str]] = field(default_factory=dict)  # key -> (line, value)
    annotations_line: int | None = None
    spec_line: int | None = None
    spec_keys: dict[str, int] = field(default_factory=dict)
    in_range: bool = False


class BootstrapJobs(Codemod):
    """Give every bootstrap Job a deadline, retries, TTL, a hook delete policy and bounded waits.

    ## What it changes
    A bootstrap Job is a Job in an owned chart that runs as a hook or gates a wave (Argo CD
    `hook`/`sync-wave` or Helm `helm.sh/hook` annotations). Each is edited in its template text:

    - Helm hooks become Argo CD hooks (`pre-install`/`pre-upgrade` → `PreSync`, `post-*` →
      `PostSync`, `*-delete` → `PreDelete`/`PostDelete`; `test`, which Argo CD never runs, → a
      `PostSync` smoke test); Helm delete policies become Argo CD's, `helm.sh/hook-weight` a
      `sync-wave`;
    - the delete policy always includes `BeforeHookCreation`, so a changed template is re-created
      instead of failing with "field is immutable";
    - missing `backoffLimit` (3), `activeDeadlineSeconds` (900) and `ttlSecondsAfterFinished`
      (3600) are added;
    - every `until …; do … done` wait loop in the script gives up after 300 s instead of waiting
      forever.

    A Job rendered once per template (not in a `range`), with one container and no init
    containers, is then moved onto the `bootstrap-runner` library (`f1-bootstrap-runner`): its
    container (script, image, env, volume mounts) moves verbatim into a `define` in the same
    file, the manifest becomes `include "bootstrap-runner.job"`, and the chart depends on the
    library. The result is checked with real Helm: every Job keeps its container, service
    account and labels; the only differences are the standardisations above (and the library's
    pod security context). Runtime package installs (`apk add` …, lint L17) and hook-only charts
    are reported.

    ## Why
    Bootstrap Jobs gate waves; unbounded waits stall them, missing TTLs pile them up, a missing
    delete policy makes the next change fail as immutable, and Helm test hooks never run under
    Argo CD (plan 519 Phase F; gitops-facts §4.5, §5).

    ## Before
        annotations:
          helm.sh/hook: test
        spec:
          backoffLimit: 1

    ## After
        annotations:
          argocd.argoproj.io/hook: PostSync
          argocd.argoproj.io/hook-delete-policy: BeforeHookCreation
        spec:
          backoffLimit: 1
          activeDeadlineSeconds: 900
          ttlSecondsAfterFinished: 3600
    """

    id = "f2-bootstrap-jobs"
    phase = "F"
    title = "Bootstrap Jobs: bounded, retried, cleaned up, re-creatable; onto bootstrap-runner where they fit"
    requires = ("f1-bootstrap-runner",)

    def apply(self, fleet: Fleet) -> Changeset:
        changeset = self.changeset()
        library = bootstrap_library_path(fleet)
        for chart in application_charts(fleet):
            if chart.path == library:
                continue
            contents: dict[str, bytes | None] = {}
            notes: dict[str, list[str]] = {}
            migrated = False
            for rel in template_files(fleet, chart):
                text = fleet.read_bytes(rel).decode("utf-8", errors="replace")
                if not re.search(r"^\s*kind:\s*Job\s*$", text, re.MULTILINE):
                    if f'include "{LIBRARY}.job"' in text:  # already on the library: the script is still here
                        _report_runtime_installs(rel, text.split("\n"), changeset)
                    continue
                after, rel_notes, moved = self._job(fleet, chart, rel, text, changeset)
                if after != text:
                    contents[rel] = after.encode("utf-8")
                    notes[rel] = rel_notes
                migrated |= moved
            if not contents:
                continue
            if migrated:
                try:
                    contents[f"{chart.path}/Chart.yaml"] = _with_library(fleet, chart, library)
                except EditRefused as refusal:
                    changeset.manual(f"{chart.path}/Chart.yaml", refusal.line, f"not changed: {refusal.message}")
                    continue
            problem = _proof(fleet, fleet.with_contents(contents), chart)
            if problem:
                changeset.manual(next(iter(contents)), None, f"not changed: {problem}")
                continue
            for rel, content in contents.items():
                assert content is not None
                reason = "; ".join(notes.get(rel, [])) or f"depend on the `{LIBRARY}` library"
                changeset.edit(rel, fleet.read_bytes(rel), content, reason, 1)
            self._report_hook_only(fleet, chart, contents, changeset)
        return changeset

    def _job(
        self, fleet: Fleet, chart: Chart, rel: str, text: str, changeset: Changeset
    ) -> tuple[str, list[str], bool]:
        newline = "\r\n" if "\r\n" in text else "\n"
        lines = text.replace("\r\n", "\n").split("\n")
        job = _find_job(lines)
        if job is None:
            changeset.manual(
                rel, None, "a Job fleetmig cannot locate in this template (several, or no `apiVersion: batch/v1`)"
            )
            return text, [], False
        hooked = any(
            k.startswith(("argocd.argoproj.io/hook", "helm.sh/hook")) or k.endswith("sync-wave")
            for k in job.annotations
        )
        if not hooked:
            return text, [], False
        notes: list[str] = []
        _report_runtime_installs(rel, lines, changeset)
        lines = _normalised(job, notes)
        lines = _bounded_waits(lines, notes)
        result = "\n".join(lines)
        moved = False
        fits = _fits_runner(_find_job(lines))
        if fits is None:
            migrated = _migrated(lines, chart, rel)
            if migrated is not None:
                result = migrated
                notes.append(f"built on `{LIBRARY}`")
                moved = True
        else:
            changeset.manual(rel, job.start + 1, f"normalised in place, not moved onto `{LIBRARY}`: {fits}")
        return result.replace("\n", newline), notes, moved

    def _report_hook_only(
        self, fleet: Fleet, chart: Chart, contents: dict[str, bytes | None], changeset: Changeset
    ) -> None:
        view = fleet.with_contents(contents)
        for release in view.releases_of_chart(chart.path):
            try:
                objects = objects_by_name(view, release)
            except RenderFailed:
                return
            tracked = [
                o
                for o in objects.values()
                if "argocd.argoproj.io/hook" not in ((o.get("metadata") or {}).get("annotations") or {})
            ]
            if objects and not tracked:
                changeset.manual(
                    f"{chart.path}/Chart.yaml",
                    1,
                    f"`{release.component.name}` renders only hooks, so its Application has nothing to track and "
                    "shows Healthy before the hooks ran; add a tracked object (a ConfigMap) the wave can wait on",
                )
            return


def _annotations(obj: Any) -> dict[str, Any]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def _find_job(lines: list[str]) -> _Job | None:
    kinds = [i for i, line in enumerate(lines) if re.fullmatch(r"\s*kind:\s*Job\s*", line)]
    if len(kinds) != 1:
        return None
    indent = len(lines[kinds[0]]) - len(lines[kinds[0]].lstrip())
    start = next(
        (i for i in range(kinds[0], -1, -1) if re.fullmatch(rf" {{{indent}}}apiVersion:\s*batch/v1\s*", lines[i])), None
    )
    if start is None:
        return None
    end = start + 1
    while end < len(lines):
        line = lines[end]
        if (
            line.strip()
            and len(line) - len(line.lstrip()) <= indent
            and not re.match(rf" {{{indent}}}[A-Za-z]\w*:", line)
        ):
            break
        end += 1
    job = _Job(lines, start, end, indent)
    job.in_range = any(re.search(r"\{\{-?\s*range\b", line) for line in lines[:start])
    section = ""
    for index in range(start, end):
        line = lines[index]
        depth = len(line) - len(line.lstrip())
        if depth == indent:
            section = line.strip().split(":", 1)[0]
            if section == "spec":
                job.spec_line = index
        elif depth == indent + 2:
            key = line.strip().split(":", 1)[0]
            if section == "metadata" and key == "annotations":
                job.annotations_line = index
            elif section == "spec":
                job.spec_keys[key] = index
        elif depth == indent + 4 and job.annotations_line is not None and section == "metadata":
            match = ANNOTATION.match(line)
            if match and index > job.annotations_line:
                job.annotations[match.group(2)] = (index, match.group(3).strip("\"'"))
    return job


def _normalised(job: _Job, notes: list[str]) -> list[str]:
    lines = list(job.lines)
    pad = " " * (job.indent + 4)
    inserts: dict[int, list[str]] = {}
    replaced: dict[int, str] = {}
    helm_hook = job.annotations.get("helm.sh/hook")
    argo_hook = job.annotations.get("argocd.argoproj.io/hook")
    if helm_hook is not None:
        phases = sorted({HELM_TO_ARGO.get(h.strip(), "") for h in helm_hook[1].split(",")} - {""})
        if argo_hook is None and phases:
            replaced[helm_hook[0]] = f"{pad}argocd.argoproj.io/hook: {','.join(phases)}"
            notes.append(f"Helm hook `{helm_hook[1]}` → Argo CD `{','.join(phases)}`")
        argo_hook = (helm_hook[0], ",".join(phases))
    weight = job.annotations.get("helm.sh/hook-weight")
    if weight is not None and "argocd.argoproj.io/sync-wave" not in job.annotations:
        replaced[weight[0]] = f'{pad}argocd.argoproj.io/sync-wave: "{weight[1]}"'
        notes.append(f"hook weight {weight[1]} → sync-wave")
    helm_policy = job.annotations.get("helm.sh/hook-delete-policy")
    argo_policy = job.annotations.get("argocd.argoproj.io/hook-delete-policy")
    policies = {p.strip() for p in (argo_policy[1].split(",") if argo_policy else []) if p.strip()}
    policies |= {HELM_DELETE.get(p.strip(), "") for p in (helm_policy[1].split(",") if helm_policy else [])} - {""}
    if (argo_hook is not None and "BeforeHookCreation" not in policies) or (helm_policy and not argo_policy):
        value = ",".join(["BeforeHookCreation", *sorted(policies - {"BeforeHookCreation"})])
        line = f"{pad}argocd.argoproj.io/hook-delete-policy: {value}"
        if argo_policy is not None:
            replaced[argo_policy[0]] = line
        elif helm_policy is not None:
            replaced[helm_policy[0]] = line
        else:
            anchor = (argo_hook or next(iter(job.annotations.values())))[0]
            inserts.setdefault(anchor, []).append(line)
        notes.append(f"delete policy {value}")
    if job.spec_line is not None:
        spec_pad = " " * (job.indent + 2)
        added = []
        for key, default in (
            ("backoffLimit", BACKOFF),
            ("activeDeadlineSeconds", DEADLINE),
            ("ttlSecondsAfterFinished", TTL),
        ):
            if key not in job.spec_keys:
                added.append(f"{spec_pad}{key}: {default}")
        if added:
            anchor = max(
                (job.spec_keys[k] for k in ("backoffLimit", "activeDeadlineSeconds") if k in job.spec_keys),
                default=job.spec_line,
            )
            inserts.setdefault(anchor, []).extend(added)
            notes.append("add " + ", ".join(a.strip().split(":")[0] for a in added))
    out = []
    for index, line in enumerate(lines):
        out.append(replaced.get(index, line))
        out.extend(inserts.get(index, []))
    return out


def _report_runtime_installs(rel: str, lines: list[str], changeset: Changeset) -> None:
    for number, line in enumerate(lines, start=1):
        if RUNTIME_INSTALL.search(line):
            changeset.manual(rel, number, "installs packages at run time (lint L17); use a toolbox image that has them")


def _bounded_waits(lines: list[str], notes: list[str]) -> list[str]:
    """`until COND; do … done` gives up after WAIT seconds (a guard line inside the loop)."""
    out: list[str] = []
    bounded = 0
    for index, line in enumerate(lines):
        match = UNTIL.match(line)
        already = index + 1 < len(lines) and "fleetmig: bounded wait" in lines[index + 1]
        if match is None or already:
            out.append(line)
            continue
        pad = match.group(1)
        out.append(f"{pad}wait_deadline=$(( $(date +%s) + {WAIT} ))")
        out.append(line)
        out.append(
            f'{pad}  [ "$(date +%s)" -lt "$wait_deadline" ] || {{ echo "gave up waiting after {WAIT}s" >&2; exit 1; }}'
            "  # fleetmig: bounded wait"
        )
        bounded += 1
    if bounded:
        notes.append(f"{bounded} wait loop{'s' * (bounded != 1)} bounded to {WAIT}s")
    return out


def _fits_runner(job: _Job | None) -> str | None:
    """Why the Job does not fit `bootstrap-runner.job` (None when it does)."""
    if job is None:
        return "fleetmig cannot locate the Job"
    if job.in_range:
        return "it is rendered in a `range`, so its container reads the loop's item"
    body = "\n".join(job.lines[job.start : job.end])
    if body.count("- name:") - body.count("        - name:") < 0 or "initContainers" in body:
        return "it has init containers"
    if len(re.findall(r"^\s*containers:\s*$", body, re.MULTILINE)) != 1:
        return "it does not have exactly one `containers:` list"
    return None


def _migrated(lines: list[str], chart: Chart, rel: str) -> str | None:
    """The template rewritten onto `bootstrap-runner.job`, or None when its shape is not the simple one."""
    job = _find_job(lines)
    if job is None:
        return None
    body = lines[job.start : job.end]
    text = "\n".join(body)
    fields: dict[str, str] = {}
    name = re.search(rf"^\s{{{job.indent}}}  name:\s*(.+)$", text, re.MULTILINE)
    labels = re.search(r"^\s*labels:\s*\n\s*\{\{-?\s*(include .+?) \| nindent \d+\s*\}\}\s*$", text, re.MULTILINE)
    if name is None:
        return None
    fields["name"] = _expression(name.group(1))
    if labels:
        fields["labels"] = f"({labels.group(1)})"
    for key, argument in (
        ("argocd.argoproj.io/hook", "hook"),
        ("argocd.argoproj.io/hook-delete-policy", "deletePolicy"),
        ("argocd.argoproj.io/sync-wave", "wave"),
    ):
        found = re.search(rf"^\s*{re.escape(key)}:\s*(.+?)\s*$", text, re.MULTILINE)
        if found:
            fields[argument] = _expression(found.group(1))
    for key in ("backoffLimit", "activeDeadlineSeconds", "restartPolicy", "serviceAccountName"):
        found = re.search(rf"^\s*{key}:\s*(.+?)\s*$", text, re.MULTILINE)
        if found:
            fields[key] = _expression(found.group(1))
    containers = next(i for i, line in enumerate(body) if line.strip() == "containers:")
    item_indent = len(body[containers + 1]) - len(body[containers + 1].lstrip())
    container = []
    for line in body[containers + 1 :]:
        if line.strip() and len(line) - len(line.lstrip()) < item_indent:
            return None  # something follows the container (volumes, …): not the simple shape
        container.append(line)
    container[0] = container[0].replace("- ", "  ", 1)
    block = [line[item_indent + 2 :] if line.strip() else "" for line in container]
    while block and not block[-1].strip():
        block.pop()
    base = posixpath.splitext(posixpath.basename(rel))[0]
    define = f"{chart.path.rsplit('/', 1)[-1]}.{base}.container"
    arguments = " ".join(f'"{k}" {v}' for k, v in fields.items())
    preamble = lines[: job.start]
    defined = [f'{{{{- define "{define}" -}}}}', *block, "{{- end }}"]
    include = f'{{{{- include "{LIBRARY}.job" (dict "root" . {arguments} "container" (include "{define}" .)) }}}}'
    # A `define` must be top-level: when the Job sits inside an action (c1's `if .Values.enabled`
    # gate), the define goes above it and only the include stays inside.
    hoisted = any("{{" in line for line in preamble)
    ordered = [*defined, *preamble] if hoisted else [*preamble, *defined]
    return "\n".join([*ordered, include, *lines[job.end :]]) + ("" if lines[job.end :] and lines[-1] == "" else "\n")


def _expression(value: str) -> str:
    """A template expression for a YAML value: `{{ X }}` → (X), anything else → a quoted string."""
    value = value.strip()
    action = re.fullmatch(r"\{\{-?\s*(.+?)\s*-?\}\}", value)
    if action:
        return f"({action.group(1)})"
    if re.fullmatch(r"-?\d+", value):
        return value
    if re.search(r"\{\{", value):
        parts = re.split(r"(\{\{-?\s*.*?\s*-?\}\})", value)
        literal, args = "", []
        for part in parts:
            inner = re.fullmatch(r"\{\{-?\s*(.*?)\s*-?\}\}", part)
            if inner:
                literal += "%s"
                args.append(f"({inner.group(1)})")
            else:
                literal += part
        return f'(printf "{literal}" {" ".join(args)})'
    return '"' + value.strip("\"'").replace('"', '\\"') + '"'


def _with_library(fleet: Fleet, chart: Chart, library: str) -> bytes:
    rel = f"{chart.path}/Chart.yaml"
    editor = fleet.yaml(rel)
    data: Any = editor.data() or {}
    if any(isinstance(d, dict) and d.get("name") == LIBRARY for d in data.get("dependencies") or []):
        return editor.to_bytes()
    editor.append(
        "dependencies",
        {"name": LIBRARY, "version": "0.1.0", "repository": f"file://{posixpath.relpath(library, chart.path)}"},
    )
    return editor.to_bytes()


def _proof(before: Fleet, after: Fleet, chart: Chart) -> str | None:
    """Every Job keeps its container, service account and labels; no other object changes."""
    now_releases = {r.label: r for r in after.releases_of_chart(chart.path)}
    for release in before.releases_of_chart(chart.path):
        if release.label not in now_releases:
            continue
        try:
            was, now = objects_by_name(before, release), objects_by_name(after, now_releases[release.label])
        except RenderFailed as error:
            return f"{release.label} does not render afterwards: {error}"
        if set(was) != set(now):
            return f"{release.label} renders other objects afterwards"
        for key, obj in was.items():
            if key[0] != "Job":
                if obj != now[key]:
                    return f"{release.label}: {'/'.join(key)} changes"
                continue
            old_pod, new_pod = obj["spec"]["template"]["spec"], now[key]["spec"]["template"]["spec"]
            for old, new in zip(old_pod["containers"], new_pod["containers"], strict=False):
                if {k: v for k, v in old.items() if k != "args"} != {k: v for k, v in new.items() if k != "args"}:
                    return (
                        f"{release.label}: Job `{key[1]}` container `{old.get('name')}` changes beyond its wait loops"
                    )
            if old_pod.get("serviceAccountName") != new_pod.get("serviceAccountName"):
                return f"{release.label}: Job `{key[1]}` changes service account"
            if (obj["metadata"].get("labels") or {}) != (now[key]["metadata"].get("labels") or {}):
                return f"{release.label}: Job `{key[1]}` changes labels"
    return None
