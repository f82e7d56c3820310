"""The in-place JSON editor: an edit changes only the bytes it must."""

from __future__ import annotations

import json

from fleetmig.edit.json import JsonEdit, JsonText


def test_added_member_takes_the_files_indent_and_line_endings() -> None:
    text = '{\r\n    "type": "object",\r\n    "required": ["image"]\r\n}\r\n'
    doc = JsonText(text)
    doc.apply(JsonEdit("add", (), {"type": "object"}, "global"))
    doc.apply(JsonEdit("append", ("required",), ["global"]))
    assert doc.text == (
        '{\r\n    "type": "object",\r\n    "required": ["image", "global"],\r\n'
        '    "global": {"type": "object"}\r\n}\r\n'  # a short leaf rule reads best on one line
    )
    assert json.loads(doc.text) == {"type": "object", "required": ["image", "global"], "global": {"type": "object"}}


def test_replace_keeps_every_other_byte() -> None:
    text = '{"a": {"enum": ["x"]},  "b": 1}\n'
    doc = JsonText(text)
    doc.apply(JsonEdit("replace", ("a", "enum"), ["x", "y"]))
    assert doc.text == '{"a": {"enum": ["x", "y"]},  "b": 1}\n'
