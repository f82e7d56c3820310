"""Surgical edits of YAML text: locate with ruamel.yaml, splice the original lines, prove the result.

Every operation builds new text from the untouched original lines plus the few lines it must add,
change or remove, then re-parses that text and checks it against the intended data and the old
comments before accepting it. If anything does not hold, the editor raises `EditRefused` and keeps
the old text: it never hands back a degraded file. Every operation is idempotent: asking for a
state the file is already in changes nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from fleetmig.edit.yaml import emit
from fleetmig.edit.yaml.data import (
    KeyPath,
    Match,
    canonical,
    dotted,
    keypath,
    lookup,
    plain,
    replaced,
    resolve,
    with_inserted,
    without,
)
from fleetmig.edit.yaml.locate import Entry, Item, mapping_entries, own_keys, sequence_items
from fleetmig.edit.yaml.parse import load_documents
from fleetmig.edit.yaml.source import (
    BOM,
    LineStyle,
    comment_texts,
    decode,
    indent_of,
    is_document_marker,
    line_body,
    split_lines,
)
from fleetmig.errors import EditRefused, InputError

_ANCHOR = re.compile(r"(?:^|[\s\[{,])&([^\s\[\]{},]+)")
_ALIAS = re.compile(r"(?:^|[\s\[{,:])\*([^\s\[\]{},]+)")


@dataclass(frozen=True)
class _Splice:
    start: int  # first replaced line
    stop: int  # one past the last replaced line
    lines: list[str]


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
class _Block:
    """The lines of one mapping entry or sequence item: head comments, first line, last line."""

    head_start: int
    first: int  # the key line or the dash line
    end: int
    column: int  # of the key, or of the dash
    value_line: int  # where the value's text starts
    value_column: int


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
        self.lines = split_lines(text)
        self.docs = load_documents(text, path) or [None]
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

    @property
    def document_count(self) -> int:
        return len(self.docs)

    def data(self, doc: int = 0) -> Any:
        return plain(self._doc(doc))

    def has(self, path: str | KeyPath, doc: int = 0) -> bool:
        return resolve(self._doc(doc), keypath(path)) is not None

    def get(self, path: str | KeyPath, doc: int = 0) -> Any:
        return plain(self._node(self._resolved(path, doc), doc))

    def line_of(self, path: str | KeyPath, doc: int = 0) -> int:
        """1-based line of the key (or sequence item) at `path`; 1 for the root."""
        resolved = self._resolved(path, doc)
        if not resolved:
            return 1
        holder = self._node(resolved[:-1], doc)
        last = resolved[-1]
        if isinstance(holder, CommentedSeq) and isinstance(last, int):
            return int(holder.lc.item(last)[0]) + 1
        return int(holder.lc.key(last)[0]) + 1

    def entries(self, path: str | KeyPath = (), doc: int = 0) -> list[Entry]:
        """The entries of the block mapping at `path`, with the lines each one owns."""
        resolved = self._resolved(path, doc)
        return mapping_entries(self.lines, self._block_mapping(self._node(resolved, doc), resolved))

    def items(self, path: str | KeyPath, doc: int = 0) -> list[Item]:
        """The items of the block sequence at `path`, with the lines each one owns."""
        resolved = self._resolved(path, doc)
        node = self._node(resolved, doc)
        if not isinstance(node, CommentedSeq) or node.fa.flow_style() or not node:
            raise EditRefused(f"`{dotted(resolved)}` is not a non-empty block sequence", self.path)
        found = sequence_items(self.lines, node)
        if found is None:
            raise EditRefused(f"`{dotted(resolved)}` has items that start on the line after their dash", self.path)
        return found

    # ------------------------------------------------------------------ edits
    def set(self, path: str | KeyPath, value: Any, doc: int = 0) -> None:
        """Give the node at `path` this value: a scalar in place, keeping its quoting style where
        the value allows; anything else by re-emitting the value in the surrounding style. A
        missing key is inserted (with missing parents)."""
        value = _plain_value(value)
        resolved = self._existing_or_inserted(keypath(path), value, doc)
        if resolved is None:
            return
        if not resolved:
            raise EditRefused("replacing a whole document is not a surgical edit", self.path)
        old = self.get(resolved, doc)
        if canonical(old) == canonical(value):
            return
        block = self._block(resolved, doc)
        self._refuse_anchored(block, resolved)
        expected = self._expected(doc, replaced(self.data(doc), resolved, value))
        inline = self._inline_scalar(block, old, value)
        if inline is not None:
            start, stop = inline
            line = self.lines[block.value_line]
            new = line[:start] + emit.restyled(value, line[start:stop], self.style) + line[stop:]
            self._commit([_Splice(block.value_line, block.value_line + 1, [new])], expected, where=dotted(resolved))
            return
        holder = self._node(resolved[:-1], doc)
        if _is_flow(holder):
            raise EditRefused(f"`{dotted(resolved)}` sits inside a flow collection", self.path, block.first + 1)
        new_lines = self._value_lines(block, resolved, value)
        removed = comment_texts(self.lines[block.first : block.end + 1])
        splice = _Splice(block.first, block.end + 1, self._terminated(new_lines, block.first))
        self._commit([splice], expected, where=dotted(resolved), removed_comments=removed)

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
        becomes a head comment owned by the new key. Inserting a key that already holds an equal
        value changes nothing; a different value is refused (use `set`).
        """
        value = _plain_value(value)
        parent = self._resolved_prefix(keypath(parent), doc)
        if self.has((*parent, key), doc):
            if canonical(self.get((*parent, key), doc)) == canonical(value):
                return
            raise EditRefused(f"`{dotted((*parent, key))}` already exists with another value", self.path)
        existing, missing = self._deepest_mapping(parent, doc)
        if missing and (before or after):
            raise EditRefused(f"cannot place `{key}` relative to a sibling in a mapping that does not exist", self.path)
        nested: Any = value
        name = key
        for segment in reversed(missing):
            nested, name = {name: nested}, str(segment)
        point = self._insertion_point(existing, doc, before=before, after=after)
        new_lines = emit.block(name, nested, point.column, self.style)
        if comment:
            new_lines = [f"{' ' * point.column}# {text}".rstrip() for text in comment.splitlines()] + new_lines
        expected = self._expected(doc, with_inserted(self.data(doc), parent, key, value, before=before, after=after))
        self._commit(point.splices(self._terminated(new_lines, point.at)), expected, where=dotted((*parent, key)))

    def ensure_mapping(self, path: str | KeyPath, doc: int = 0) -> None:
        """Make sure a mapping exists at `path`, creating it (and its parents) as `key: {}` if missing.

        A later insert() turns the `{}` into block style, so the usual way to build a new path is
        simply to insert its first key.
        """
        path = keypath(path)
        if self.has(path, doc):
            node = self._node(self._resolved(path, doc), doc)
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

    def delete(self, path: str | KeyPath, doc: int = 0, *, keep_comment: Callable[[str], bool] | None = None) -> None:
        """Remove a key (with its head comments and value block) or a sequence item; absent is done.

        `keep_comment` picks head-comment lines that describe the surroundings rather than the
        removed entry (e.g. a note on the whole list above its first item): they stay in place."""
        resolved = resolve(self._doc(doc), keypath(path))
        if resolved is None:
            return
        if not resolved:
            raise EditRefused("deleting a whole document is not supported", self.path)
        holder = self._node(resolved[:-1], doc)
        expected = self._expected(doc, without(self.data(doc), resolved))
        where = dotted(resolved)
        if _is_flow(holder):
            if not isinstance(resolved[-1], int):
                raise EditRefused(
                    f"`{where}` sits in a flow mapping; edits inside flow style are not supported", self.path
                )
            self._commit(self._flow_rebuild(resolved[:-1], doc, drop=resolved[-1]), expected, where=where)
            return
        block = self._block(resolved, doc)
        if isinstance(holder, CommentedMap) and self.lines[block.first][: block.column].strip():
            raise EditRefused(f"`{where}` shares its line with a sequence dash", self.path, block.first + 1)
        self._refuse_if_aliased(block.head_start, block.end, where)
        kept = [
            line
            for line in self.lines[block.head_start : block.first]
            if keep_comment is not None and line.strip().startswith("#") and keep_comment(line.strip())
        ]
        removed = comment_texts([line for line in self.lines[block.head_start : block.end + 1] if line not in kept])
        end = block.end + 1
        # A block set off by blank lines on both sides leaves one separator, not two.
        if (
            end < len(self.lines)
            and not self.lines[end].strip()
            and (block.head_start == 0 or not self.lines[block.head_start - 1].strip())
        ):
            end += 1
        splices = [_Splice(block.head_start, end, kept)]
        if len(holder) == 1:
            splices = self._emptied(resolved[:-1], holder, block, doc)
        self._commit(splices, expected, where=where, removed_comments=removed)

    def nest(self, under: str, *, keep: tuple[str, ...] = (), doc: int = 0) -> None:
        """Move every root key except `keep` under a new root key `under`, in their order, with their
        comments and the blank lines between them; kept keys follow the new block. Comment lines at
        the very top of the document (its header) stay above. Nothing to nest is done."""
        node = self._doc(doc)
        if not isinstance(node, CommentedMap):
            raise EditRefused("the document is not a mapping", self.path)
        entries = self.entries((), doc)
        nested = [e for e in entries if e.key not in keep]
        if not nested:
            return
        if _is_flow(node):
            raise EditRefused("the document is a flow mapping; nesting it is not supported", self.path)
        # The comments (and blank lines) above the first key describe the file: they stay on top.
        first = min(e.head_start for e in entries)
        start = first
        while start < len(self.lines) and (not self.lines[start].strip() or self.lines[start].lstrip().startswith("#")):
            start += 1
        stop = max(e.end for e in entries) + 1
        kept_lines = [line for e in entries if e.key in keep for line in self.lines[e.head_start : e.end + 1]]
        kept_ranges = [(e.head_start, e.end + 1) for e in entries if e.key in keep]
        moved = [
            line
            for index, line in enumerate(self.lines[start:stop], start=start)
            if not any(a <= index < b for a, b in kept_ranges)
        ]
        while moved and not moved[-1].strip():
            moved.pop()
        pad = " " * self.style.indent
        indented = [pad + line if line.strip() else line for line in moved]
        newline = self._newline_near(start)
        replacement = [f"{emit.key(under, self.style)}:{newline}", *indented, *kept_lines]
        inner = {e.key: self.get((e.key,), doc) for e in nested}
        data = {under: inner, **{k: v for k, v in plain(node).items() if k in keep}}
        expected = self._expected(doc, data)
        self._commit([_Splice(start, stop, replacement)], expected, where=under)

    def rename(self, path: str | KeyPath, new_key: str, doc: int = 0) -> None:
        """Rename the key at `path`, in place (its comments and value stay as they are)."""
        path = keypath(path)
        resolved = resolve(self._doc(doc), path)
        if resolved is None:
            if self.has((*path[:-1], new_key), doc):
                return
            raise EditRefused(f"`{dotted(path)}` does not exist", self.path)
        holder = self._node(resolved[:-1], doc)
        if not isinstance(holder, CommentedMap) or not isinstance(resolved[-1], str):
            raise EditRefused(f"`{dotted(resolved)}` is not a mapping key", self.path)
        if new_key == resolved[-1]:
            return
        if new_key in holder:
            raise EditRefused(f"`{dotted((*resolved[:-1], new_key))}` already exists", self.path)
        line, column = (int(v) for v in holder.lc.key(resolved[-1]))
        renamed = _rename_key(self.lines[line], column, new_key, self.style)
        parent_data = self.get(resolved[:-1], doc)
        renamed_data = {(new_key if k == resolved[-1] else k): v for k, v in parent_data.items()}
        expected = self._expected(doc, replaced(self.data(doc), resolved[:-1], renamed_data))
        self._commit([_Splice(line, line + 1, [renamed])], expected, where=dotted(resolved))

    def move(self, source: str | KeyPath, target: str | KeyPath, doc: int = 0) -> None:
        """Move the entry at `source` (with its head comments and value block) to `target`.

        `target` is the full new path; its last segment is the new key name. The block is
        re-indented to its new depth and missing parent mappings are created. A target inside the
        source (`global` → `global.ameide.global`) nests the value one level deeper in place.
        """
        source, target = keypath(source), keypath(target)
        if not isinstance(target[-1], str) or any(not isinstance(s, str) for s in target):
            raise EditRefused("a move target must be a path of key names", self.path)
        resolved = resolve(self._doc(doc), source)
        if resolved is None:
            if self.has(target, doc):
                return  # already moved
            raise EditRefused(f"`{dotted(source)}` does not exist", self.path)
        if target[: len(resolved)] == resolved and len(target) > len(resolved):
            self._nest(resolved, target[len(resolved) :], doc)
            return
        if self.has(target, doc):
            raise EditRefused(f"`{dotted(target)}` already exists", self.path)
        parent = self._resolved_prefix(target[:-1], doc)
        existing, missing = self._deepest_mapping(parent, doc)
        in_place = existing == resolved[:-1] and self._node(existing, doc) is not None
        # In place the block keeps its position relative to any alias of its anchors.
        entry = self._movable_entry(resolved, doc, parent, check_aliases=not in_place)
        value = self.get(resolved, doc)
        remaining = without(self.data(doc), resolved)
        point, moved = self._placement(entry, self.lines, parent, str(target[-1]), doc)
        expected_data = with_inserted(remaining, parent, str(target[-1]), value)
        if in_place and point.rewrite is None:
            # The target is new in the source's own mapping: it takes the source's place, so the
            # diff shows the block re-indented in place under its new parents.
            point = _Point(point.column, entry.head_start)
            nested: Any = value
            for segment in reversed((*missing[1:], target[-1]) if missing else ()):
                nested = {segment: nested}
            holder_keys = [str(k) for k in own_keys(self._node(resolved[:-1], doc))]
            following = holder_keys[holder_keys.index(str(resolved[-1])) + 1 :]
            name = str(missing[0]) if missing else str(target[-1])
            expected_data = with_inserted(
                remaining, resolved[:-1], name, nested, before=following[0] if following else None
            )
        elif entry.head_start <= point.at <= entry.end + 1 and point.rewrite is None:
            point = _Point(point.column, entry.head_start)  # lands right after itself: splice around the hole
        expected = self._expected(doc, expected_data)
        splices = [_Splice(entry.head_start, entry.end + 1, []), *point.splices(self._terminated(moved, point.at))]
        self._commit(splices, expected, where=f"{dotted(resolved)} → {dotted(target)}")

    def move_to(
        self, other: YamlEditor, source: str | KeyPath, target: str | KeyPath, doc: int = 0, target_doc: int = 0
    ) -> None:
        """Move the entry at `source` in this file to `target` in `other`, comments travelling with it."""
        source, target = keypath(source), keypath(target)
        if not target or any(not isinstance(s, str) for s in target):
            raise EditRefused("a move target must be a path of key names", other.path)
        resolved = resolve(self._doc(doc), source)
        if resolved is None:
            if other.has(target, target_doc):
                return
            raise EditRefused(f"`{dotted(source)}` does not exist", self.path)
        if other.has(target, target_doc):
            raise EditRefused(f"`{dotted(target)}` already exists", other.path)
        entry = self._movable_entry(resolved, doc)
        value = self.get(resolved, doc)
        lines = [line_body(line) + other.newline for line in self.lines]  # the target file's line endings
        parent = other._resolved_prefix(target[:-1], target_doc)
        point, moved = other._placement(entry, lines, parent, str(target[-1]), target_doc)
        expected = other._expected(target_doc, with_inserted(other.data(target_doc), parent, str(target[-1]), value))
        saved = (list(other.lines), other.docs)
        other._commit(point.splices(other._terminated(moved, point.at)), expected, where=dotted(target))
        try:
            self.delete(resolved, doc)
        except EditRefused:
            other.lines, other.docs = saved
            raise

    def append(self, path: str | KeyPath, item: Any, doc: int = 0, *, unique: bool = True) -> None:
        """Append `item` to the sequence at `path` (block or one-line flow style), creating it if
        missing. With `unique` (the default) an item that is already there is not added again."""
        item = _plain_value(item)
        resolved = self._existing_or_inserted(keypath(path), [item], doc)
        if resolved is None:
            return
        node = self._node(resolved, doc)
        if node is not None and not isinstance(node, CommentedSeq):
            raise EditRefused(f"`{dotted(resolved)}` holds a {type(plain(node)).__name__}, not a list", self.path)
        current = self.get(resolved, doc) or []
        if unique and any(canonical(existing) == canonical(item) for existing in current):
            return
        expected = self._expected(doc, replaced(self.data(doc), resolved, [*current, item]))
        where = dotted(resolved)
        if node is None or _is_flow(node) or not node:
            if node is None:
                self.set(resolved, [item], doc)
                return
            self._commit(self._flow_rebuild(resolved, doc, add=item), expected, where=where)
            return
        items = self.items(resolved, doc)
        last = items[-1]
        new_lines = emit.sequence([item], last.dash_column, self.style)
        self._commit(
            [_Splice(last.end + 1, last.end + 1, self._terminated(new_lines, last.end + 1))], expected, where=where
        )

    def add_comment(self, path: str | KeyPath, text: str, doc: int = 0) -> None:
        """Add a comment line directly above the key at `path` (it joins the key's own head comments)."""
        resolved = self._resolved(path, doc)
        if not resolved or isinstance(resolved[-1], int):
            raise EditRefused("comments can only be attached to mapping keys", self.path)
        entry = self._entry(resolved, doc)
        if entry.on_dash_line:
            raise EditRefused(
                f"`{dotted(resolved)}` shares its line with a sequence dash", self.path, entry.key_line + 1
            )
        line = f"{' ' * entry.column}# {text}".rstrip() + self._newline_near(entry.key_line)
        self._commit(
            [_Splice(entry.key_line, entry.key_line, [line])],
            self._expected(doc, self.data(doc)),
            where=dotted(resolved),
        )

    # ------------------------------------------------------------------ locating
    def _existing_or_inserted(self, path: KeyPath, value: Any, doc: int) -> KeyPath | None:
        """The resolved `path` if it exists; otherwise insert `value` there and return None."""
        resolved = resolve(self._doc(doc), path)
        if resolved is not None:
            return resolved
        if not path or not isinstance(path[-1], str):
            raise EditRefused(f"`{dotted(path)}` does not exist", self.path)
        self.insert(path[:-1], path[-1], value, doc=doc)
        return None

    def _doc(self, doc: int) -> Any:
        if not -len(self.docs) <= doc < len(self.docs):
            raise EditRefused(f"document {doc} does not exist ({len(self.docs)} in the file)", self.path)
        return self.docs[doc]

    def _resolved(self, path: str | KeyPath, doc: int) -> KeyPath:
        path = keypath(path)
        resolved = resolve(self._doc(doc), path)
        if resolved is None:
            raise KeyError(dotted(path))
        return resolved

    def _resolved_prefix(self, path: KeyPath, doc: int) -> KeyPath:
        """Resolve item selectors in the existing part of `path`; the rest stays as written."""
        for length in range(len(path), -1, -1):
            head = resolve(self._doc(doc), path[:length])
            if head is not None:
                tail = path[length:]
                if any(isinstance(s, Match) for s in tail):
                    raise EditRefused(f"no item matches `{dotted(path[: length + 1])}`", self.path)
                return (*head, *tail)
        return path

    def _node(self, resolved: KeyPath, doc: int) -> Any:
        return lookup(self._doc(doc), resolved) if resolved else self._doc(doc)

    def _block_mapping(self, node: Any, path: KeyPath) -> CommentedMap:
        name = dotted(path) or "<root>"
        if not isinstance(node, CommentedMap):
            raise EditRefused(f"`{name}` is not a mapping", self.path)
        line = node.lc.line + 1 if node.lc.line is not None else None
        if _is_flow(node) or not node:
            raise EditRefused(f"`{name}` is a flow mapping; edits inside flow style are not supported", self.path, line)
        if getattr(node, "merge", None):
            raise EditRefused(f"`{name}` uses a `<<` merge key; editing it could change merged values", self.path, line)
        return node

    def _entry(self, resolved: KeyPath, doc: int) -> Entry:
        holder = self._block_mapping(self._node(resolved[:-1], doc), resolved[:-1])
        for entry in mapping_entries(self.lines, holder):
            if entry.key == str(resolved[-1]):
                return entry
        raise EditRefused(f"`{dotted(resolved)}` could not be located", self.path)

    def _block(self, resolved: KeyPath, doc: int) -> _Block:
        holder = self._node(resolved[:-1], doc)
        last = resolved[-1]
        if isinstance(holder, CommentedSeq) and isinstance(last, int):
            value_line, value_column = (int(v) for v in holder.lc.item(last))
            if _is_flow(holder):
                return _Block(value_line, value_line, value_line, value_column, value_line, value_column)
            item = self.items(resolved[:-1], doc)[last]
            return _Block(item.head_start, item.dash_line, item.end, item.dash_column, value_line, value_column)
        if _is_flow(holder):
            line, column = (int(v) for v in holder.lc.key(last))
            value_line, value_column = (int(v) for v in holder.lc.value(last))
            return _Block(line, line, value_line, column, value_line, value_column)
        entry = self._entry(resolved, doc)
        value_line, value_column = (int(v) for v in holder.lc.value(last))
        return _Block(entry.head_start, entry.key_line, entry.end, entry.column, value_line, value_column)

    def _movable_entry(
        self, resolved: KeyPath, doc: int, target_parent: KeyPath | None = None, *, check_aliases: bool = True
    ) -> Entry:
        if not isinstance(resolved[-1], str):
            raise EditRefused(f"`{dotted(resolved)}` is a sequence item; only mapping entries move", self.path)
        entry = self._entry(resolved, doc)
        if entry.on_dash_line:
            raise EditRefused(
                f"`{dotted(resolved)}` shares its line with a sequence dash", self.path, entry.key_line + 1
            )
        holder = self._node(resolved[:-1], doc)
        stays_filled = target_parent is not None and target_parent[: len(resolved) - 1] == resolved[:-1]
        if len(holder) == 1 and not stays_filled:
            raise EditRefused(f"moving `{dotted(resolved)}` would leave its parent mapping empty", self.path)
        if check_aliases:
            self._refuse_if_aliased(entry.head_start, entry.end, dotted(resolved))
        return entry

    def _deepest_mapping(self, parent: KeyPath, doc: int) -> tuple[KeyPath, KeyPath]:
        """Split `parent` into the longest existing prefix and the segments still to create."""
        node = self._doc(doc)
        for index, segment in enumerate(parent):
            child_path = parent[: index + 1]
            if isinstance(node, CommentedSeq) and isinstance(segment, int) and -len(node) <= segment < len(node):
                node = node[segment]
                continue
            if not isinstance(node, CommentedMap) or segment not in node:
                if not isinstance(segment, str):
                    raise EditRefused(f"`{dotted(child_path)}` does not exist", self.path)
                return parent[:index], parent[index:]
            node = node[segment]
            next_is_index = index + 1 < len(parent) and isinstance(parent[index + 1], int)
            if (
                node is not None
                and not isinstance(node, CommentedMap)
                and not (isinstance(node, CommentedSeq) and next_is_index)
            ):
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
        node = self._node(parent, doc)
        if node is None and not parent:
            return _Point(0, self._document_end(doc))
        if not parent and isinstance(node, CommentedMap) and not node:  # a document that is just `{}`
            line, column = int(node.lc.line), int(node.lc.col)
            rewritten = self._without_empty_flow(line, column, "{}")
            if rewritten is None:
                raise EditRefused("the document is a flow mapping spread over lines", self.path, line + 1)
            return _Point(0, line + 1, (line, rewritten if rewritten.strip() else ""))
        if node is None or (isinstance(node, CommentedMap) and not node):  # `key:` or `key: {}`
            return self._empty_value_point(parent, doc)
        entries = mapping_entries(self.lines, self._block_mapping(node, parent))
        column = entries[0].column
        if before is None and after is None:
            return _Point(column, self._past_commented_out(entries[-1].end + 1))
        anchor = before if before is not None else after
        match = [e for e in entries if e.key == anchor]
        if not match:
            raise EditRefused(f"`{dotted((*parent, str(anchor)))}` does not exist", self.path)
        if after is not None:
            return _Point(column, match[0].end + 1)
        if match[0].on_dash_line:
            raise EditRefused(f"cannot insert before `{anchor}`: it shares its line with a sequence dash", self.path)
        return _Point(column, match[0].head_start)

    def _past_commented_out(self, at: int) -> int:
        """Skip commented-out content that trails a block (`#   - name: x`, indented past the `#`):
        it belongs to the entry above, not to what gets appended. Prose comments stay after."""
        while at < len(self.lines) and re.match(r"\s*#\s{2,}\S", self.lines[at]):
            at += 1
        return at

    def _empty_value_point(self, parent: KeyPath, doc: int) -> _Point:
        """Children for a key whose value is empty (`key:`) or `{}`: they go on the next lines, and
        a `{}` is removed from the key's line (its comment stays)."""
        holder = self._node(parent[:-1], doc)
        if not isinstance(holder, CommentedMap):
            raise EditRefused(f"`{dotted(parent)}` is not a mapping key", self.path)
        key_line, key_col = (int(v) for v in holder.lc.key(parent[-1]))
        value_line, value_col = (int(v) for v in holder.lc.value(parent[-1]))
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
        rewritten = self._without_empty_flow(value_line, value_col, "{}")
        if value_line != key_line or rewritten is None:
            raise EditRefused(f"`{dotted(parent)}` is a flow mapping spread over lines", self.path, key_line + 1)
        return _Point(column, key_line + 1, (key_line, rewritten))

    def _without_empty_flow(self, line_index: int, column: int, brackets: str) -> str | None:
        """The line with the empty `{}`/`[]` at `column` removed (its comment kept), if it is one."""
        line = line_body(self.lines[line_index])
        close = line.find(brackets[1], column)
        if close < 0 or line[column : column + 1] != brackets[0] or line[column + 1 : close].strip():
            return None
        rest = line[close + 1 :]
        return line[:column].rstrip() + (rest if rest.strip() else "") + self.lines[line_index][len(line) :]

    def _document_end(self, doc: int) -> int:
        """Line index at which content appended to an empty document goes."""
        if len(self.docs) == 1:
            trailing = [
                i for i, line in enumerate(self.lines) if line_body(line).startswith("...") and is_document_marker(line)
            ]
            return trailing[0] if trailing else len(self.lines)
        raise EditRefused(f"document {doc} is empty; adding content to it is not supported", self.path)

    # ------------------------------------------------------------------ building new text
    def _placement(
        self, entry: Entry, lines: list[str], parent: KeyPath, name: str, doc: int
    ) -> tuple[_Point, list[str]]:
        """Where a moved entry lands in this file, and its lines re-indented and renamed."""
        existing, missing = self._deepest_mapping(parent, doc)
        point = self._insertion_point(existing, doc)
        step = self.style.indent
        depth = point.column + step * len(missing)
        moved = _reindent(lines[entry.head_start : entry.end + 1], depth - entry.column, self.path)
        key_index = entry.key_line - entry.head_start
        moved[key_index] = _rename_key(moved[key_index], depth, name, self.style)
        parents = [
            f"{' ' * (point.column + step * i)}{emit.key(str(seg), self.style)}:" for i, seg in enumerate(missing)
        ]
        return point, [*parents, *[line.rstrip("\r\n") for line in moved]]

    def _nest(self, resolved: KeyPath, rest: KeyPath, doc: int) -> None:
        """`key: V` → `key: {rest…: V}`: the value moves deeper under new keys, in place."""
        entry = self._entry(resolved, doc)
        if entry.on_dash_line:
            raise EditRefused(
                f"`{dotted(resolved)}` shares its line with a sequence dash", self.path, entry.key_line + 1
            )
        holder = self._node(resolved[:-1], doc)
        value = self.get(resolved, doc)
        nested: Any = value
        for segment in reversed(rest):
            nested = {segment: nested}
        expected = self._expected(doc, replaced(self.data(doc), resolved, nested))
        body = line_body(self.lines[entry.key_line])
        value_line, value_column = (int(v) for v in holder.lc.value(resolved[-1]))
        head, inline = body, ""
        if value is not None and value_line == entry.key_line and value_column < len(body):
            # The value (or its anchor, tag or block-scalar header) starts on the key line: it moves
            # with the value to the innermost new key, and the key line keeps only the key.
            head, inline = body[:value_column].rstrip(), body[value_column:]
        step = self.style.indent
        parents = [
            f"{' ' * (entry.column + step * (i + 1))}{emit.key(str(seg), self.style)}:" for i, seg in enumerate(rest)
        ]
        if inline:
            parents[-1] += " " + inline
        below = _reindent(self.lines[entry.key_line + 1 : entry.end + 1], step * len(rest), self.path)
        new_lines = [*self._terminated([head, *parents], entry.key_line), *below]
        where = f"{dotted(resolved)} → {dotted((*resolved, *rest))}"
        self._commit([_Splice(entry.key_line, entry.end + 1, new_lines)], expected, where=where)

    def _value_lines(self, block: _Block, resolved: KeyPath, value: Any) -> list[str]:
        """New lines for an entry or item whose whole value is replaced; the key keeps its own text
        (quoting) and the first line keeps its trailing comment."""
        first = line_body(self.lines[block.first])
        comment = _trailing_comment(first, block.column)
        if isinstance(resolved[-1], int):
            lines = emit.sequence([value], block.column, self.style)
        else:
            lines = emit.block(str(resolved[-1]), value, block.column, self.style)
            old_key = first[block.column : block.column + _key_token_end(first[block.column :])]
            new_key = emit.key(str(resolved[-1]), self.style)
            lines[0] = first[: block.column] + old_key + lines[0][block.column + len(new_key) :]
        if comment:
            lines[0] += "  " + comment
        return lines

    def _emptied(self, parent: KeyPath, holder: Any, block: _Block, doc: int) -> list[_Splice]:
        """Removing the last entry or item: the parent is left as `{}` / `[]` rather than null."""
        brackets = "{}" if isinstance(holder, CommentedMap) else "[]"
        if not parent:
            return [_Splice(block.head_start, block.end + 1, [brackets + self._newline_near(block.head_start)])]
        grand = self._node(parent[:-1], doc)
        if not isinstance(grand, CommentedMap):
            raise EditRefused(f"removing the last entry of `{dotted(parent)}` would leave an empty item", self.path)
        key_line = int(grand.lc.key(parent[-1])[0])
        body = line_body(self.lines[key_line])
        comment = _trailing_comment(body)
        head = body[: body.rindex(comment)].rstrip() if comment else body.rstrip()
        rewritten = f"{head} {brackets}" + (f"  {comment}" if comment else "") + self.lines[key_line][len(body) :]
        return [_Splice(key_line, key_line + 1, [rewritten]), _Splice(block.head_start, block.end + 1, [])]

    def _flow_rebuild(self, seq_path: KeyPath, doc: int, *, drop: int | None = None, add: Any = None) -> list[_Splice]:
        """Rewrite a one-line flow sequence with an item dropped or added; other items keep their text."""
        node = self._node(seq_path, doc)
        if not isinstance(node, CommentedSeq):
            raise EditRefused(
                f"`{dotted(seq_path)}` is a flow mapping; edits inside flow style are not supported", self.path
            )
        line_index, open_col = int(node.lc.line), int(node.lc.col)
        body = line_body(self.lines[line_index])
        if body[open_col : open_col + 1] != "[":
            raise EditRefused(f"`{dotted(seq_path)}` is not a flow sequence", self.path, line_index + 1)
        close = _matching_bracket(body, open_col)
        if close is None:
            raise EditRefused(f"`{dotted(seq_path)}` is a flow sequence spread over lines", self.path, line_index + 1)
        inner = body[open_col + 1 : close]
        tokens = _split_flow(inner)
        if tokens is None or len(tokens) != len(node):
            raise EditRefused(
                f"`{dotted(seq_path)}` has flow items fleetmig cannot split safely", self.path, line_index + 1
            )
        pad = " " if inner.startswith(" ") and inner.strip() else ""
        separator = ", " if ", " in inner or len(tokens) < 2 else ","
        if drop is not None:
            tokens = [t for i, t in enumerate(tokens) if i != drop]
        if add is not None:
            added = emit.flow(add, self.style)
            quoted = [t for t in tokens if t[:1] in ("'", '"')]
            if quoted and added[:1] in ("'", '"') and added[0] != quoted[-1][0]:
                # A new quoted item follows the quotes of its neighbours.
                added = emit.restyled(add, quoted[-1], self.style)
            tokens.append(added)
        rebuilt = body[: open_col + 1] + pad + separator.join(tokens) + pad + body[close:]
        return [_Splice(line_index, line_index + 1, [rebuilt + self.lines[line_index][len(body) :]])]

    def _inline_scalar(self, block: _Block, old: Any, value: Any) -> tuple[int, int] | None:
        """The column span of a one-line scalar token that can be replaced in place."""
        if isinstance(old, (dict, list)) or isinstance(value, (dict, list)) or block.end != block.first:
            return None
        if isinstance(value, str) and "\n" in value:
            return None
        line = line_body(self.lines[block.value_line])
        start = block.value_column
        if line[start : start + 1] in ("|", ">", "[", "{", "&", "*", "!") or block.value_line != block.first:
            return None
        stop = _scalar_end(line, start)
        return None if stop is None else (start, stop)

    def _refuse_anchored(self, block: _Block, resolved: KeyPath) -> None:
        text = line_body(self.lines[block.value_line])[block.value_column :]
        if text.startswith("&"):
            name = text[1:].split()[0] if text[1:].split() else ""
            raise EditRefused(
                f"`{dotted(resolved)}` carries anchor `&{name}`: changing it would change every alias of it",
                self.path,
                block.value_line + 1,
            )
        if text.startswith("*"):
            raise EditRefused(
                f"`{dotted(resolved)}` is an alias (`{text.split()[0]}`); edit its anchor instead",
                self.path,
                block.value_line + 1,
            )

    def _refuse_if_aliased(self, start: int, end: int, where: str) -> None:
        """Refuse to take away or reorder a block whose anchors are referenced from elsewhere."""
        inside = "".join(self.lines[start : end + 1])
        anchors = set(_ANCHOR.findall(inside))
        if not anchors:
            return
        outside = "".join(self.lines[:start] + self.lines[end + 1 :])
        used = anchors & set(_ALIAS.findall(outside))
        if used:
            name = sorted(used)[0]
            raise EditRefused(
                f"anchor `&{name}` in `{where}` is referenced by an alias: moving or removing it would change meaning",
                self.path,
                start + 1,
            )

    def _expected(self, doc: int, data: Any) -> list[Any]:
        docs = [plain(d) for d in self.docs]
        docs[doc] = data
        return docs

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

    # ------------------------------------------------------------------ proving
    def _commit(
        self, splices: list[_Splice], expected: list[Any], *, where: str, removed_comments: list[str] | None = None
    ) -> None:
        tagged = [(line, False) for line in self.lines]  # (text, written by this edit)
        unterminated = bool(tagged) and not self.lines[-1].endswith(("\n", "\r"))
        if unterminated and any(s.start == len(tagged) for s in splices):
            tagged[-1] = (self.lines[-1] + self.newline, False)  # content goes after the unterminated last line
        for splice in sorted(splices, key=lambda s: (s.start, s.stop), reverse=True):
            tagged[splice.start : splice.stop] = [(line, True) for line in splice.lines if line]
        if unterminated and tagged and tagged[-1][1]:
            tagged[-1] = (tagged[-1][0].rstrip("\r\n"), True)  # the file still ends without a line break
        lines = [line for line, _ in tagged]
        try:
            new_docs = load_documents("".join(lines), self.path) or [None]
        except InputError as err:
            raise EditRefused(
                f"editing `{where}` would produce invalid YAML ({err.message}); nothing changed", self.path
            ) from None
        if canonical([plain(d) for d in new_docs]) != canonical(expected):
            raise EditRefused(f"editing `{where}` would not produce the intended data; nothing changed", self.path)
        lost = Counter(comment_texts(self.lines)) - Counter(comment_texts(lines)) - Counter(removed_comments or [])
        if lost:
            raise EditRefused(
                f"editing `{where}` would lose the comment `{next(iter(lost))}`; nothing changed", self.path
            )
        self.lines = lines
        self.docs = new_docs

    def _detect_style(self) -> emit.Style:
        steps: Counter[int] = Counter()
        dash: Counter[int] = Counter()
        quotes: Counter[str] = Counter()

        def walk(node: Any, column: int | None) -> None:
            if isinstance(node, CommentedMap) and node and not _is_flow(node):
                for key in own_keys(node):
                    value = node[key]
                    line, col = node.lc.key(key)
                    if column is not None and col > column:
                        steps[col - column] += 1
                    if isinstance(value, CommentedSeq) and value and not _is_flow(value):
                        item_line, _ = value.lc.item(0)
                        if item_line != line:
                            dash[indent_of(self.lines[item_line]) - col] += 1
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


