"""The bad-input corpus: a minimal fleet (the demo cut down to two components and their charts) with
one defect each. Every case names the file a failing command must name (and the line, where a line
means something); `ok` cases are odd but valid and must plan cleanly."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fleetmig.fleet.demo import write_demo

GLOBALS = "sources/values/env/dev/globals.yaml"
CLUSTER_GLOBALS = "sources/values/cluster/local/globals.yaml"
VALUES = "sources/values/_shared/apps/apps-www-ameide.yaml"
LOCAL_VALUES = "sources/values/env/local/apps/apps-graph.yaml"
DESCRIPTOR = "environments/_shared/components/apps/www-ameide/component.yaml"
LOCAL_DESCRIPTOR = "environments/local/components/apps/www-ameide/component.yaml"
CHART = "sources/charts/apps/www-ameide"
TEMPLATE = f"{CHART}/templates/service.yaml"
APPSET = "argocd/applicationsets/ameide.yaml"
POLICY = "fleetmig.yaml"
KEEP_COMPONENTS = ("apps/www-ameide", "apps/graph")
KEEP_CHARTS = ("sources/charts/apps/www-ameide", "sources/charts/apps/graph")


def mini_fleet(root: Path) -> None:
    """The demo with only www-ameide and graph (shared and local), their charts and values."""
    write_demo(root)
    for descriptor in list(root.glob("environments/*/components/**/component.yaml")):
        if not any(f"/{keep}/" in descriptor.as_posix() for keep in KEEP_COMPONENTS):
            descriptor.unlink()
    for chart_yaml in list((root / "sources/charts").glob("*/*/Chart.yaml")):
        if not any(chart_yaml.as_posix().endswith(f"{keep}/Chart.yaml") for keep in KEEP_CHARTS):
            shutil.rmtree(chart_yaml.parent)
    shutil.rmtree(root / "sources/charts/third_party")
    for values in list((root / "sources/values").rglob("*.yaml")):
        if not any(part in values.name for part in ("globals", "argocd", "www-ameide", "graph")):
            values.unlink()


def _edit(rel: str, old: str, new: str) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        path = root / rel
        text = path.read_text()
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new, 1))

    return build


def _write(rel: str, content: str | bytes) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)

    return build


def _append(rel: str, text: str) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        with (root / rel).open("a") as handle:
            handle.write(text)

    return build


def _transform(rel: str, change: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        path = root / rel
        path.write_bytes(change(path.read_bytes()))

    return build


def _directory(rel: str) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        (root / rel).unlink()
        (root / rel).mkdir()

    return build


def _symlink(rel: str, target: str) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        path = root / rel
        if path.exists() or path.is_symlink():
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, path)

    return build


def _symlink_loop(root: Path) -> None:
    folder = root / "environments/local/components/apps/loop"
    folder.mkdir(parents=True)
    os.symlink("other.yaml", folder / "component.yaml")
    os.symlink("component.yaml", folder / "other.yaml")


def _symlink_outside(root: Path) -> None:
    outside = root.parent / "outside-values.yaml"
    outside.write_text("replicaCount: 2\n")
    _symlink(VALUES, os.path.relpath(outside, (root / VALUES).parent))(root)


def _deep(root: Path) -> None:
    depth = 10_000
    text = "".join(f"{' ' * i}k{i}:\n" for i in range(depth)) + f"{' ' * depth}leaf\n"
    (root / VALUES).write_text(text)


def _unreadable(root: Path) -> None:
    (root / VALUES).chmod(0)


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], None]
    names: str  # the file a failing command must name
    line: int | None = None
    ok: bool = False  # odd but valid: `plan` must succeed
    as_root_skip: bool = False  # permissions do not bind root


CASES: list[Case] = [
    Case("unclosed-quote", _append(GLOBALS, 'broken: "no end\n'), GLOBALS),
    Case("bad-indent", _append(GLOBALS, "outer:\n  a: 1\n   b: 2\n"), GLOBALS),
    Case("tab-indentation", _append(GLOBALS, "outer:\n\ta: 1\n"), GLOBALS),
    Case("duplicate-keys", _append(CLUSTER_GLOBALS, "storageClass: other\n"), CLUSTER_GLOBALS),
    Case("undecodable-bytes", _transform(VALUES, lambda b: b + b"owner: Jos\xe9\n"), VALUES),
    Case("utf8-bom", _transform(CLUSTER_GLOBALS, lambda b: b"\xef\xbb\xbf" + b), CLUSTER_GLOBALS, ok=True),
    Case("crlf", _transform(CLUSTER_GLOBALS, lambda b: b.replace(b"\n", b"\r\n")), CLUSTER_GLOBALS, ok=True),
    Case(
        "mixed-line-endings",
        _transform(CLUSTER_GLOBALS, lambda b: b.replace(b"\n", b"\r\n", 3)),
        CLUSTER_GLOBALS,
        ok=True,
    ),
    Case("empty-values", _write(VALUES, ""), VALUES, ok=True),
    Case("empty-globals", _write(GLOBALS, ""), GLOBALS, ok=True),
    Case("values-is-directory", _directory(VALUES), VALUES),
    Case("descriptor-is-directory", _directory(DESCRIPTOR), DESCRIPTOR),
    Case("unreadable-values", _unreadable, VALUES, as_root_skip=True),
    Case("symlink-loop", _symlink_loop, "environments/local/components/apps/loop/component.yaml"),
    Case("symlink-outside", _symlink_outside, VALUES),
    Case("broken-symlink-values", _symlink(LOCAL_VALUES, "missing.yaml"), LOCAL_VALUES),
    Case(
        "anchor-on-edited-key",
        _edit(CLUSTER_GLOBALS, "cluster:\n", "cluster: &cluster\n"),
        CLUSTER_GLOBALS,
        ok=True,
    ),
    Case(
        "alias-of-edited-key",
        _append(CLUSTER_GLOBALS, "clusterCopy: *cluster\n"),
        CLUSTER_GLOBALS,
    ),
    Case(
        "merge-key",
        _edit(CLUSTER_GLOBALS, "cluster:\n", "defaults: &defaults\n  arch: arm64\ncluster:\n  <<: *defaults\n"),
        CLUSTER_GLOBALS,
        ok=True,
    ),
    Case("multi-document-values", _append(VALUES, "---\nsecond: document\n"), VALUES),
    Case("go-template-in-values", _append(VALUES, "host: {{ .Release.Name }}.example.com\n"), VALUES),
    Case("huge-scalar", _append(VALUES, "blob: " + "x" * 10_000_000 + "\n"), VALUES, ok=True),
    Case("deep-nesting", _deep, VALUES),
    Case("values-top-level-list", _write(VALUES, "- a\n- b\n"), VALUES),
    Case("values-unknown-tag", _append(VALUES, "password: !vault secret/www\n"), VALUES),
    Case("nul-byte", _transform(VALUES, lambda b: b + b"note: a\x00b\n"), VALUES),
    Case("policy-unknown-key", _append(POLICY, "colour: blue\n"), POLICY),
    Case("policy-wrong-type", _edit(POLICY, "version: 1", "version: one"), POLICY),
    Case("policy-path-escapes", _append(POLICY, "layout:\n  sharedComponents: ../elsewhere\n"), POLICY),
    Case("policy-absolute-path", _append(POLICY, "layout:\n  sharedComponents: /etc\n"), POLICY),
    Case("policy-malformed", _append(POLICY, "clusterTypes: [\n"), POLICY),
    Case("policy-empty", _write(POLICY, ""), POLICY, line=1),
    Case("policy-unknown-enforce-phase", _append(POLICY, "enforce: [A, Q]\n"), POLICY),
    Case(
        "descriptor-missing-chart-path",
        _edit(DESCRIPTOR, "path: sources/charts/apps/www-ameide", "path: sources/charts/apps/nowhere"),
        DESCRIPTOR,
    ),
    Case("descriptor-malformed", _append(DESCRIPTOR, "syncOptions: [\n"), DESCRIPTOR),
    Case("descriptor-is-a-list", _write(DESCRIPTOR, "- name: apps-www-ameide\n"), DESCRIPTOR),
    Case("descriptor-without-name", _edit(DESCRIPTOR, "name: apps-www-ameide\n", ""), DESCRIPTOR),
    Case(
        "duplicate-component-names",
        _edit(LOCAL_DESCRIPTOR.replace("www-ameide", "graph"), "name: apps-graph", "name: apps-www-ameide"),
        LOCAL_DESCRIPTOR,  # named with its line; the first definition is named in the message
    ),
    Case("template-unbalanced-braces", _append(TEMPLATE, "  extra: {{ .Values.oops\n"), TEMPLATE),
    Case("template-undecodable", _transform(TEMPLATE, lambda b: b + b"# caf\xe9\n"), TEMPLATE),
    Case("chart-yaml-malformed", _append(f"{CHART}/Chart.yaml", "dependencies: [\n"), f"{CHART}/Chart.yaml"),
    Case("appset-malformed", _append(APPSET, "  extra: [\n"), APPSET),
    Case(
        "appset-bad-go-template",
        _edit(
            APPSET,
            "{{",
            "{{ if",
        ),
        APPSET,
    ),
    Case("cluster-config-malformed", _append("config/clusters/local.yaml", "envs: [\n"), "config/clusters/local.yaml"),
    Case(
        "script-syntax-error",
        _write("scripts/broken.py", "def broken(:\n    values['cluster']['type']\n"),
        "scripts/broken.py",
        ok=True,
    ),
    Case("very-long-line", _append(VALUES, "long: " + "y " * 500_000 + "\n"), VALUES, ok=True),
]
