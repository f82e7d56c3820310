"""The shortcuts that spare parsing rendered templates agree with parsing them."""

from __future__ import annotations

import pytest

from fleetmig.fleet.render import manifests, objects_of_kinds, renders_anything

TEXTS = {
    "empty": "",
    "blank": "\n  \n",
    "comments": "# Source: chart/templates/x.yaml\n# nothing here\n",
    "separators": "---\n# Source: x\n---\n...\n",
    "null document": "---\nnull\n---\n~\n",
    "empty collections": "--- {}\n--- []\n",
    "empty string": "--- ''\n",
    "object": "# Source: x\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
    "indented only": "---\n  kind: Secret\n  metadata: {name: s}\n",
    "flow object": "{kind: Deployment, apiVersion: apps/v1, metadata: {name: d}}\n",
    "block scalar document": "--- |\n  kind: Deployment\n",
    "two objects": "kind: Service\nmetadata: {name: s}\n---\napiVersion: apps/v1\nkind: Deployment\n",
    "kind in a value": "kind: ConfigMap\ndata:\n  note: the Deployment is elsewhere\n",
}


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_renders_anything_is_whether_any_object_parses(name: str) -> None:
    rendered = {"chart/templates/a.yaml": TEXTS[name], "chart/templates/NOTES.txt": "kind: Deployment\n"}
    assert renders_anything(rendered) == bool(manifests(rendered))


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_objects_of_kinds_are_the_parsed_objects_of_those_kinds(name: str) -> None:
    rendered = {"chart/templates/a.yaml": TEXTS[name], "chart/templates/b.yaml": TEXTS["object"]}
    for kinds in ({"Deployment"}, {"Secret", "Service"}, {"ConfigMap"}, set()):
        parsed = [doc for doc in manifests(rendered) if isinstance(doc, dict) and doc.get("kind") in kinds]
        assert objects_of_kinds(rendered, kinds) == parsed


def test_a_release_of_only_notes_renders_nothing() -> None:
    assert not renders_anything({"chart/templates/NOTES.txt": "apiVersion: v1\n"})
    assert renders_anything({"chart/templates/a.yaml": TEXTS["indented only"]})