def _is_flow(node: Any) -> bool:
    return isinstance(node, (CommentedMap, CommentedSeq)) and bool(node.fa.flow_style())


def _plain_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_value(v) for v in value]
    return value


def _trailing_comment(body: str, start: int = 0) -> str:
    """The `# ...` comment ending a line, skipping quoted text (where `#` is not a comment)."""
    index = start
    while index < len(body):
        char = body[index]
        if char in "'\"" and (index == start or body[index - 1] in " \t:[{,-"):
            end = _scalar_end(body, index)
            if end is None:
                return ""
            index = end
            continue
        if char == "#" and (index == 0 or body[index - 1] in " \t"):
            return body[index:].strip()
        index += 1
    return ""


def _reindent(lines: list[str], delta: int, path: str) -> list[str]:
    out = []
    for line in lines:
        if not line.strip():
            out.append(line)
        elif delta >= 0:
            out.append(" " * delta + line)
        else:
            indent = indent_of(line)
            if indent < -delta and not line.lstrip().startswith("#"):
                raise EditRefused("the block is indented less than the move needs; refusing to re-indent it", path)
            out.append(line[min(indent, -delta) :])
    return out


def _rename_key(line: str, column: int, name: str, style: emit.Style) -> str:
    body = line[column:]
    end = _key_token_end(body)
    if body[:end].strip("'\"") == name:
        return line
    return line[:column] + emit.key(name, style) + body[end:]


