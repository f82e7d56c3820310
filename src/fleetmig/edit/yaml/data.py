"""Plain, order-aware views of parsed YAML, for proving that an edit changed exactly what it meant to."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from ruamel.yaml.scalarbool import ScalarBoolean

KeyPath: TypeAlias = tuple[str | int, ...]


def keypath(path: str | KeyPath) -> KeyPath:
    """`global.ameide.cluster` or `spec.steps.0` → tuple; integer segments index sequences."""
    if isinstance(path, tuple):
        return path
    if not path:
        return ()
    return tuple(int(part) if part.isdigit() and str(int(part)) == part else part for part in path.split("."))


def dotted(path: KeyPath) -> str:
    return ".".join(str(part) for part in path)


def plain(node: Any) -> Any:
    """ruamel's round-trip types → builtin types (dicts keep key order)."""
    if isinstance(node, Mapping):
        return {plain(key): plain(value) for key, value in node.items()}
    if isinstance(node, (str, bytes)):
        return str(node) if isinstance(node, str) else node
    if isinstance(node, Sequence):
        return [plain(item) for item in node]
    if isinstance(node, ScalarBoolean):  # an int subclass (anchored booleans): check before int
        return bool(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, (datetime.date, datetime.datetime)):
        return node
    tagged = getattr(node, "value", None)
    return plain(tagged) if tagged is not None else node


def canonical(value: Any) -> Any:
    """A comparable form in which mapping key order matters (a reviewer sees order)."""
    if isinstance(value, dict):
        return ("map", tuple((key, canonical(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("seq", tuple(canonical(item) for item in value))
    return ("scalar", type(value).__name__, value)


def lookup(data: Any, path: KeyPath) -> Any:
    node = data
    for part in path:
        node = node[part]
    return node


def contains(data: Any, path: KeyPath) -> bool:
    node = data
    for part in path:
        if isinstance(node, Mapping):
            if part not in node:
                return False
        elif not (isinstance(node, list) and isinstance(part, int) and -len(node) <= part < len(node)):
            return False
        node = node[part]
    return True


def with_inserted(
    data: Any, parent: KeyPath, key: str, value: Any, *, before: str | None = None, after: str | None = None
) -> Any:
    """A copy of `data` with `key: value` placed in the mapping at `parent` (created if missing)."""
    if not parent:
        mapping = dict(data) if isinstance(data, dict) else {}
        items = [(k, v) for k, v in mapping.items() if k != key]
        anchor = before if before is not None else after
        position = len(items)
        if anchor is not None:
            index = [k for k, _ in items].index(anchor)
            position = index if before is not None else index + 1
        items.insert(position, (key, value))
        return dict(items)
    head, rest = parent[0], parent[1:]
    if isinstance(data, list) and isinstance(head, int):
        copy = list(data)
        copy[head] = with_inserted(copy[head], rest, key, value, before=before, after=after)
        return copy
    mapping = dict(data) if isinstance(data, dict) else {}
    mapping[head] = with_inserted(mapping.get(head), rest, key, value, before=before, after=after)
    return mapping


def without(data: Any, path: KeyPath) -> Any:
    """A copy of `data` without the entry at `path`."""
    head, rest = path[0], path[1:]
    if isinstance(data, list):
        copy = list(data)
        if rest:
            copy[int(head)] = without(copy[int(head)], rest)
        else:
            del copy[int(head)]
        return copy
    mapping = dict(data)
    if rest:
        mapping[head] = without(mapping[head], rest)
    else:
        del mapping[head]
    return mapping
