"""Which lines each mapping entry and sequence item owns, from ruamel's marks plus indentation.

Ownership follows DESIGN.md: a comment block directly above a key (no blank line between, not
indented deeper than the key) belongs to that key and travels with it; a comment separated by a
blank line, or sitting at the parent's level after a block, belongs to the section and stays.
"""

from __future__ import annotations

from dataclasses import dataclass

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from fleetmig.edit.yaml.source import indent_of, is_blank, is_comment, is_document_marker


@dataclass(frozen=True)
class Entry:
    """One key of a block mapping and the lines it owns (0-based, inclusive)."""

    key: str
    key_line: int
    column: int
    head_start: int
    end: int
    on_dash_line: bool  # `- key: v`: the key shares its line with its sequence item's dash


@dataclass(frozen=True)
class Item:
    """One item of a block sequence and the lines it owns (0-based, inclusive)."""

    index: int
    dash_line: int
    dash_column: int
    head_start: int
    end: int


def own_keys(node: CommentedMap) -> list[object]:
    """Keys written in this mapping (not those a `<<` merge key brings in)."""
    return [key for key in node if key in node.lc.data]


def mapping_entries(lines: list[str], mapping: CommentedMap) -> list[Entry]:
    keys = own_keys(mapping)
    positions = [(int(mapping.lc.key(k)[0]), int(mapping.lc.key(k)[1])) for k in keys]
    column = positions[0][1]
    heads = []
    dashes = []
    for line, col in positions:
        on_dash = bool(lines[line][:col].strip())
        heads.append(line if on_dash else _head_start(lines, line, col))
        dashes.append(on_dash)
    region_end = _region_end(lines, positions[-1][0], column, sequence=False)
    entries = []
    for i, key in enumerate(keys):
        boundary = heads[i + 1] if i + 1 < len(keys) else region_end
        end = _back_off(lines, boundary - 1, positions[i][0], column)
        entries.append(Entry(str(key), positions[i][0], positions[i][1], heads[i], end, dashes[i]))
    return entries


def sequence_items(lines: list[str], sequence: CommentedSeq) -> list[Item] | None:
    """Items of a block sequence, or None when an item's content is not on its dash line."""
    dash_column = int(sequence.lc.col)
    starts = []
    for index in range(len(sequence)):
        line, col = (int(v) for v in sequence.lc.item(index))
        text = lines[line]
        if text[dash_column : dash_column + 1] != "-" or text[:dash_column].strip() or col <= dash_column:
            return None
        starts.append(line)
    heads = [_head_start(lines, line, dash_column) for line in starts]
    region_end = _region_end(lines, starts[-1], dash_column, sequence=True)
    items = []
    for i, line in enumerate(starts):
        boundary = heads[i + 1] if i + 1 < len(starts) else region_end
        items.append(Item(i, line, dash_column, heads[i], _back_off(lines, boundary - 1, line, dash_column)))
    return items


def _head_start(lines: list[str], line: int, column: int) -> int:
    start = line
    while start > 0 and is_comment(lines[start - 1]) and indent_of(lines[start - 1]) <= column:
        start -= 1
    return start


def _back_off(lines: list[str], end: int, floor: int, column: int) -> int:
    """Drop trailing blank lines and section comments (not indented past `column`) from a block."""
    while end > floor and (is_blank(lines[end]) or (is_comment(lines[end]) and indent_of(lines[end]) <= column)):
        end -= 1
    return end


def _region_end(lines: list[str], last_line: int, column: int, *, sequence: bool) -> int:
    """One past the last line that can belong to a block whose entries start at `column`."""
    index = last_line + 1
    while index < len(lines):
        line = lines[index]
        if is_document_marker(line):
            break
        if not is_blank(line) and not is_comment(line):
            indent = indent_of(line)
            if indent < column:
                break
            # An indentless sequence ends where its parent mapping's next key starts.
            if (
                sequence
                and indent == column
                and not line[column:].startswith(("- ", "-\n", "-\r"))
                and line[column:].rstrip("\r\n") != "-"
            ):
                break
        index += 1
    return index
