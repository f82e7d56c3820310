"""Random edit sequences on generated YAML: every edit either is refused and changes nothing, or
yields exactly the intended data (checked against an independent model), keeps every comment it
does not own, touches only the lines it must, keeps the line endings, and is idempotent."""

from __future__ import annotations

import copy
import difflib
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleetmig.edit.yaml import YamlEditor, keypath
from fleetmig.edit.yaml.source import comment_texts
from fleetmig.errors import EditRefused

KEYS = ["alpha", "beta", "gamma", "delta", "on", "010", "name", "x-y", "global"]
SCALARS = st.one_of(
    st.integers(-5, 5), st.booleans(), st.sampled_from(["v", "k3d-ameide", "yes", "{{ .x }}", "", "a: b", "it's"])
)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """Block YAML with comments, blank lines, inline comments, flow and block sequences, block scalars."""
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    indent = draw(st.sampled_from([2, 4]))
    dash = draw(st.sampled_from([0, 2]))
    lines: list[str] = []

    def mapping(depth: int, count: int) -> None:
        used: set[str] = set()
        for _ in range(count):
            key = draw(st.sampled_from([k for k in KEYS if k not in used]))
            used.add(key)
            pad = " " * (indent * depth)
            if draw(st.booleans()):
                lines.append(f"{pad}# about {key} {len(lines)}")
            if draw(st.integers(0, 4)) == 0:
                lines.append("")
            written = f'"{key}"' if key in ("on", "010") else key
            kind = draw(st.integers(0, 5)) if depth < 2 else 5
            if kind <= 1:
                lines.append(f"{pad}{written}:")
                mapping(depth + 1, draw(st.integers(1, 3)))
            elif kind == 2:
                lines.append(f"{pad}{written}:")
                for item in draw(st.lists(st.sampled_from(["a", "b", "'c d'", "1"]), min_size=1, max_size=3)):
                    lines.append(f"{pad}{' ' * dash}- {item}")
            elif kind == 3:
                lines.append(f"{pad}{written}: [1, two]   # flow")
            elif kind == 4:
                lines.append(f"{pad}{written}: |")
                lines.append(f"{pad}{' ' * indent}text # not a comment")
                lines.append(f"{pad}{' ' * indent}more")
            else:
                value = draw(st.sampled_from(["1", "text", '"quoted # not a comment"', "'single'"]))
                lines.append(f"{pad}{written}: {value}" + (f" # inline {len(lines)}" if draw(st.booleans()) else ""))

    mapping(0, draw(st.integers(1, 4)))
    return newline.join(lines) + (newline if draw(st.booleans()) else "")


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = []
    if isinstance(data, dict):
        for key, value in data.items():
            out.append((*prefix, key))
            out += paths(value, (*prefix, key))
    return out


def model_apply(data: Any, op: str, args: tuple[Any, ...]) -> Any:
    """The intended result, computed without the editor."""
    data = copy.deepcopy(data)
    if op == "set":
        path, value = args
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {}) if isinstance(node, dict) else node
        node[path[-1]] = value
    elif op == "delete":
        (path,) = args
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        del parent[path[-1]]
    elif op == "rename":
        path, new = args
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        items = [(new if k == path[-1] else k, v) for k, v in parent.items()]
        parent.clear()
        parent.update(items)
    elif op == "append":
        path, item = args
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        current = parent.get(path[-1]) or []
        if item not in current:
            parent[path[-1]] = [*current, item]
    return data


@st.composite
def operations(draw: st.DrawFn, data: Any) -> tuple[str, tuple[Any, ...]]:
    existing = paths(data)
    op = draw(st.sampled_from(["set", "delete", "rename", "append"]))
    if op == "set" or not existing:
        target = draw(st.sampled_from(existing)) if existing and draw(st.booleans()) else (draw(st.sampled_from(KEYS)),)
        return "set", (target, draw(SCALARS))
    path = draw(st.sampled_from(existing))
    if op == "delete":
        return "delete", (path,)
    if op == "rename":
        return "rename", (path, draw(st.sampled_from(KEYS)))
    return "append", (path, draw(st.sampled_from(["a", "z", 1])))


