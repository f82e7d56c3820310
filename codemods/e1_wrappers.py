"""E1: every vendored chart a component deploys gets a wrapper chart; components deploy the wrapper."""

from __future__ import annotations

import functools
import json
import posixpath
from collections import defaultdict
from typing import Any

import jinja2

from fleetmig.engine import Changeset, Codemod
from fleetmig.errors import EditRefused
from fleetmig.fleet.components import Component
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.render import RenderFailed, differing_objects, objects_by_name
from fleetmig.fleet.values import dump_values, load_values
from fleetmig.resources import shipped_dir

TEMPLATES = ("Chart.yaml", "values.yaml", "README.md")
KEEP_GLOBAL = ("global",)


class Wrappers(Codemod):
    """Generate a wrapper chart per vendored chart and move the components onto it.

    ## What it changes
    For each vendored chart `sources/charts/third_party/<alias>/<name>/<version>/` that a component
    deploys directly, it writes a wrapper at `<layout.wrappers>/<name>` from `templates/phase-e/`:
    `Chart.yaml` with a `file://` dependency on the vendored chart (`condition: <name>.enabled`),
    `values.yaml` with `enabled` and `<name>.enabled`, and a README naming the vendored version.
    The dependency is not aliased to the vendor folder's alias: Helm would rename every object the
    chart names after `.Chart.Name`, so its values key is the chart's name.

    Every descriptor that deployed the vendored chart points `chart.path` at the wrapper, and
    every values file of those components (`_shared`, per environment and `valueFiles`, never the
    fleet globals) is nested under `<name>:` with its comments and blank lines; `global:` stays
    global. The change is kept only when, rendered with real Helm for every release, the wrapper
    produces exactly the objects the vendored chart produced (values Helm randomness changes
    between two renders are compared only for presence). A vendored schema that forbids extra
    keys (the `enabled` the condition needs, helm/helm#10392), a name taken by another chart, or
    a render difference is reported instead.

    ## Why
    Fleet policy must live in wrappers, never in `third_party/`, so vendored trees stay pristine
    and upgrades stay mechanical (plan 519 §2 goal 5, §4.3, Phase E, §6; lint L1).

    ## Before
        # environments/_shared/components/observability/langfuse/component.yaml
        chart:
          path: sources/charts/third_party/langfuse/langfuse/1.5.8
        # sources/values/_shared/observability/platform-langfuse.yaml
        postgresql:
          host: postgres-ameide-rw

    ## After
        chart:
          path: sources/charts/platform/langfuse
        # sources/values/_shared/observability/platform-langfuse.yaml
        langfuse:
          postgresql:
            host: postgres-ameide-rw
    """

    id = "e1-wrappers"
    phase = "E"
    title = "Vendored charts are deployed through wrapper charts"

    def apply(self, fleet: Fleet) -> Changeset:
        changeset = self.changeset()
        layout = fleet.policy.layout
        root = layout.third_party.rstrip("/") + "/"
        deployers: dict[str, list[Component]] = defaultdict(list)
        for components_root in (layout.shared_components, layout.local_components, layout.optional_components):
            for component in fleet.components_under(components_root):
                path = component.chart_path
                if path and path.startswith(root) and fleet.files.link_target(component.path) is None:
                    deployers[path].append(component)
        for vendored, components in sorted(deployers.items()):
            self._wrap(fleet, vendored, components, changeset)
        return changeset

    def _wrap(self, fleet: Fleet, vendored: str, components: list[Component], changeset: Changeset) -> None:
        layout = fleet.policy.layout
        parts = vendored[len(layout.third_party.rstrip("/")) + 1 :].split("/")
        where = components[0].path
        if len(parts) != 3:
            changeset.manual(where, None, f"`{vendored}` is not `<alias>/<name>/<version>` under third_party/")
            return
        # The dependency is not aliased: Helm gives an aliased chart the alias as `.Chart.Name`, which
        # renames every object the vendored chart names after itself. Its values key is its name.
        _, name, version = parts
        alias = name
        wrapper = f"{layout.wrappers.rstrip('/')}/{name}"
        if fleet.exists(f"{wrapper}/Chart.yaml"):
            changeset.manual(
                where, None, f"`{wrapper}` already holds a chart; move it or set layout.wrappers to wrap `{vendored}`"
            )
            return
        problem = _schema_problem(fleet, vendored)
        if problem:
            changeset.manual(f"{vendored}/values.schema.json", None, problem)
            return
        files = _wrapper_files(fleet, vendored, wrapper, alias, name, version)
        names = {c.name for c in components}
        values_files = _component_values(fleet, components)
        # Most of the cost of a wrapper that cannot work is editing the files with their comments
        # kept, so the wrapper is first proven with the edited data alone, written plainly. The real
        # edits are proven again only when they do not leave the data that proof read.
        predicted = _predicted_edits(fleet, components, values_files, wrapper, alias)
        proven: Fleet | None = None
        if predicted is not None:
            plainly = {rel: dump_values(data) for rel, data in predicted.items()}
            proven = fleet.with_contents({**files, **plainly})
            difference = _render_difference(fleet, proven, names)
            if difference:
                changeset.manual(where, None, f"`{vendored}` not wrapped: {difference}")
                return
        contents: dict[str, bytes] = dict(files)
        try:
            for component in components:
                editor = fleet.yaml(component.path)
                editor.set(("chart", "path"), wrapper)
                contents[component.path] = editor.to_bytes()
            for rel in values_files:
                editor = fleet.yaml(rel)
                editor.nest(alias, keep=KEEP_GLOBAL)
                contents[rel] = editor.to_bytes()
        except EditRefused as refusal:
            changeset.manual(refusal.path or where, refusal.line, f"not wrapped: {refusal.message}")
            return
        edited = {rel: content for rel, content in contents.items() if rel not in files}
        as_predicted = proven is not None and all(
            load_values(content, rel) == proven.values(rel) for rel, content in edited.items()
        )
        difference = None if as_predicted else _render_difference(fleet, fleet.with_contents(contents), names)
        if difference:
            changeset.manual(where, None, f"`{vendored}` not wrapped: {difference}")
            return
        for rel, created in files.items():
            changeset.create(rel, created, f"wrapper for the vendored {name} {version} chart")
        for rel, content in edited.items():
            reason = (
                f"deploy the `{wrapper}` wrapper"
                if rel.endswith("component.yaml")
                else f"values for the vendored chart go under `{alias}:` in the wrapper"
            )
            changeset.edit(rel, fleet.read_bytes(rel), content, reason, 1)


