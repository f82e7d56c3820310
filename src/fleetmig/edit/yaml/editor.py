"""Surgical edits of YAML text: locate with ruamel.yaml, splice the original lines, prove the result.

Every operation builds new text from the untouched original lines plus the few lines it must add or
remove, then re-parses that text and checks it against the intended data and the old comments
before accepting it. If anything does not hold, the editor raises `EditRefused` and keeps the old
text: it never hands back a degraded file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from fleetmig.edit.yaml import emit
from fleetmig.edit.yaml.data import (
    KeyPath,
    canonical,
    contains,
    dotted,
    keypath,
    lookup,
    plain,
    with_inserted,
    without,
)
from fleetmig.edit.yaml.parse import load_documents
from fleetmig.edit.yaml.source import (
    BOM,
    LineStyle,
    comment_texts,
    decode,
    indent_of,
    is_blank,
    is_comment,
    is_document_marker,
    line_body,
    split_lines,
)
from fleetmig.errors import EditRefused, InputError


@dataclass(frozen=True)
class Entry:
    """One key of a block mapping and the lines it owns (0-based, inclusive)."""

    key: str
    key_line: int
    column: int
    head_start: int
    end: int
    on_dash_line: bool


@dataclass(frozen=True)
class _Point:
    """Where new mapping entries go: a column, a line index, and maybe a rewrite of the key's line."""

    column: int
    at: int
    rewrite: tuple[int, str] | None = None

    def splices(self, new_lines: list[str]) -> list[_Splice]:
        if self.rewrite is None:
            return [_Splice(self.at, self.at, new_lines)]
        index, line = self.rewrite
        return [_Splice(index, index + 1, [line, *new_lines])]


@dataclass(frozen=True)
class _Splice:
    start: int  # first replaced line
    stop: int  # one past the last replaced line
    lines: list[str]


