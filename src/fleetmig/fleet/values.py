"""Helm values as plain data: fast loading for reading, and Helm's layering of values files.

Codemods that only read values (to learn what a chart receives) use these; the format-preserving
editor is for files that will change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from fleetmig.errors import InputError

SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML was built with it
SAFE_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _UniqueKeys(SAFE_LOADER):  # type: ignore[misc]
    """Refuses duplicate keys, as the format-preserving editor does: Helm would silently keep the
    last one, and fleetmig must not read a file differently from how it edits it."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<:` keys may be overridden by explicit ones, that is what they are for
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (str, int, float, bool)) or key is None:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"found duplicate key {key!r}", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


def load_values(text: bytes, rel: str) -> Any:
    """The single document of a values file as plain data (None when empty)."""
    try:
        docs = [doc for doc in yaml.load_all(text, Loader=_UniqueKeys) if doc is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise InputError(f"invalid YAML: {exc.problem or exc}", rel, line) from None
    except yaml.reader.ReaderError as exc:  # undecodable bytes, control characters
        line = text[: exc.position].count(b"\n") + 1 if isinstance(exc.position, int) else None
        raise InputError(f"invalid YAML: {exc.reason} (character {exc.character!r})", rel, line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", rel) from None
    except RecursionError:
        raise InputError("nested too deeply to read", rel, 1) from None
    if len(docs) > 1:
        second = next((n for n, line in enumerate(text.splitlines(), 1) if line.startswith(b"---") and n > 1), None)
        raise InputError("a values file must hold one YAML document; Helm reads only the first", rel, second)
    if docs and _deeper_than(docs[0], MAX_DEPTH):
        raise InputError(f"nested deeper than {MAX_DEPTH} levels; no chart reads values that deep", rel, 1)
    return docs[0] if docs else None


def dump_values(data: Mapping[str, Any]) -> bytes:
    """Plain data as YAML that `load_values` reads back as the same data (no comments or layout)."""
    return yaml.dump(data, Dumper=SAFE_DUMPER, sort_keys=False, allow_unicode=True).encode("utf-8")


MAX_DEPTH = 256


def _deeper_than(data: Any, limit: int) -> bool:
    """Iteratively (the point is to refuse what would exhaust Python's recursion later)."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def coalesce(layers: Iterable[dict[str, Any] | None]) -> dict[str, Any]:
    """Merge values layers lowest first, as Helm does: maps merge key by key, anything else
    (lists included) is replaced, and a null removes the key from what lower layers set.

    The maps are new; lists and scalars are the layers' own (merged values are read, never
    changed: a caller that changes them copies them first)."""
    merged: dict[str, Any] = {}
    for layer in layers:
        if layer:
            _merge_into(merged, layer)
    return merged


def _merge_into(base: dict[str, Any], top: dict[str, Any]) -> None:
    # Parsed YAML holds plain dicts: testing for `dict`, not the `Mapping` ABC, is what makes a
    # release's values cheap to merge (every codemod asks for thousands of them).
    for key, value in top.items():
        if value is None:
            base.pop(key, None)
        elif isinstance(value, dict):
            below = base.get(key)
            if not isinstance(below, dict):
                below = base[key] = {}
            _merge_into(below, value)
        else:
            base[key] = value


def plain_copy(data: Any) -> Any:
    """A copy of parsed YAML (mappings, lists, scalars) for a caller that will change it: several
    times faster than `copy.deepcopy`, which also handles cycles and arbitrary objects, and parsed
    values have neither (an alias just becomes two equal copies)."""
    if isinstance(data, dict):
        return {key: plain_copy(value) for key, value in data.items()}
    if isinstance(data, list):
        return [plain_copy(item) for item in data]
    return data


MISSING = object()


def lookup(values: Any, keys: Iterable[str]) -> Any:
    """The value at `keys` (MISSING when any step is absent or not a mapping)."""
    node = values
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return MISSING
        node = node[key]
    return node
