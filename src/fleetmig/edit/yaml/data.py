"""Plain, order-aware views of parsed YAML, for proving that an edit changed exactly what it meant to."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from ruamel.yaml.scalarbool import ScalarBoolean


@dataclass(frozen=True)
class Match:
    """A path segment selecting the sequence item whose mapping has `key: value` (e.g. `[name=app]`)."""

    key: str
    value: str

    def __str__(self) -> str:
        return f"[{self.key}={self.value}]"


Segment: TypeAlias = str | int | Match
KeyPath: TypeAlias = tuple[Segment, ...]
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]|\[([^=\]]+)=([^\]]*)\]|(\.)")


def keypath(path: str | KeyPath) -> KeyPath:
    """`global.ameide.cluster`, `spec.steps.0`, `containers[name=app].image` or `steps[2]` → tuple.

    Integer segments index sequences; `[key=value]` selects the item whose `key` equals `value`.
    """
    if isinstance(path, tuple):
        return path
    segments: list[Segment] = []
    position = 0
    for match in _SEGMENT.finditer(path):
        if match.start() != position:
            raise ValueError(f"cannot parse key path `{path}` at column {position + 1}")
        position = match.end()
        plain_key, index, item_key, item_value, _dot = match.groups()
        if plain_key is not None:
            segments.append(int(plain_key) if plain_key.isdigit() and str(int(plain_key)) == plain_key else plain_key)
        elif index is not None:
            segments.append(int(index))
        elif item_key is not None:
            segments.append(Match(item_key, item_value))
    if position != len(path):
        raise ValueError(f"cannot parse key path `{path}` at column {position + 1}")
    return tuple(segments)


def resolve(data: Any, path: KeyPath) -> KeyPath | None:
    """`path` with every Match replaced by an index into `data` (None when something is missing)."""
    resolved: list[str | int] = []
    node = data
    for segment in path:
        if isinstance(segment, Match):
            if not isinstance(node, list):
                return None
            found = [
                i
                for i, item in enumerate(node)
                if isinstance(item, Mapping) and segment.key in item and str(item[segment.key]) == segment.value
            ]
            if not found:
                return None
            segment = found[0]
        if isinstance(node, Mapping):
            if segment not in node:
                return None
        elif not (isinstance(node, list) and isinstance(segment, int) and -len(node) <= segment < len(node)):
            return None
        resolved.append(segment)
        node = node[segment]
    return tuple(resolved)


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
    return resolve(data, path) is not None


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


def replaced(data: Any, path: KeyPath, value: Any) -> Any:
    """A copy of `data` with the node at `path` replaced by `value` (in place, order kept)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy: Any = list(data) if isinstance(data, list) else dict(data)
    copy[head] = replaced(copy[head], rest, value)
    return copy


def without(data: Any, path: KeyPath) -> Any:
    """A copy of `data` without the entry at `path`."""
    head, rest = path[0], path[1:]
    if isinstance(data, list):
        assert isinstance(head, int), "resolve() item selectors first"
        copy = list(data)
        if rest:
            copy[head] = without(copy[head], rest)
        else:
            del copy[head]
        return copy
    mapping = dict(data)
    if rest:
        mapping[head] = without(mapping[head], rest)
    else:
        del mapping[head]
    return mapping