def _wrapper_files(fleet: Fleet, vendored: str, wrapper: str, alias: str, name: str, version: str) -> dict[str, bytes]:
    meta: Any = fleet.values(f"{vendored}/Chart.yaml") if fleet.exists(f"{vendored}/Chart.yaml") else {}
    environment = _templates()
    context = {
        "alias": alias,
        "name": name,
        "version": str(meta.get("version") or version) if isinstance(meta, dict) else version,
        "app_version": str(meta.get("appVersion")) if isinstance(meta, dict) and meta.get("appVersion") else "",
        "repository": posixpath.relpath(vendored, wrapper),
        "vendored": vendored,
        "third_party": fleet.policy.layout.third_party.rstrip("/"),
        "lock": f"{fleet.policy.layout.third_party.rstrip('/')}/charts.lock.yaml",
    }
    return {
        f"{wrapper}/{file}": environment.get_template(f"{file}.j2").render(**context).encode("utf-8")
        for file in TEMPLATES
    }


@functools.cache
def _templates() -> jinja2.Environment:
    """One environment for the run: it compiles each template once, not once per wrapper."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(shipped_dir("templates") / "phase-e")),
        keep_trailing_newline=True,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["tojson"] = json.dumps
    return environment


def _schema_problem(fleet: Fleet, vendored: str) -> str | None:
    rel = f"{vendored}/values.schema.json"
    if not fleet.exists(rel):
        return None
    try:
        schema = json.loads(fleet.read_bytes(rel))
    except ValueError:
        return "the vendored values.schema.json is not JSON"
    properties = schema.get("properties") or {} if isinstance(schema, dict) else {}
    if isinstance(schema, dict) and schema.get("additionalProperties") is False and "enabled" not in properties:
        return (
            "the vendored schema forbids unknown keys, so the wrapper's `condition: <alias>.enabled` would fail "
            "validation (helm/helm#10392); wrap it by hand with another condition key"
        )
    return None


def _component_values(fleet: Fleet, components: list[Component]) -> list[str]:
    """The component's own values files (not the fleet-wide globals and node profiles)."""
    layout = fleet.policy.layout
    names = {c.name for c in components}
    fleet_wide: set[str] = {layout.base_globals}
    fleet_wide |= {layout.cluster_globals_for(t) for t in fleet.cluster_types}
    fleet_wide |= {layout.env_globals_for(e) for e in fleet.environments}
    found: list[str] = []
    for release in fleet.releases_named(*names):
        for rel in release.value_files:
            if rel in fleet_wide or "/node-profiles/" in rel or rel in found or not fleet.exists(rel):
                continue
            found.append(rel)
    return found


def _predicted_edits(
    fleet: Fleet, components: list[Component], values_files: list[str], wrapper: str, alias: str
) -> dict[str, Any] | None:
    """The data the edits below will leave in the descriptors and values files, or None when a
    file is not the plain mapping that takes."""
    predicted: dict[str, Any] = {}
    for component in components:
        data = fleet.values(component.path)
        if not isinstance(data, dict) or not isinstance(data.get("chart"), dict):
            return None
        predicted[component.path] = {**data, "chart": {**data["chart"], "path": wrapper}}
    for rel in values_files:
        data = fleet.values(rel)
        if not isinstance(data, dict) or not data:
            return None
        nested = {key: value for key, value in data.items() if key not in KEEP_GLOBAL}
        kept = {key: value for key, value in data.items() if key in KEEP_GLOBAL}
        predicted[rel] = {alias: nested, **kept} if nested else data
    return predicted


def _render_difference(before: Fleet, after: Fleet, names: set[str]) -> str | None:
    """Why the wrapper does not render what the vendored chart rendered (None when it does)."""
    old = {r.label: r for r in before.releases_named(*names)}
    new = {r.label: r for r in after.releases_named(*names)}
    for label, release in old.items():
        try:
            was, now = objects_by_name(before, release), objects_by_name(after, new[label])
            if set(was) != set(now):
                changed = sorted(set(was) ^ set(now))
                shown = ", ".join("/".join(k) for k in changed[:3])
                return f"{label} renders other objects through the wrapper ({shown})"
            differing = differing_objects(before, release, was, now)
        except RenderFailed as error:
            return f"{label} does not render: {error}"
        if differing:
            return f"{label} renders {'/'.join(differing[0])} differently through the wrapper"
    return None
