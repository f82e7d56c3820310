"""A JSON report written piece by piece, byte-identical to `json.dumps(document, indent=2)`.

`apply --format json` reports every change with its diff: tens of megabytes at fleet scale. Encoded
whole, the report was held as objects, as text, and again while it was redacted; written a member
and a list item at a time, with its lists given as iterators, it is never held whole.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any


def chunks(document: Mapping[str, Any], item: Callable[[Any], Any] = lambda value: value) -> Iterator[str]:
    """The text of `document`; a member whose value is an iterator (not a list) is a list read one
    item at a time, and `item` (redaction) is applied to every value and list item as it is written."""
    if not document:
        yield "{}"
        return
    separator = "{"
    for key, value in document.items():
        yield f"{separator}\n  {json.dumps(key)}: "
        separator = ","
        if isinstance(value, Iterator):
            yield from _list(value, item)
        else:
            yield _nested(item(value), 1)
    yield "\n}"


def _list(values: Iterable[Any], item: Callable[[Any], Any]) -> Iterator[str]:
    opening = "["
    for value in values:
        yield f"{opening}\n    {_nested(item(value), 2)}"
        opening = ","
    yield "[]" if opening == "[" else "\n  ]"


def _nested(value: Any, depth: int) -> str:
    """`value` encoded as json.dumps(indent=2) encodes it `depth` levels down."""
    return json.dumps(value, indent=2).replace("\n", "\n" + "  " * depth)
