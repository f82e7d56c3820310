"""Helm values as plain data: fast loading for reading, and Helm's layering of values files.

Codemods that only read values (to learn what a chart receives) use these; the format-preserving
editor is for files that will change.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from fleetmig.errors import InputError

SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML was built with it


def load_values(text: bytes, rel: str) -> Any:
    """The single document of a values file as plain data (None when empty)."""
    try:
        docs = [doc for doc in yaml.load_all(text, Loader=SAFE_LOADER) if doc is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise InputError(f"invalid YAML: {exc.problem or exc}", rel, line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", rel) from None
    if len(docs) > 1:
        raise InputError("a values file must hold one YAML document; Helm reads only the first", rel)
    return docs[0] if docs else None


def coalesce(layers: Iterable[Mapping[str, Any] | None]) -> dict[str, Any]:
    """Merge values layers lowest first, as Helm does: maps merge key by key, anything else
    (lists included) is replaced, and a null removes the key from what lower layers set."""
    merged: dict[str, Any] = {}
    for layer in layers:
        if layer:
            _merge_into(merged, layer)
    return merged


def _merge_into(base: dict[str, Any], top: Mapping[str, Any]) -> None:
    for key, value in top.items():
        if value is None:
            base.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge_into(base[key], value)
        elif isinstance(value, Mapping):
            nested: dict[str, Any] = {}
            _merge_into(nested, value)
            base[key] = nested
        else:
            base[key] = copy.deepcopy(value)


MISSING = object()


def lookup(values: Any, keys: Iterable[str]) -> Any:
    """The value at `keys` (MISSING when any step is absent or not a mapping)."""
    node = values
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return MISSING
        node = node[key]
    return node
