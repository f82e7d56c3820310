"""The Applications an ApplicationSet generates: every template string rendered by Go's text/template.

As Argo CD's controller does it (gitops-facts §1.3): each string field of `spec.template` is its own
template, `templatePatch` is rendered once per parameter set and merged over the result (maps merge,
lists replace, null removes: the Application type declares no merge keys). Rendering goes through
`gotemplate_engine` (Go's text/template with Argo CD's function set) in one batch; fasttemplate mode
(`goTemplate: false`) substitutes `{{ key }}` with string parameters and keeps unknown tags.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from fleetmig.fleet.appsets import AppSet, ParamSet
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.values import plain_copy
from fleetmig.gotemplate_engine import YAML_ERROR, GoTemplateEngine, Job

PHASE_LABEL = "rollout-phase"


@dataclass(frozen=True)
class Application:
    appset: str
    name: str
    namespace: str
    phase: str
    chart: str
    component: str  # the `name` parameter: the component descriptor's name
    sources: tuple[str, ...]
    labels: dict[str, str] = field(hash=False, compare=False)
    ignore_differences: tuple[dict[str, Any], ...] = field(default=(), hash=False, compare=False)


@dataclass(frozen=True)
class TemplateError:
    appset: str
    where: str  # the template field, or `templatePatch`
    error: str
    descriptor: str  # the file whose parameters made it fail


def render_applications(
    appset: AppSet, sets: list[ParamSet], engine: GoTemplateEngine
) -> tuple[list[Application], list[TemplateError]]:
    """The Applications of every parameter set that renders, and the errors of those that do not."""
    spec = appset.data.get("spec", {})
    template = spec.get("template") or {}
    patch = spec.get("templatePatch")
    fields = list(template_strings(template, ()))
    options, go_template = appset.options, appset.go_template
    jobs: list[Job] = []
    for params in sets:
        jobs += [Job(text, params.params, options) for _, text in fields]
        if patch:
            jobs.append(Job(str(patch), params.params, options, yaml=True))
    results = iter(engine.render_many(jobs) if go_template else [])
    apps = []
    errors: list[TemplateError] = []
    for params in sets:
        app = plain_copy(template)
        failed = False
        for where, text in fields:
            output = next(results) if go_template else None
            if output is not None and output.error is not None:
                failed = True
                errors.append(_template_error(appset, params, ".".join(map(str, where)), output.error))
                continue
            _put(app, where, (output.output or "") if output is not None else _fasttemplate(text, params.params))
        if patch and go_template:
            rendered = next(results)
            if rendered.error is None:
                _strategic_merge(app, rendered.value or {})
            else:
                failed = True
                invalid = "renders invalid YAML: " if rendered.error.startswith(YAML_ERROR) else ""
                errors.append(_template_error(appset, params, "templatePatch", invalid + rendered.error))
        if not failed:
            apps.append(_application(appset, app, params))
    return apps, errors


def template_strings(node: Any, where: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Every string field that holds template text (others render to themselves)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from template_strings(value, (*where, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from template_strings(value, (*where, index))
    elif isinstance(node, str) and "{{" in node:
        yield where, node


def _put(node: Any, where: tuple[Any, ...], value: str) -> None:
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value


def _fasttemplate(text: str, params: dict[str, Any]) -> str:
    """Argo CD's non-goTemplate mode: `{{ key }}` replaced by a string parameter, unknown tags kept."""
    out = []
    pos = 0
    while (start := text.find("{{", pos)) >= 0:
        end = text.find("}}", start + 2)
        if end < 0:
            break
        tag = text[start + 2 : end]
        value = params.get(tag.strip())
        out.append(text[pos:start])
        out.append(value if isinstance(value, str) and tag.strip() else "{{" + tag + "}}")
        pos = end + 2
    out.append(text[pos:])
    return "".join(out)


def _strategic_merge(app: dict[str, Any], patch: Any) -> None:
    """Maps merge key by key, lists and scalars replace, null removes (Application has no merge keys)."""
    if not isinstance(patch, dict):
        return
    for key, value in patch.items():
        if value is None:
            app.pop(key, None)
        elif isinstance(value, dict) and isinstance(app.get(key), dict):
            _strategic_merge(app[key], value)
        else:
            app[key] = value  # the patch was read for this Application alone: nothing else holds it


def _application(appset: AppSet, app: dict[str, Any], params: ParamSet) -> Application:
    metadata = app.get("metadata") or {}
    spec = app.get("spec") or {}
    labels = {str(k): str(v) for k, v in (metadata.get("labels") or {}).items()}
    sources = spec.get("sources") or ([spec["source"]] if spec.get("source") else [])
    chart = next((str(s.get("path")) for s in sources if isinstance(s, dict) and s.get("path")), "")
    component = params.params.get("name")
    return Application(
        appset=appset.name,
        name=str(metadata.get("name", "")),
        namespace=str((spec.get("destination") or {}).get("namespace", "")),
        phase=labels.get(PHASE_LABEL, ""),
        chart=chart,
        component=component if isinstance(component, str) else "",
        sources=tuple(params.sources),
        labels=labels,
        ignore_differences=tuple(d for d in spec.get("ignoreDifferences") or [] if isinstance(d, dict)),
    )


def _template_error(appset: AppSet, params: ParamSet, where: str, error: str) -> TemplateError:
    return TemplateError(appset.name, where, error, descriptor_of(params))


def descriptor_of(params: ParamSet) -> str:
    """The file behind a parameter set: the last generator's file that is not an inline list entry."""
    source = next((s for s in reversed(params.sources) if "#list" not in s), params.sources[-1])
    return source.partition("#")[0]


SYSTEM_IGNORES = "resource.customizations.ignoreDifferences."


def system_ignores(fleet: Fleet) -> list[dict[str, Any]]:
    """The ignoreDifferences Argo CD applies to every Application (argocd-cm split keys)."""
    rel = fleet.policy.layout.argocd_values
    if not fleet.exists(rel):
        return []
    cm = ((fleet.values(rel) or {}).get("configs") or {}).get("cm") or {}
    out = []
    for key, value in cm.items():
        if not key.startswith(SYSTEM_IGNORES) or not isinstance(value, str):
            continue
        group, _, kind = key[len(SYSTEM_IGNORES) :].rpartition("_")
        override = yaml.safe_load(value) or {}
        out.append({"group": group, "kind": kind, **override})
    return out