class YamlEditor:
    """An editable YAML file (one or more documents) that keeps every byte it does not have to change."""

    def __init__(self, data: bytes | str, path: str) -> None:
        self.path = path
        if isinstance(data, bytes):
            text, self.bom = decode(data, path)
        else:
            self.bom = data.startswith(BOM)
            text = data.removeprefix(BOM)
        self._original = text
        self._load(split_lines(text))
        self.newline = LineStyle.of(text).newline
        self.style = self._detect_style()

    # ------------------------------------------------------------------ reading
    @property
    def text(self) -> str:
        return "".join(self.lines)

    def to_bytes(self) -> bytes:
        return ((BOM if self.bom else "") + self.text).encode("utf-8")

    @property
    def changed(self) -> bool:
        return self.text != self._original

    def data(self, doc: int = 0) -> Any:
        return plain(self._doc(doc))

    def has(self, path: str | KeyPath, doc: int = 0) -> bool:
        return contains(self._doc(doc), keypath(path))

    def get(self, path: str | KeyPath, doc: int = 0) -> Any:
        path = keypath(path)
        if not contains(self._doc(doc), path):
            raise KeyError(dotted(path))
        return plain(lookup(self._doc(doc), path))

    def line_of(self, path: str | KeyPath, doc: int = 0) -> int:
        """1-based line of the key at `path` (or of the document start for the root)."""
        path = keypath(path)
        if not path:
            return 1
        parent = lookup(self._doc(doc), path[:-1])
        last = path[-1]
        if isinstance(parent, CommentedSeq) and isinstance(last, int):
            return int(parent.lc.item(last)[0]) + 1
        return int(parent.lc.key(last)[0]) + 1

    def entries(self, path: str | KeyPath = (), doc: int = 0) -> list[Entry]:
        """The entries of the block mapping at `path`, with the lines each one owns."""
        path = keypath(path)
        node = lookup(self._doc(doc), path) if path else self._doc(doc)
        return self._entries(self._block_mapping(node, path))

    @property
    def document_count(self) -> int:
        return len(self.docs)

    # ------------------------------------------------------------------ edits
    def insert(
        self,
        parent: str | KeyPath,
        key: str,
        value: Any,
        *,
        before: str | None = None,
        after: str | None = None,
        comment: str | None = None,
        doc: int = 0,
    ) -> None:
        """Add `key: value` to the mapping at `parent`, creating missing parent mappings.

        New keys go at the end of the mapping unless `before`/`after` names a sibling. `comment`
        becomes a head comment owned by the new key.
        """
        parent = keypath(parent)
        root = self._doc(doc)
        if contains(root, (*parent, key)):
            raise EditRefused(f"`{dotted((*parent, key))}` already exists", self.path)
        existing, missing = self._deepest_mapping(parent, doc)
        nested: Any = value
        name = key
        for segment in reversed(missing):
            nested, name = {name: nested}, str(segment)
        if missing and (before or after):
            raise EditRefused(f"cannot place `{key}` relative to a sibling in a mapping that does not exist", self.path)
        point = self._insertion_point(existing, doc, before=before, after=after)
        new_lines = emit.block(name, nested, point.column, self.style)
        if comment:
            new_lines = [f"{' ' * point.column}# {text}".rstrip() for text in comment.splitlines()] + new_lines
        expected = self._expected(
            doc, with_inserted(self.data(doc), parent, key, plain_value(value), before=before, after=after)
        )
        self._commit(point.splices(self._terminated(new_lines, point.at)), expected, where=dotted((*parent, key)))

    def ensure_mapping(self, path: str | KeyPath, doc: int = 0) -> None:
        """Make sure a mapping exists at `path`, creating it (and its parents) as `key: {}` if missing.

        A later insert() turns the `{}` into block style, so the usual way to build a new path is
        simply to insert its first key.
        """
        path = keypath(path)
        if self.has(path, doc):
            node = lookup(self._doc(doc), path)
            if node is None or isinstance(node, CommentedMap):
                return
            raise EditRefused(
                f"`{dotted(path)}` holds a {type(plain(node)).__name__}, not a mapping",
                self.path,
                self.line_of(path, doc),
            )
        if not path or not isinstance(path[-1], str):
            raise EditRefused("a mapping path must end in a key name", self.path)
        self.insert(path[:-1], path[-1], {}, doc=doc)

    def add_comment(self, path: str | KeyPath, text: str, doc: int = 0) -> None:
        """Add a comment line directly above the key at `path` (it joins the key's own head comments)."""
        path = keypath(path)
        if not path or isinstance(path[-1], int):
            raise EditRefused("comments can only be attached to mapping keys", self.path)
        entry = self._entry(path, doc)
        line = f"{' ' * entry.column}# {text}".rstrip()
        if entry.on_dash_line:
            raise EditRefused(f"`{dotted(path)}` shares its line with a sequence dash", self.path, entry.key_line + 1)
        self._commit(
            [_Splice(entry.key_line, entry.key_line, [line + self._newline_near(entry.key_line)])],
            [plain(d) for d in self.docs],
            where=dotted(path),
        )

    def move(self, source: str | KeyPath, target: str | KeyPath, doc: int = 0) -> None:
        """Move the entry at `source` (with its head comments and value block) to `target`.

        `target` is the full new path; its last segment is the new key name. The block is
        re-indented to its new depth; missing parent mappings are created.
        """
        source, target = keypath(source), keypath(target)
        if target[: len(source)] == source:
            raise EditRefused(f"cannot move `{dotted(source)}` inside itself", self.path)
        if self.has(target, doc):
            raise EditRefused(f"`{dotted(target)}` already exists", self.path)
        if not isinstance(target[-1], str):
            raise EditRefused("the target of a move must end in a key name", self.path)
        entry = self._entry(source, doc)
        if entry.on_dash_line:
            raise EditRefused(f"`{dotted(source)}` shares its line with a sequence dash", self.path, entry.key_line + 1)
        siblings = lookup(self._doc(doc), source[:-1]) if len(source) > 1 else self._doc(doc)
        if len(siblings) == 1:
            raise EditRefused(f"moving `{dotted(source)}` would leave its parent mapping empty", self.path)
        value = self.get(source, doc)
        remaining = without(self.data(doc), source)
        parent = target[:-1]
        existing, missing = self._deepest_mapping(parent, doc)
        point = self._insertion_point(existing, doc)
        column, at = point.column, point.at
        if entry.head_start <= at <= entry.end + 1 and point.rewrite is None:
            at = entry.head_start  # the target follows the source directly: land where it was
            point = _Point(column, at)
        step = self.style.indent
        depth = column + step * len(missing)
        moved = _reindent(self.lines[entry.head_start : entry.end + 1], depth - entry.column, self.path)
        key_index = entry.key_line - entry.head_start
        moved[key_index] = _rename_key(moved[key_index], depth, str(target[-1]), self.style)
        parents = [f"{' ' * (column + step * i)}{emit.key(str(seg), self.style)}:" for i, seg in enumerate(missing)]
        new_lines = self._terminated(parents, at) + moved
        if moved and not moved[-1].endswith(("\n", "\r")):
            new_lines[-1] += self.newline
        expected = self._expected(doc, with_inserted(remaining, parent, str(target[-1]), value))
        splices = [_Splice(entry.head_start, entry.end + 1, []), *point.splices(new_lines)]
        self._commit(splices, expected, where=f"{dotted(source)} → {dotted(target)}")

    # ------------------------------------------------------------------ internals
    def _load(self, lines: list[str]) -> None:
        self.lines = lines
        self.docs = load_documents("".join(lines), self.path)
        if not self.docs:
            self.docs = [None]

    def _doc(self, doc: int) -> Any:
        if not -len(self.docs) <= doc < len(self.docs):
            raise EditRefused(f"document {doc} does not exist ({len(self.docs)} in the file)", self.path)
        return self.docs[doc]

    def _expected(self, doc: int, data: Any) -> list[Any]:
        docs = [plain(d) for d in self.docs]
        docs[doc] = data
        return docs

    def _block_mapping(self, node: Any, path: KeyPath) -> CommentedMap:
        if not isinstance(node, CommentedMap):
            raise EditRefused(f"`{dotted(path) or '<root>'}` is not a mapping", self.path)
        if node.fa.flow_style() or not node:
            line = node.lc.line + 1 if node.lc.line is not None else None
            raise EditRefused(
                f"`{dotted(path) or '<root>'}` is a flow mapping; edits inside flow style are not supported yet",
                self.path,
                line,
            )
        if getattr(node, "merge", None):
            raise EditRefused(
                f"`{dotted(path) or '<root>'}` uses a `<<` merge key; editing it could change merged values",
                self.path,
                node.lc.line + 1,
            )
        return node

    def _entries(self, mapping: CommentedMap) -> list[Entry]:
        keys = list(mapping.keys())
        positions = [tuple(mapping.lc.key(k)) for k in keys]
        column = positions[0][1]
        heads: list[int] = []
        dash: list[bool] = []
        for line, col in positions:
            on_dash = bool(self.lines[line][:col].strip())
            start = line
            while (
                not on_dash
                and start > 0
                and is_comment(self.lines[start - 1])
                and indent_of(self.lines[start - 1]) <= col
            ):
                start -= 1
            heads.append(start)
            dash.append(on_dash)
        region_end = self._region_end(positions[-1][0], column)
        entries = []
        for i, key in enumerate(keys):
            boundary = heads[i + 1] if i + 1 < len(keys) else region_end
            end = boundary - 1
            while end > positions[i][0] and (
                is_blank(self.lines[end]) or (is_comment(self.lines[end]) and indent_of(self.lines[end]) <= column)
            ):
                end -= 1
            entries.append(Entry(str(key), positions[i][0], positions[i][1], heads[i], end, dash[i]))
        return entries

    def _region_end(self, last_key_line: int, column: int) -> int:
        """One past the last line that can belong to a mapping whose keys sit at `column`."""
        index = last_key_line + 1
        while index < len(self.lines):
            line = self.lines[index]
            if is_document_marker(line):
                break
            if not is_blank(line) and not is_comment(line) and indent_of(line) < column:
                break
            index += 1
        return index

    def _entry(self, path: KeyPath, doc: int) -> Entry:
        root = self._doc(doc)
        if not contains(root, path):
            raise EditRefused(f"`{dotted(path)}` does not exist", self.path)
        parent = lookup(root, path[:-1]) if len(path) > 1 else root
        for entry in self._entries(self._block_mapping(parent, path[:-1])):
            if entry.key == str(path[-1]):
                return entry
        raise EditRefused(f"`{dotted(path)}` could not be located", self.path)

    def _deepest_mapping(self, parent: KeyPath, doc: int) -> tuple[KeyPath, KeyPath]:
        """Split `parent` into the longest existing prefix and the segments still to create."""
        node = self._doc(doc)
        for index, segment in enumerate(parent):
            child_path = parent[: index + 1]
            if isinstance(node, CommentedSeq) and isinstance(segment, int) and -len(node) <= segment < len(node):
                node = node[segment]
                continue
            if not isinstance(node, CommentedMap) or segment not in node:
                if isinstance(segment, int):
                    raise EditRefused(f"`{dotted(child_path)}` does not exist", self.path)
                return parent[:index], parent[index:]
            node = node[segment]
            if node is not None and not isinstance(node, CommentedMap):
                raise EditRefused(
                    f"`{dotted(child_path)}` holds a {type(plain(node)).__name__}, "
                    f"so `{dotted(parent)}` cannot be created under it",
                    self.path,
                    self.line_of(child_path, doc),
                )
        return parent, ()

    def _insertion_point(
        self, parent: KeyPath, doc: int, *, before: str | None = None, after: str | None = None
    ) -> _Point:
        """Where keys added to the mapping at `parent` go, and at which column."""
        root = self._doc(doc)
        node = lookup(root, parent) if parent else root
        if node is None and not parent:
            return _Point(0, self._document_end(doc))
        if node is None or (isinstance(node, CommentedMap) and not node):  # `key:` or `key: {}`
            return self._empty_value_point(parent, doc)
        entries = self._entries(self._block_mapping(node, parent))
        column = entries[0].column
        if before is None and after is None:
            return _Point(column, entries[-1].end + 1)
        anchor = before if before is not None else after
        match = [e for e in entries if e.key == anchor]
        if not match:
            raise EditRefused(f"`{dotted((*parent, str(anchor)))}` does not exist", self.path)
        if after is not None:
            return _Point(column, match[0].end + 1)
        if match[0].on_dash_line:
            raise EditRefused(f"cannot insert before `{anchor}`: it shares its line with a sequence dash", self.path)
        return _Point(column, match[0].head_start)

    def _empty_value_point(self, parent: KeyPath, doc: int) -> _Point:
        """Children for a key whose value is empty (`key:`) or `{}`: they go on the next lines, and
        a `{}` is removed from the key's line (its comment stays)."""
        holder = lookup(self._doc(doc), parent[:-1]) if len(parent) > 1 else self._doc(doc)
        if not isinstance(holder, CommentedMap):
            raise EditRefused(f"`{dotted(parent)}` is not a mapping key", self.path)
        key_line, key_col = holder.lc.key(parent[-1])
        value_line, value_col = holder.lc.value(parent[-1])
        column = key_col + self.style.indent
        body = line_body(self.lines[key_line])
        if holder[parent[-1]] is None:
            after_colon = body[body.index(":", key_col) + 1 :] if ":" in body[key_col:] else "?"
            value_text = after_colon.split(" #")[0].strip()
            if value_text:
                raise EditRefused(
                    f"`{dotted(parent)}` is `{value_text}`; refusing to replace it", self.path, key_line + 1
                )
            return _Point(column, key_line + 1)
        line = line_body(self.lines[value_line])
        close = line.find("}", value_col)
        if (
            value_line != key_line
            or close < 0
            or line[value_col : value_col + 1] != "{"
            or line[value_col + 1 : close].strip()
        ):
            raise EditRefused(f"`{dotted(parent)}` is a flow mapping spread over lines", self.path, key_line + 1)
        rest = line[close + 1 :]
        rewritten = line[:value_col].rstrip() + (rest if rest.strip() else "")
        ending = self.lines[key_line][len(line) :]
        return _Point(column, key_line + 1, (key_line, rewritten + ending))

    def _document_end(self, doc: int) -> int:
        """Line index at which content appended to an empty document goes."""
        markers = [i for i, line in enumerate(self.lines) if is_document_marker(line)]
        if len(self.docs) == 1:
            trailing = [i for i in markers if line_body(self.lines[i]).startswith("...")]
            return trailing[0] if trailing else len(self.lines)
        raise EditRefused(f"document {doc} is empty; adding content to it is not supported", self.path)

    def _terminated(self, lines: list[str], at: int) -> list[str]:
        newline = self._newline_near(at)
        return [line + newline for line in lines]

    def _newline_near(self, at: int) -> str:
        for index in (at - 1, at):
            if 0 <= index < len(self.lines):
                line = self.lines[index]
                if line.endswith("\r\n"):
                    return "\r\n"
                if line.endswith(("\n", "\r")):
                    return line[-1]
        return self.newline

    def _commit(
        self,
        splices: list[_Splice],
        expected: list[Any],
        *,
        where: str,
        removed_comments: list[str] | None = None,
    ) -> None:
        lines = list(self.lines)
        unterminated = bool(lines) and not lines[-1].endswith(("\n", "\r"))
        if unterminated and any(s.start == len(lines) for s in splices):
            lines[-1] += self.newline  # content goes after a last line that had no line break
        for splice in sorted(splices, key=lambda s: (s.start, s.stop), reverse=True):
            lines[splice.start : splice.stop] = splice.lines
        if unterminated and lines and lines[-1] != self.lines[-1]:
            lines[-1] = lines[-1].rstrip("\r\n")  # the file still ends without a line break
        try:
            new_docs = load_documents("".join(lines), self.path)
        except InputError as err:
            raise EditRefused(
                f"editing `{where}` would produce invalid YAML ({err.message}); nothing changed", self.path
            ) from None
        actual = [plain(d) for d in (new_docs or [None])]
        if canonical(actual) != canonical(expected):
            raise EditRefused(f"editing `{where}` would not produce the intended data; nothing changed", self.path)
        lost = Counter(comment_texts(self.lines)) - Counter(comment_texts(lines)) - Counter(removed_comments or [])
        if lost:
            raise EditRefused(
                f"editing `{where}` would lose the comment `{next(iter(lost))}`; nothing changed", self.path
            )
        self.lines = lines
        self.docs = new_docs or [None]

    def _detect_style(self) -> emit.Style:
        steps: Counter[int] = Counter()
        dash: Counter[int] = Counter()
        quotes: Counter[str] = Counter()

        def walk(node: Any, column: int | None) -> None:
            if isinstance(node, CommentedMap) and node and not node.fa.flow_style():
                for key in _own_keys(node):
                    value = node[key]
                    line, col = node.lc.key(key)
                    if column is not None and col > column:
                        steps[col - column] += 1
                    if isinstance(value, CommentedSeq) and value and not value.fa.flow_style():
                        item_line, _ = value.lc.item(0)
                        dash_col = indent_of(self.lines[item_line])
                        if item_line != line:
                            dash[dash_col - col] += 1
                    walk(value, col)
            elif isinstance(node, CommentedSeq):
                for item in node:
                    walk(item, None)

        for document in self.docs:
            walk(document, None)
        for line in self.lines:
            body = line_body(line)
            quotes['"'] += body.count(': "')
            quotes["'"] += body.count(": '")
        return emit.Style(
            indent=steps.most_common(1)[0][0] if steps else 2,
            sequence_dash_offset=dash.most_common(1)[0][0] if dash else 0,
            quote="'" if quotes["'"] > quotes['"'] else '"',
        )


