"""`emits_key_line` says a template surely renders an object only when real Helm agrees."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fleetmig.edit.gotemplate import emits_key_line
from fleetmig.fleet.render import renders_anything

from .helm_render import helm

GATE = ".Values.enabled"
CASES = {
    "plain object": ("apiVersion: v1\nkind: ConfigMap\n", None, True),
    "only under a condition": ("{{ if .Values.on }}\nkind: ConfigMap\n{{ end }}\n", None, False),
    "under the enabled gate, not taken": ("{{- if .Values.enabled }}\nkind: A\n{{- end }}\n", None, False),
    "under the enabled gate, taken": ("{{- if .Values.enabled }}\nkind: A\n{{- end }}\n", GATE, True),
    "under another gate": ("{{- if .Values.on }}\nkind: A\n{{- end }}\n", GATE, False),
    "the gate's else branch": ("{{ if .Values.enabled }}\n{{ else }}\nkind: A\n{{ end }}\n", GATE, False),
    "a trim marker takes the line break": ("{{ .Values.name -}}\nkind: A\n", None, False),
    "a trim marker before, the key after a line break": ("{{ .Values.name -}}\n\nx: 1\nkind: A\n", None, True),
    "in a comment": ("{{/*\nkind: A\n*/}}\n", None, False),
    "in a define": ('{{ define "x" }}\nkind: A\n{{ end }}\n', None, False),
    "in a range": ("{{ range .Values.items }}\nkind: A\n{{ end }}\n", None, False),
    "indented only": ("\n  kind: A\n", None, False),
    "a key with nothing after it on the line": ("\nkind:{{ .Values.name }}\n", None, False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_cases(name: str) -> None:
    text, gate, expected = CASES[name]
    assert emits_key_line(text, gate) is expected


def _action(body: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    trims = st.sampled_from(["", "- "]), st.sampled_from(["", " -"])
    return st.builds(lambda left, inside, right: "{{" + left + inside + right + "}}", trims[0], body, trims[1])


LITERALS = st.sampled_from(
    ["kind: A\n", "\nkind: A\n", "\n", "  note: x\n", "# kind: B\n", "# ", "---\n", "x: ", "y:", " ", "\nz: 1"]
)
VALUES = _action(st.sampled_from([".Values.name", '"w: 1"', "/* kind: C */", "/*\nkind: C\n*/"]))
CONDITIONS = st.sampled_from(["if .Values.on", "if .Values.enabled", "range .Values.items", "with .Values.obj"])


def _block(body: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda opening, inside, otherwise, closing: opening + inside + otherwise + closing,
        _action(CONDITIONS),
        body,
        st.one_of(st.just(""), st.builds(lambda a, b: a + b, _action(st.just("else")), body)),
        _action(st.just("end")),
    )


TEMPLATES = st.recursive(
    st.one_of(LITERALS, VALUES),
    lambda inner: st.one_of(_block(inner), st.lists(inner, min_size=2, max_size=4).map("".join)),
    max_leaves=12,
)


def _rendered(text: str, values: dict[str, Any]) -> dict[str, str] | None:
    """The chart of one template rendered with real Helm (None when Helm refuses it)."""
    sdk = helm()
    with tempfile.TemporaryDirectory() as folder:
        chart = Path(folder)
        (chart / "templates").mkdir()
        (chart / "Chart.yaml").write_text("apiVersion: v2\nname: probe\nversion: 0.1.0\n")
        (chart / "templates" / "t.yaml").write_text(text)
        loaded = sdk.Chart.load(str(chart))
        try:
            rendered: dict[str, str] = loaded.render(values, name="probe", namespace="default")
        except sdk.HelmError:
            return None
        finally:
            loaded.close()
    return rendered


PLAIN = {"enabled": True, "on": False, "items": [], "obj": {}, "name": "n"}


@example(body="# {{ .Values.name -}}\nkind: A\n", gate="", otherwise="", values=PLAIN)  # the trim joins the lines
@example(body=" ", gate="gate with else", otherwise="\nkind: A\n", values=PLAIN)  # only the else has the key
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=TEMPLATES,
    gate=st.sampled_from(["", "gate", "gate with else"]),
    otherwise=TEMPLATES,
    values=st.fixed_dictionaries(
        {
            "enabled": st.booleans(),
            "on": st.booleans(),
            "items": st.sampled_from([[], ["a"]]),
            "obj": st.sampled_from([{}, {"k": "v"}]),
            "name": st.sampled_from(["n", "kind: Injected\nfoo: bar", ""]),
        }
    ),
)
def test_a_template_said_to_emit_a_key_line_renders_an_object(
    body: str, gate: str, otherwise: str, values: dict[str, Any]
) -> None:
    text = body
    if gate:
        otherwise = "{{ else }}" + otherwise if gate == "gate with else" else ""
        text = "{{- if .Values.enabled }}\n" + body + otherwise + "\n{{- end }}\n"
    rendered = _rendered(text, values)
    if rendered is None:
        return
    try:
        surely = emits_key_line(text) or (values["enabled"] is True and emits_key_line(text, GATE))
    except ValueError:  # Helm parses what this lexer refuses: then nothing is claimed
        return
    if surely:
        assert renders_anything(rendered)
