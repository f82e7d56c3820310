"""Valid JSON text edited in place: only the bytes an edit must change change.

The JSON counterpart of the YAML editor, for files such as `values.schema.json`: new members take
the indentation of their neighbours and the file's line ending, a list written on one line is
extended on that line, and everything else (key order, spacing, BOM, CRLF) stays as it was.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Pointer = tuple[str, ...]


@dataclass(frozen=True)
class JsonEdit:
    """One edit of the existing schema, addressed by the path of keys to the node it changes."""

    kind: Literal["add", "append", "replace"]
    pointer: Pointer  # the object to add to, the list to extend, or the value to replace
    value: Any
    key: str = ""  # for "add"


def applied(data: dict[str, Any], ops: Sequence[JsonEdit]) -> dict[str, Any]:
    """The data the spliced text must parse to."""
    out = copy.deepcopy(data)
    for op in ops:
        if op.kind == "replace":
            _at(out, op.pointer[:-1])[op.pointer[-1]] = op.value
        elif op.kind == "append":
            _at(out, op.pointer).extend(op.value)
        else:
            _at(out, op.pointer)[op.key] = op.value
    return out


def _at(data: Any, pointer: Pointer) -> Any:
    for key in pointer:
        data = data[key]
    return data


@dataclass
class JsonNode:
    """Where one JSON value sits in the text; members map each key to its offset and value."""

    start: int
    end: int
    members: dict[str, tuple[int, JsonNode]] = field(default_factory=dict)
    items: list[JsonNode] = field(default_factory=list)
    duplicate: tuple[str, int] | None = None  # the first repeated key in this subtree, with its offset


INLINE_WIDTH = 60  # a leaf rule this short reads best on one line, as hand-written schemas have it
_SCALAR = re.compile(r"[^\s,\]}]+")


class JsonText:
    """Valid JSON text that edits are spliced into: only the bytes an edit must change change.

    New lines take the indentation of their neighbours, nested levels the file's indent unit, and
    the file's line ending; a list written on one line is extended on that line.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._original = text
        self.newline = "\r\n" if "\r\n" in text else "\n"

    @functools.cached_property
    def unit(self) -> str:
        """The file's indent unit, as it was written (only edits that add nesting need it)."""
        return _indent_unit(self._original)

    def tree(self) -> JsonNode:
        return _Parser(self.text).parse()

    def duplicate_key(self) -> tuple[str, int] | None:
        found = self.tree().duplicate
        return (found[0], self._line(found[1])) if found else None

    def line_of(self, pointer: Pointer) -> int:
        """Line of the last key of `pointer` that exists in the text (the object's own line for ())."""
        node, offset = self.tree(), 0
        for key in pointer:
            if key not in node.members:
                break
            offset, node = node.members[key]
        return self._line(offset if pointer else node.start)

    def apply(self, op: JsonEdit) -> None:
        chain = [self.tree()]
        for key in op.pointer:
            chain.append(chain[-1].members[key][1])
        target = chain[-1]
        if op.kind == "append":
            self._append_items(target, op.value)
            return
        # The objects whose layout the edit lives in: the target of an added member, the
        # container of a replaced value.
        holders = chain if op.kind == "add" else chain[:-1]
        flat = next((depth for depth, node in enumerate(holders) if self._one_line(node)), None)
        inline = "\n" not in self._render(op.value, "")
        if op.kind == "replace" and (flat is None or inline):
            self._replace(target, op.value)
        elif op.kind == "add" and flat is None and target.members:
            self._add_member(target, op.key, op.value)
        elif op.kind == "add" and inline and target.members:
            _, last = list(target.members.values())[-1]
            member = f"{json.dumps(op.key, ensure_ascii=False)}: {self._render(op.value, '')}"
            self._splice(last.end, last.end, f", {member}")
        else:
            # A one-line (or empty) object cannot take a multi-line value in place: lay out again
            # the outermost one-line object around the edit, with the edit made.
            depth = len(holders) - 1 if flat is None else flat
            outer = holders[depth]
            data = json.loads(self.text[outer.start : outer.end], object_pairs_hook=dict)
            edited = applied(data, [JsonEdit(op.kind, op.pointer[depth:], op.value, op.key)])
            self._splice(outer.start, outer.end, self._render(edited, _line_indent(self.text, outer.start)))

    def _add_member(self, node: JsonNode, key: str, value: Any) -> None:
        key_offset, last = list(node.members.values())[-1]
        indent = _line_indent(self.text, key_offset)
        entry = f"{json.dumps(key, ensure_ascii=False)}: {self._render(value, indent)}"
        self._splice(last.end, last.end, f",{self.newline}{indent}{entry}")

    def _append_items(self, node: JsonNode, values: list[Any]) -> None:
        if not node.items:
            self._splice(node.start, node.end, self._render(values, _line_indent(self.text, node.start)))
            return
        last = node.items[-1]
        if self._one_line(node):
            between = self.text[node.items[-2].end : last.start] if len(node.items) > 1 else ", "
            separator = between if "\n" not in between else ", "
        else:
            separator = f",{self.newline}{_line_indent(self.text, last.start)}"
        added = "".join(separator + json.dumps(value, ensure_ascii=False) for value in values)
        self._splice(last.end, last.end, added)

    def _replace(self, node: JsonNode, value: Any) -> None:
        if node.items and not self._one_line(node) and isinstance(value, list) and not _has_containers(value):
            # A list written one item per line stays that way.
            item_indent = _line_indent(self.text, node.items[0].start)
            lines = f",{self.newline}".join(item_indent + json.dumps(v, ensure_ascii=False) for v in value)
            closing = _line_indent(self.text, node.end - 1)
            self._splice(node.start, node.end, f"[{self.newline}{lines}{self.newline}{closing}]")
            return
        self._splice(node.start, node.end, self._render(value, _line_indent(self.text, node.start)))

    def _render(self, value: Any, indent: str) -> str:
        return render(value, indent, self.unit, self.newline)

    def _one_line(self, node: JsonNode) -> bool:
        return "\n" not in self.text[node.start : node.end]

    def _splice(self, start: int, end: int, replacement: str) -> None:
        self.text = self.text[:start] + replacement + self.text[end:]

    def _line(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1


class _Parser:
    """Offsets of every value in text that `json.loads` has already accepted."""

    def __init__(self, text: str) -> None:
        self.text = text

    def parse(self) -> JsonNode:
        return self._value(self._skip(0))

    def _skip(self, pos: int) -> int:
        while pos < len(self.text) and self.text[pos] in " \t\r\n":
            pos += 1
        return pos

    def _value(self, pos: int) -> JsonNode:
        char = self.text[pos]
        if char == "{":
            return self._object(pos)
        if char == "[":
            return self._array(pos)
        if char == '"':
            return JsonNode(pos, self._string_end(pos))
        match = _SCALAR.match(self.text, pos)
        assert match is not None
        return JsonNode(pos, match.end())

    def _object(self, start: int) -> JsonNode:
        node = JsonNode(start, start)
        pos = self._skip(start + 1)
        while self.text[pos] != "}":
            key_end = self._string_end(pos)
            key = json.loads(self.text[pos:key_end])
            value = self._value(self._skip(self._skip(key_end) + 1))  # past the colon
            if key in node.members and node.duplicate is None:
                node.duplicate = (key, pos)
            node.duplicate = node.duplicate or value.duplicate
            node.members[key] = (pos, value)
            pos = self._skip(value.end)
            if self.text[pos] == ",":
                pos = self._skip(pos + 1)
        node.end = pos + 1
        return node

    def _array(self, start: int) -> JsonNode:
        node = JsonNode(start, start)
        pos = self._skip(start + 1)
        while self.text[pos] != "]":
            item = self._value(pos)
            node.duplicate = node.duplicate or item.duplicate
            node.items.append(item)
            pos = self._skip(item.end)
            if self.text[pos] == ",":
                pos = self._skip(pos + 1)
        node.end = pos + 1
        return node

    def _string_end(self, pos: int) -> int:
        pos += 1
        while self.text[pos] != '"':
            pos += 2 if self.text[pos] == "\\" else 1
        return pos + 1


def render(value: Any, indent: str, unit: str, newline: str) -> str:
    """JSON for `value` starting on a line indented by `indent`: objects one member per line, except
    short ones that hold no object (`{"type": "boolean"}`); lists of plain values on one line."""
    inner = indent + unit
    if isinstance(value, dict) and value and not any(isinstance(item, dict) for item in value.values()):
        flat = (
            "{"
            + ", ".join(
                f"{json.dumps(k, ensure_ascii=False)}: {render(v, inner, unit, newline)}" for k, v in value.items()
            )
            + "}"
        )
        if len(flat) <= INLINE_WIDTH and newline not in flat:
            return flat
    if isinstance(value, dict) and value:
        members = (
            f"{inner}{json.dumps(key, ensure_ascii=False)}: {render(item, inner, unit, newline)}"
            for key, item in value.items()
        )
        return "{" + newline + f",{newline}".join(members) + newline + indent + "}"
    if isinstance(value, list) and _has_containers(value):
        items = (inner + render(item, inner, unit, newline) for item in value)
        return "[" + newline + f",{newline}".join(items) + newline + indent + "]"
    if isinstance(value, list):
        return "[" + ", ".join(json.dumps(item, ensure_ascii=False) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _has_containers(values: list[Any]) -> bool:
    return any(isinstance(value, (dict, list)) for value in values)


def _indent_unit(text: str) -> str:
    """The file's indent step: the shallowest indentation it uses (two spaces when it has none)."""
    widths = []
    for line in text.splitlines():
        body = line.lstrip(" \t")
        if body and len(body) < len(line):
            if line[0] == "\t":
                return "\t"
            widths.append(len(line) - len(body))
    return " " * min(widths) if widths else "  "


def _line_indent(text: str, offset: int) -> str:
    start = text.rfind("\n", 0, offset) + 1
    line = text[start:offset]
    return line[: len(line) - len(line.lstrip(" \t"))]


def syntax_problem(text: str, error: json.JSONDecodeError) -> tuple[int, str]:
    """Line and message for a JSON syntax error; a trailing comma, the usual hand-edit slip, is
    named at its own line rather than at the bracket after it."""
    before = text[: error.pos].rstrip()
    if before.endswith(",") and text[error.pos : error.pos + 1] in ("}", "]"):
        return before.count("\n") + 1, "not valid JSON: trailing comma (JSON allows none); Helm cannot read it"
    return error.lineno, f"not valid JSON ({error.msg}, column {error.colno}); Helm cannot read it"


def line_of_byte(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1
