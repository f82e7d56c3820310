"""Text for new YAML content, in the style of the file it goes into."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Plain scalars that a YAML 1.1 reader (Helm's sigs.k8s.io/yaml, Argo CD) would not read back as the
# same string: booleans of either spec, null, numbers, and anything with YAML indicators.
_YAML11_SPECIAL = re.compile(
    r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
    r"|null|Null|NULL|~|)$"
)
_NUMBERISH = re.compile(
    r"^[-+]?(?:[0-9][0-9_:.eE+-]*|\.[0-9]+|\.inf|\.Inf|\.INF|\.nan|\.NaN|\.NAN|0x[0-9a-fA-F_]+|0o?[0-7_]+)$"
)
_SAFE_PLAIN = re.compile(r"^[A-Za-z0-9_./$()@][A-Za-z0-9_./:$(){}@ +=,*-]*$")


@dataclass(frozen=True)
class Style:
    """Indentation and quoting conventions detected in (or defaulted for) one file."""

    indent: int = 2
    sequence_dash_offset: int = 0  # 0: `key:\n- a` ; indent: `key:\n  - a`
    quote: str = '"'


def scalar(value: Any, style: Style) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if _needs_quotes(text):
        return _quoted(text, style.quote)
    return text


def _needs_quotes(text: str) -> bool:
    return (
        bool(_YAML11_SPECIAL.match(text))
        or bool(_NUMBERISH.match(text))
        or not _SAFE_PLAIN.match(text)
        or text != text.strip()
        or ": " in text
        or " #" in text
        or text.endswith(":")
    )


def _quoted(text: str, quote: str) -> str:
    if quote == "'" and all(ch.isprintable() for ch in text):
        return "'" + text.replace("'", "''") + "'"
    # A JSON string is a valid YAML double-quoted scalar; keep non-ASCII text readable.
    return json.dumps(text, ensure_ascii=False)


def key(name: str, style: Style) -> str:
    return _quoted(name, style.quote) if _needs_quotes(name) else name


def restyled(value: Any, old_token: str, style: Style) -> str:
    """`value` as a scalar token in the quoting style of the token it replaces, where it allows."""
    if not isinstance(value, str):
        return scalar(value, style)
    if old_token.startswith("'") and all(ch.isprintable() for ch in value):
        return _quoted(value, "'")
    if old_token.startswith('"'):
        return json.dumps(value, ensure_ascii=False)
    return scalar(value, style)


def flow(value: Any, style: Style) -> str:
    """One-line flow text for a value placed inside `[...]` or `{...}`."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key(str(k), style)}: {flow(v, style)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v, style) for v in value) + "]"
    text = scalar(value, style)
    if isinstance(value, str) and text == value and any(ch in value for ch in ",[]{}"):
        return _quoted(value, style.quote)  # flow indicators end a plain scalar inside flow style
    return text


def _literal(text: str, column: int) -> list[str] | None:
    """A `|` block for multi-line text a reader should see as lines, when YAML can carry it exactly."""
    if "\n" not in text.rstrip("\n") or not all(ch.isprintable() or ch == "\n" for ch in text):
        return None
    body = text.rstrip("\n")
    if body.startswith(" ") or any(line != line.rstrip() for line in body.split("\n")):
        return None
    trailing = len(text) - len(body)
    chomp = "-" if trailing == 0 else ("" if trailing == 1 else "+")
    pad = " " * column
    lines = [f"{pad}{line}" if line else "" for line in body.split("\n")]
    if trailing > 1:
        lines += [""] * (trailing - 1)
    return [f"|{chomp}", *lines]


def block(name: str, value: Any, column: int, style: Style) -> list[str]:
    """Lines (without line endings) for `name: value` with the key at `column`."""
    pad = " " * column
    head = f"{pad}{key(name, style)}:"
    if isinstance(value, str):
        literal = _literal(value, column + style.indent)
        if literal is not None:
            return [f"{head} {literal[0]}", *literal[1:]]
    if isinstance(value, Mapping):
        if not value:
            return [f"{head} {{}}"]
        lines = [head]
        for child, item in value.items():
            lines.extend(block(str(child), item, column + style.indent, style))
        return lines
    if isinstance(value, list):
        if not value:
            return [f"{head} []"]
        return [head, *sequence(value, column + style.sequence_dash_offset, style)]
    return [f"{head} {scalar(value, style)}"]


def sequence(items: list[Any], column: int, style: Style) -> list[str]:
    pad = " " * column
    lines: list[str] = []
    for item in items:
        if isinstance(item, Mapping) and item:
            entries: list[str] = []
            for child, value in item.items():
                entries.extend(block(str(child), value, column + 2, style))
            entries[0] = f"{pad}- " + entries[0][column + 2 :]
            lines.extend(entries)
        elif isinstance(item, list) and item:
            nested = sequence(item, column + 2, style)
            nested[0] = f"{pad}- " + nested[0][column + 2 :]
            lines.extend(nested)
        elif isinstance(item, Mapping):
            lines.append(f"{pad}- {{}}")
        elif isinstance(item, list):
            lines.append(f"{pad}- []")
        else:
            lines.append(f"{pad}- {scalar(item, style)}")
    return lines
