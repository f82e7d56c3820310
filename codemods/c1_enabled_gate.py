"""C1: every owned chart has `enabled: true|false`, and `false` renders nothing."""

from __future__ import annotations

import json

from fleetmig.edit.gotemplate import TemplateSyntaxError, wrapping_if
from fleetmig.edit.json import JsonEdit, JsonText, syntax_problem
from fleetmig.engine import Changeset, Codemod
from fleetmig.errors import EditRefused
from fleetmig.fleet.charts import Chart, application_charts, template_files
from fleetmig.fleet.model import Fleet

GATE = ".Values.enabled"
COMMENT = "Render this chart's resources; false renders nothing (plan 519 Phase C)."
SCHEMA_FILE = "values.schema.json"


class EnabledGate(Codemod):
    """Give every owned chart a first-class `enabled` switch.

    ## What it changes
    For every owned chart that is installed as a release (not a library, not a subchart):

    - `values.yaml` gets `enabled: true` as its first key, with a comment saying what it does
      (the file is created when the chart has none);
    - every template (files in `templates/` not starting with `_`; helpers and partials are left
      alone) is wrapped in `{{ if .Values.enabled -}}` … `{{ end -}}`, placed so that Helm's
      output with `enabled: true` is byte for byte what it was, and `enabled: false` renders
      nothing; a template already wrapped in `if .Values.enabled` is recognised and left alone;
    - a `values.schema.json` (phase A creates one) gains `enabled: {"type": "boolean"}`, which
      also keeps a schema with `additionalProperties: false` accepting the new key.

    A chart whose `enabled` already means something else (not a boolean), or with a template
    fleetmig cannot parse, is reported and left whole (a half-gated chart would still render
    with `enabled: false`); a schema that types `enabled` otherwise is reported.

    ## Why
    Every workload we own supports `enabled: true|false` (plan 519 §2 goal 3, Phase C, lint L15),
    so a cluster type turns a component off explicitly instead of emptying its values and letting
    Argo CD prune.

    ## Before
        # templates/service.yaml
        apiVersion: v1
        kind: Service

    ## After
        # values.yaml
        # Render this chart's resources; false renders nothing (plan 519 Phase C).
        enabled: true
        # templates/service.yaml
        {{ if .Values.enabled -}}
        apiVersion: v1
        kind: Service
        {{ end -}}
    """

    id = "c1-enabled-gate"
    phase = "C"
    title = "Owned charts get enabled: true|false; false renders nothing"

    def apply(self, fleet: Fleet) -> Changeset:
        changeset = self.changeset()
        for chart in application_charts(fleet):
            gates: list[tuple[str, bytes, bytes | None]] = []
            for rel in template_files(fleet, chart):
                if not rel.rsplit("/", 1)[-1].startswith("_"):
                    gates += self._gate(fleet, rel, changeset)
            if any(after is None for _, _, after in gates):
                continue  # a chart half gated would still render with enabled: false
            if self._values(fleet, chart, changeset):
                for rel, before, after in gates:
                    assert after is not None
                    changeset.edit(rel, before, after, "render nothing when `enabled` is false", 1)
                self._schema(fleet, chart, changeset)
        return changeset

    def _values(self, fleet: Fleet, chart: Chart, changeset: Changeset) -> bool:
        """Ensure `enabled: true` in the chart's defaults; False when the chart's `enabled` is not ours."""
        rel = f"{chart.path}/values.yaml"
        if not fleet.exists(rel):
            changeset.create(rel, f"# {COMMENT}\nenabled: true\n".encode(), "the chart's enabled switch")
            return True
        # Read as Helm reads it; the format-preserving editor (a much slower parse) only to edit.
        data = fleet.values(rel)
        if isinstance(data, dict) and "enabled" in data:
            if isinstance(data["enabled"], bool):
                return True
            changeset.manual(
                rel,
                fleet.yaml(rel).line_of(("enabled",)),
                "`enabled` is not a boolean here: the chart uses the name for something else; rename it first",
            )
            return False
        if data is not None and not isinstance(data, dict):
            changeset.manual(rel, 1, "values.yaml is not a mapping at the top level")
            return False
        editor = fleet.yaml(rel)
        try:
            first = next(iter(editor.data() or {}), None)
            editor.insert((), "enabled", True, before=first, comment=COMMENT)
        except EditRefused as refusal:
            changeset.manual(rel, refusal.line, f"not changed: {refusal.message}")
            return False
        changeset.edit(rel, fleet.read_bytes(rel), editor.to_bytes(), "the chart's enabled switch, on by default", 1)
        return True

    def _gate(self, fleet: Fleet, rel: str, changeset: Changeset) -> list[tuple[str, bytes, bytes | None]]:
        """[(path, before, after)] when the template needs the gate; after is None when it cannot have it."""
        raw = fleet.read_bytes(rel)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            changeset.manual(rel, None, "not UTF-8 text; the chart is not gated")
            return [(rel, raw, None)]
        if not text.strip():
            return []
        try:
            gate = wrapping_if(text)
        except TemplateSyntaxError as error:
            changeset.manual(rel, error.line, f"the chart is not gated: {error.message}")
            return [(rel, raw, None)]
        if gate is not None and gate.condition == GATE:
            return []
        return [(rel, raw, gated(text).encode("utf-8"))]

    def _schema(self, fleet: Fleet, chart: Chart, changeset: Changeset) -> None:
        rel = f"{chart.path}/{SCHEMA_FILE}"
        if not fleet.exists(rel):
            return
        raw = fleet.read_bytes(rel)
        text = raw.decode("utf-8-sig", errors="replace")
        doc = JsonText(text)
        try:
            data = json.loads(text)
        except ValueError as error:
            line, message = syntax_problem(text, error) if isinstance(error, json.JSONDecodeError) else (1, str(error))
            changeset.manual(rel, line, f"not JSON: {message}")
            return
        properties = data.get("properties") if isinstance(data, dict) else None
        current = properties.get("enabled") if isinstance(properties, dict) else None
        if current is not None:
            if not (isinstance(current, dict) and current.get("type") == "boolean"):
                line = doc.line_of(("properties", "enabled"))
                changeset.manual(rel, line, "`enabled` is typed otherwise; make it a boolean")
            return
        if isinstance(properties, dict):
            doc.apply(JsonEdit("add", ("properties",), {"type": "boolean"}, "enabled"))
        else:
            doc.apply(JsonEdit("add", (), {"enabled": {"type": "boolean"}}, "properties"))
        bom = "\ufeff" if raw.startswith(b"\xef\xbb\xbf") else ""
        changeset.edit(rel, raw, (bom + doc.text).encode("utf-8"), "the schema accepts `enabled: true|false`", 1)


def gated(text: str) -> str:
    """`text` inside `if .Values.enabled`, arranged so the enabled output is exactly `text`."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text[len(bom) :]
    newline = "\r\n" if "\r\n" in body else "\n"
    # `-}}` eats the newline after the opening action, and with it any whitespace the template
    # starts with: only right-trim when the template starts with something else.
    trims = body[:1] not in (" ", "\t", "\r", "\n")
    opening = f"{{{{ if {GATE} -}}}}{newline}" if trims else f"{{{{- if {GATE} }}}}"
    closing = f"{{{{ end -}}}}{newline}" if body.endswith("\n") else "{{ end }}"
    return bom + opening + body + closing
