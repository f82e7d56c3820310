"""B3: every goTemplate ApplicationSet fails fast on missing keys, without changing what it generates."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fleetmig.engine import Changeset, Codemod
from fleetmig.errors import EditRefused
from fleetmig.fleet.applications import template_strings
from fleetmig.fleet.appsets import GeneratorError, ParamSet, appsets_for, param_sets
from fleetmig.fleet.model import Fleet
from fleetmig.gotemplate_engine import GoTemplateEngine, Job, Result

STRICT = "missingkey=error"
MAX_ROUNDS = 20
# Go's text/template: `template: :12:23: executing "" at <.chart.valueFiles>: map has no entry for key "valueFiles"`
_MISSING = re.compile(r'template: :(\d+):(\d+): executing ".*?" at <(.+?)>: map has no entry for key')


@dataclass
class _Field:
    path: tuple[Any, ...]  # inside the ApplicationSet document
    text: str


class StrictTemplating(Codemod):
    """Add `goTemplateOptions: ["missingkey=error"]`, hardening references some parameter sets lack.

    ## What it changes
    For every ApplicationSet under `argocd/applicationsets/` with `goTemplate: true` and without
    `missingkey=error`, it expands the generators for every cluster type (through each overlay) and
    renders every template string and the `templatePatch` with Go's text/template and Argo CD's
    functions, strictly. Each field reference a parameter set lacks (`.chart.valueFiles` where a
    descriptor has no `valueFiles`) is rewritten to `(dig "chart" "valueFiles" nil .)`, which yields
    exactly what the lenient lookup gave. The option is added only when every parameter set then
    renders strictly to the same text it renders to today; otherwise nothing changes and the
    descriptor and the reference that cannot be hardened are reported. An ApplicationSet without
    `goTemplate` is reported, not converted: that changes every template's syntax.

    ## Why
    A missing key renders as `<no value>` and Argo CD applies the broken Application; with
    `missingkey=error` the ApplicationSet fails fast instead (plan 519 §1, Phase B.3, lint L8).
    Turning it on blindly stops generation for every descriptor that lacks an optional key.

    ## Before
        spec:
          goTemplate: true
          templatePatch: |
            valueFiles:
              {{- range .chart.valueFiles }}

    ## After
        spec:
          goTemplate: true
          goTemplateOptions:
            - missingkey=error
          templatePatch: |
            valueFiles:
              {{- range (dig "chart" "valueFiles" nil .) }}
    """

    id = "b3-strict-templating"
    phase = "B"
    title = 'Every goTemplate ApplicationSet gets goTemplateOptions: ["missingkey=error"]'
    requires = ("b1-local-allowlist", "b2-appset-wiring")

    def apply(self, fleet: Fleet) -> Changeset:
        changeset = self.changeset()
        engine: GoTemplateEngine | None = None
        built = {ct: {s.name: s for s in appsets_for(fleet, ct)} for ct in fleet.cluster_types}
        root = fleet.policy.layout.application_sets.rstrip("/")
        for rel in fleet.files.glob(f"{root}/*"):
            if not rel.endswith((".yaml", ".yml")) or not fleet.exists(rel):
                continue
            editor = fleet.yaml(rel)
            if editor.document_count != 1:
                continue
            data = editor.data()
            if not isinstance(data, dict) or data.get("kind") != "ApplicationSet":
                continue
            spec = data.get("spec") or {}
            name = str((data.get("metadata") or {}).get("name", ""))
            if not spec.get("goTemplate"):
                changeset.manual(
                    rel,
                    editor.line_of(("spec",)),
                    f"ApplicationSet `{name}` uses fasttemplate (no goTemplate): missingkey=error needs goTemplate, "
                    "and switching rewrites every template (`{{path}}` → `{{.path.path}}`); convert it by hand",
                )
                continue
            options = [str(o) for o in spec.get("goTemplateOptions") or []]
            if STRICT in options:
                continue
            sets: list[ParamSet] = []
            try:
                for appsets in built.values():
                    if name in appsets:
                        sets += param_sets(fleet, appsets[name])
            except GeneratorError as error:
                changeset.manual(error.path or rel, error.line, f"not changed: {error.message}")
                continue
            engine = engine or GoTemplateEngine()
            fields = list(_fields(spec))
            outcome = _harden(engine, fields, sets, tuple(options))
            if isinstance(outcome, str):
                changeset.manual(rel, editor.line_of(("spec", "goTemplate")), f"not changed: {outcome}")
                continue
            try:
                for field in fields:
                    if outcome[field.path] != field.text:
                        editor.set(("spec", *field.path), outcome[field.path])
                editor.insert("spec", "goTemplateOptions", [*options, STRICT], after="goTemplate")
            except EditRefused as refusal:
                changeset.manual(rel, refusal.line, f"not changed: {refusal.message}")
                continue
            hardened = sum(1 for f in fields if outcome[f.path] != f.text)
            note = f"; {hardened} template field{'s' * (hardened != 1)} hardened with dig" if hardened else ""
            proof = f"{len(sets)} parameter sets render the same"
            changeset.edit(
                rel,
                fleet.read_bytes(rel),
                editor.to_bytes(),
                f"ApplicationSet `{name}` fails fast on missing keys ({proof}){note}",
                editor.line_of(("spec", "goTemplateOptions")),
            )
        return changeset


def _fields(spec: dict[str, Any]) -> Iterator[_Field]:
    for where, text in template_strings(spec.get("template") or {}, ("template",)):
        yield _Field(where, text)
    if isinstance(spec.get("templatePatch"), str):
        yield _Field(("templatePatch",), spec["templatePatch"])


def _harden(
    engine: GoTemplateEngine, fields: list[_Field], sets: list[ParamSet], options: tuple[str, ...]
) -> dict[tuple[Any, ...], str] | str:
    """Field texts that render strictly to what the originals render leniently, or why there are none."""
    baseline = _render(engine, [f.text for f in fields], sets, options)
    for (field, params), result in baseline.items():
        if result.error is not None:
            return f"{_where(sets[params])} already fails to render `{fields[field].path[-1]}`: {result.error}"
    texts = [f.text for f in fields]
    for _ in range(MAX_ROUNDS):
        strict = _render(engine, texts, sets, (*options, STRICT))
        failures = [(key, r.error) for key, r in strict.items() if r.error is not None]
        if not failures:
            for key, result in strict.items():
                if result.output != baseline[key].output:
                    return (
                        f"{_where(sets[key[1]])}: hardened `{'.'.join(map(str, fields[key[0]].path))}` renders "
                        "differently; harden it by hand"
                    )
            return {field.path: text for field, text in zip(fields, texts, strict=True)}
        changed = False
        seen: set[int] = set()
        for (field, params), error in failures:
            assert error is not None
            if field in seen:  # one rewrite per field and round: the others may name the same reference
                continue
            seen.add(field)
            rewritten = _dig(texts[field], error)
            if rewritten is None:
                return (
                    f"{_where(sets[params])} makes `{fields[field].path[-1]}` fail strictly and fleetmig cannot "
                    f"harden it: {error}"
                )
            if rewritten != texts[field]:
                texts[field] = rewritten
                changed = True
        if not changed:
            return f"hardening made no progress on: {failures[0][1]}"
    return "too many missing references to harden automatically"


def _render(
    engine: GoTemplateEngine, texts: list[str], sets: list[ParamSet], options: tuple[str, ...]
) -> dict[tuple[int, int], Result]:
    keys = [(f, p) for f in range(len(texts)) for p in range(len(sets))]
    results = engine.render_many([Job(texts[f], sets[p].params, options) for f, p in keys])
    return dict(zip(keys, results, strict=True))


def _dig(text: str, error: str) -> str | None:
    """`text` with the field chain the error names rewritten to a lenient `dig` lookup."""
    match = _MISSING.search(error)
    if match is None:
        return None
    line, column, chain = int(match.group(1)), int(match.group(2)), match.group(3)
    parts = chain.split(".")
    base, keys = parts[0], parts[1:]
    if (base not in ("", "$") and not re.fullmatch(r"\$\w+", base)) or not keys or not all(keys):
        return None
    lines = text.split("\n")
    if line - 1 >= len(lines):
        return None
    raw = lines[line - 1].encode()
    start = len(raw[:column].decode(errors="ignore"))
    current = lines[line - 1]
    if not current.startswith(chain, start):
        start = current.find(chain)
        if start < 0:
            return None
    end = start + len(chain)
    if end < len(current) and (current[end].isalnum() or current[end] in "_."):
        return None
    quoted = " ".join(f'"{key}"' for key in keys)
    lines[line - 1] = f"{current[:start]}(dig {quoted} nil {base or '.'}){current[end:]}"
    return "\n".join(lines)


def _where(params: ParamSet) -> str:
    descriptor = next((s for s in reversed(params.sources) if "#list" not in s), params.sources[-1])
    return descriptor.partition("#")[0]