def _key_token_end(body: str) -> int:
    if body[:1] in ("'", '"'):
        end = _scalar_end(body, 0)
        return end if end is not None else len(body)
    index = 0
    while index < len(body):
        if body[index] == ":" and (index + 1 == len(body) or body[index + 1] in " \t\r\n"):
            return index
        index += 1
    return len(body)


def _scalar_end(line: str, start: int) -> int | None:
    """End column of the scalar token starting at `start`, or None if it continues on later lines."""
    quote = line[start : start + 1]
    if quote in ("'", '"'):
        index = start + 1
        while index < len(line):
            char = line[index]
            if char == quote:
                if quote == "'" and line[index + 1 : index + 2] == "'":
                    index += 2
                    continue
                return index + 1
            index += 2 if quote == '"' and char == "\\" else 1
        return None
    comment = re.search(r"\s#", line[start:])
    end = start + comment.start() if comment else len(line)
    return len(line[:end].rstrip())


def _structure(text: str, start: int = 0) -> list[tuple[int, str, int]] | None:
    """(index, char, nesting depth after it) for each flow indicator outside quoted scalars, or
    None if a quoted scalar does not end on this line."""
    found = []
    depth = 0
    index = start
    while index < len(text):
        char = text[index]
        if char in "'\"":
            end = _scalar_end(text, index)
            if end is None:
                return None
            index = end
            continue
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        if char in "[]{},":
            found.append((index, char, depth))
        index += 1
    return found


def _matching_bracket(body: str, open_col: int) -> int | None:
    marks = _structure(body, open_col)
    return next((index for index, char, depth in marks if char in "]}" and depth == 0), None) if marks else None


def _split_flow(inner: str) -> list[str] | None:
    """Top-level comma-separated tokens of a flow sequence's inside, each stripped."""
    marks = _structure(inner)
    if marks is None:
        return None
    cuts = [index for index, char, depth in marks if char == "," and depth == 0]
    tokens = [inner[a + 1 : b].strip() for a, b in zip([-1, *cuts], [*cuts, len(inner)], strict=True)]
    if tokens and not tokens[-1]:
        tokens.pop()  # a trailing comma
    return None if any(not token for token in tokens) else tokens