def _own_keys(node: CommentedMap) -> list[Any]:
    """Keys written in this mapping (not those a `<<` merge key brings in)."""
    return [key for key in node if key in node.lc.data]


def plain_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): plain_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    return value


def _reindent(lines: list[str], delta: int, path: str) -> list[str]:
    out = []
    for line in lines:
        if is_blank(line):
            out.append(line)
        elif delta >= 0:
            out.append(" " * delta + line)
        else:
            indent = indent_of(line)
            if indent < -delta and not is_comment(line):
                raise EditRefused("the block is indented less than the move needs; refusing to re-indent it", path)
            out.append(line[min(indent, -delta) :])
    return out


def _rename_key(line: str, column: int, name: str, style: emit.Style) -> str:
    body = line[column:]
    end = _key_token_end(body)
    current = body[:end]
    if current.strip("'\"") == name:
        return line
    return line[:column] + emit.key(name, style) + body[end:]


def _key_token_end(body: str) -> int:
    if body[:1] in ("'", '"'):
        quote = body[0]
        index = 1
        while index < len(body):
            if body[index] == quote:
                if quote == "'" and body[index + 1 : index + 2] == "'":
                    index += 2
                    continue
                return index + 1
            index += 2 if quote == '"' and body[index] == "\\" else 1
        return len(body)
    index = 0
    while index < len(body):
        if body[index] == ":" and (index + 1 == len(body) or body[index + 1] in " \t\r\n"):
            return index
        index += 1
    return len(body)