def call(editor: YamlEditor, op: str, args: tuple[Any, ...]) -> None:
    getattr(editor, op)(*args)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(documents(), st.data())
def test_random_edits_keep_the_four_invariants_and_are_idempotent(text: str, data: st.DataObject) -> None:
    editor = YamlEditor(text.encode(), "p.yaml")
    crlf = "\r\n" in text
    for _ in range(3):
        before_lines = list(editor.lines)
        before_data = editor.data()
        op, args = data.draw(operations(before_data))
        try:
            call(editor, op, args)
        except EditRefused:
            assert editor.lines == before_lines, "a refused edit changed the text"
            continue
        if op == "rename" and (args[1] in _parent(before_data, args[0]) and args[1] != args[0][-1]):
            raise AssertionError("rename onto an existing key should have been refused")
        # 1. the intended data, by an independent model
        assert editor.data() == model_apply(before_data, op, args)
        # 2. comments survive unless they sat in the lines the edit removed
        removed, added = _changes(before_lines, editor.lines)
        lost = Counter(comment_texts(before_lines)) - Counter(comment_texts(editor.lines))
        assert not (lost - Counter(comment_texts(removed))), f"lost comments {lost}"
        # 3. only the lines the edit must change are changed
        if op == "rename" or (op == "set" and before_data != editor.data() and _scalar_edit(before_data, args)):
            assert len(removed) <= 1 and len(added) <= 1 + (not before_lines[-1].endswith("\n") if before_lines else 0)
        if op == "delete":
            assert not [line for line in added if line.strip() not in ("{}", "[]") and ": {}" not in line]
        # 4. line endings
        if crlf:
            assert all(line.endswith("\r\n") for line in editor.lines[:-1])
        # idempotency: the same edit again changes nothing
        again = list(editor.lines)
        call(editor, op, args)  # neither refused nor changing anything
        assert editor.lines == again, f"{op}{args} is not idempotent"


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def _scalar_edit(data: Any, args: tuple[Any, ...]) -> bool:
    path, _ = args
    node = data
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return not isinstance(node, (dict, list)) and "\n" not in str(node)


def _changes(old: list[str], new: list[str]) -> tuple[list[str], list[str]]:
    removed: list[str] = []
    added: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += old[i1:i2]
            added += new[j1:j2]
    return removed, added


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    documents(),
    st.lists(
        st.tuples(st.sampled_from(["", "global", "global.ameide", "alpha"]), st.sampled_from(KEYS), SCALARS), max_size=3
    ),
)
def test_inserts_keep_every_untouched_line_and_comment(text: str, edits: list[tuple[str, str, object]]) -> None:
    editor = YamlEditor(text.encode(), "p.yaml")
    original = editor.lines[:]
    for parent, key, value in edits:
        try:
            editor.insert(parent, key, value)
        except EditRefused:
            continue
        assert editor.get((*keypath(parent), key)) == value
    # Untouched lines survive in order: the old lines are a subsequence of the new ones (a last
    # line without a line break gains one when something is appended after it).
    remaining = iter(editor.lines)
    assert all(any(line.rstrip("\r\n") == new.rstrip("\r\n") for new in remaining) for line in original)
    assert editor.text.endswith(("\n", "\r")) == text.endswith(("\n", "\r"))
    if "\r\n" in text:
        assert all(line.endswith("\r\n") for line in editor.lines[:-1])


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_moving_a_top_level_key_under_the_contract_loses_nothing(text: str) -> None:
    editor = YamlEditor(text.encode(), "p.yaml")
    data = editor.data()
    if not isinstance(data, dict) or len(data) < 2 or "global" in data:
        return
    first = next(iter(data))
    editor.move((first,), ("global", "ameide", first))
    assert editor.get(("global", "ameide", first)) == data[first]
    assert {k: v for k, v in editor.data().items() if k != "global"} == {k: v for k, v in data.items() if k != first}
