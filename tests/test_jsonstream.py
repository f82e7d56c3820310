"""A streamed JSON report is byte-identical to `json.dumps(document, indent=2)`."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from fleetmig.report.jsonstream import chunks

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4)
)
documents = st.dictionaries(st.text(), values, max_size=5)


@given(documents)
def test_streamed_text_is_json_dumps_with_indent_2(document: dict[str, Any]) -> None:
    expected = json.dumps(document, indent=2)
    assert "".join(chunks(document)) == expected
    lazily = {key: iter(value) if isinstance(value, list) else value for key, value in document.items()}
    assert "".join(chunks(lazily)) == expected


def test_each_value_and_list_item_passes_through_item() -> None:
    document = {"changes": iter([{"diff": "a"}, {"diff": "b"}]), "written": True}
    shout = lambda value: {k: v.upper() for k, v in value.items()} if isinstance(value, dict) else value  # noqa: E731
    assert json.loads("".join(chunks(document, shout))) == {"changes": [{"diff": "A"}, {"diff": "B"}], "written": True}
