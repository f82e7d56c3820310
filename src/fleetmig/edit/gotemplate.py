"""Go template text (Helm templates, `tpl` strings in values): find reads of root values keys.

Not a full Go template parser: it lexes actions (`{{ … }}`, trim markers, comments, string and
raw-string literals), tracks the blocks that rebind dot (`with`, `range`) so that `.Values` is only
taken for the root values where it is, and recognises the ways charts read a root key:

    .Values.cluster.type        $.Values.cluster.name       index .Values "cluster" "arch"
    {{- with .Values.cluster }} … .type … {{ end }}         hasKey .Values "cluster"
    get .Values "cluster"       index .Values $key  (dynamic: reported, never rewritten)

Every read carries the byte spans a rewrite has to replace, so the caller can splice the text and
leave every other byte as it was.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Literal

ReadKind = Literal["field", "truthy", "haskey", "with", "whole", "dynamic"]

_TOKEN = re.compile(
    r"""
    (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<char>'(?:[^'\\\n]|\\.)+')
  | (?P<chain>\$?[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\$[A-Za-z0-9_]*|\.)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>[-+]?[0-9][0-9A-Za-z_.+-]*)
  | (?P<punct>:=|[()|,=])
  | (?P<space>\s+)
    """,
    re.VERBOSE,
)
_CONDITIONS = frozenset({"if", "and", "or", "not"})
_REBINDING = frozenset({"with", "range"})


class TemplateSyntaxError(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int  # offset in the whole text
    end: int


@dataclass
class Read:
    """One read of root key `root` (None for a key computed at render time)."""

    kind: ReadKind
    root: str | None
    fields: tuple[str, ...]
    line: int
    snippet: str
    # Where a rewrite goes: the chain token (`.Values.cluster.x`), or for `index`/`get`/`hasKey`
    # forms the `.Values` token and the root key's string literal.
    chain: Token | None = None
    values_token: Token | None = None
    key_literal: Token | None = None
    # `eq`/`ne` against a string literal: the literal, which a rewrite may have to translate.
    compared_with: Token | None = None
    # `with .Values.cluster`: reads of `.x` in its body, and whether the body uses `.` whole.
    body: list[Read] = field(default_factory=list)
    body_uses_dot: bool = False


@dataclass
class _Frame:
    keyword: str
    rebinds: bool
    with_read: Read | None = None


@dataclass
class _Action:
    start: int  # offset of the body (after `{{` and trim marker)
    body: str
    line: int
    open: int = 0  # offset of `{{`
    close: int = 0  # offset just after `}}`


def actions(text: str, *, comments: bool = False) -> list[_Action]:
    """The actions of `text` (comments dropped unless asked for); unclosed `{{` is a TemplateSyntaxError."""
    out: list[_Action] = []
    pos = 0
    while True:
        open_at = text.find("{{", pos)
        if open_at < 0:
            return out
        line = text.count("\n", 0, open_at) + 1
        start = open_at + 2
        if text.startswith("- ", start) or text.startswith("-\t", start) or text.startswith("-\n", start):
            start += 1
        close = _find_close(text, start, line)
        end = close - 1 if text[close - 2 : close] in (" -", "\t-", "\n-") else close
        body = text[start:end]
        if comments or not body.strip().startswith("/*"):
            out.append(_Action(start, body, line, open_at, close + 2))
        pos = close + 2


def _find_close(text: str, pos: int, line: int) -> int:
    comment = text[pos:].lstrip().startswith("/*")
    if comment:
        end = text.find("*/", pos)
        if end < 0:
            raise TemplateSyntaxError("unclosed comment `{{/*`", line)
        close = text.find("}}", end)
        if close < 0:
            raise TemplateSyntaxError("unclosed action `{{`", line)
        return close
    index = pos
    while index < len(text):
        char = text[index]
        if text.startswith("}}", index):
            return index
        if char in "\"'`":
            index = _skip_quoted(text, index, line)
            continue
        if char == "\n" and text.startswith("{{", index + 1):
            break
        index += 1
    raise TemplateSyntaxError("unclosed action `{{`", line)


def _skip_quoted(text: str, index: int, line: int) -> int:
    quote = text[index]
    index += 1
    while index < len(text):
        char = text[index]
        if char == "\\" and quote != "`":
            index += 2
            continue
        if char == quote:
            return index + 1
        if char == "\n" and quote != "`":
            break
        index += 1
    raise TemplateSyntaxError(f"unterminated {quote}…{quote} literal in an action", line)


@dataclass(frozen=True)
class Gate:
    """An `if` whose block holds the whole template: nothing but whitespace and comments outside it."""

    condition: str
    if_span: tuple[int, int]  # offsets of the `{{ if … }}` action
    end_span: tuple[int, int]  # offsets of its `{{ end }}`


_OPENERS = frozenset({"if", "with", "range", "define", "block"})


@functools.lru_cache(maxsize=8192)  # codemods and passes ask about the same templates again and again
def wrapping_if(text: str) -> Gate | None:
    """The `if` that wraps all of `text`, if one does (TemplateSyntaxError when unbalanced).
    Leading `define … end` blocks render nothing and may stand before it (a `define` cannot stand
    inside an `if`)."""
    found = actions(text)
    outside_before = ""
    cursor = 0
    while found and found[0].body.split()[:1] == ["define"]:
        closing = _closing(found)
        if closing is None:
            return None
        outside_before += text[cursor : found[0].open]
        cursor = found[closing].close
        found = found[closing + 1 :]
    if not found or found[0].body.split()[:1] != ["if"] or found[-1].body.split() != ["end"]:
        return None
    if _closing(found) != len(found) - 1:
        return None  # the first `if` closes before the end of the file
    outside_before += text[cursor : found[0].open]
    outside = _without_comments(outside_before) + _without_comments(text[found[-1].close :])
    if outside.strip():
        return None
    condition = found[0].body.strip()[len("if") :].strip()
    return Gate(condition, (found[0].open, found[0].close), (found[-1].open, found[-1].close))


# A mapping key at the start of a line: the document it is in is not empty (`render.renders_anything`).
_KEY_LINE = re.compile(r"\n[A-Za-z_][\w./-]*:[ \t\n]")


@functools.lru_cache(maxsize=8192)
def emits_key_line(text: str, gate: str | None = None) -> bool:
    """Whether `text`, executed without error, surely outputs a line that starts with a mapping key:
    literal text outside every block (`if`, `range`, `with`, `define`, `block`) holds one, once the
    trim markers beside it have taken their whitespace. With `gate`, an `if <gate>` that wraps the
    whole template counts as taken (up to an `else` of its own). TemplateSyntaxError when the
    actions do not lex."""
    found = actions(text, comments=True)
    wrapper = wrapping_if(text) if gate is not None else None
    taken = {wrapper.if_span[0], wrapper.end_span[0]} if wrapper is not None and wrapper.condition == gate else set()
    depth, cursor, trims_next = 0, 0, False
    for action in found:
        if depth == 0 and _key_line(text[cursor : action.open], trims_next, action.start == action.open + 3):
            return True
        word = action.body.split()[:1] if action.open not in taken else []
        if word and word[0] in _OPENERS:
            depth += 1
        elif word == ["end"]:
            depth -= 1
        elif word == ["else"] and depth == 0:
            return False  # the rest of the taken gate is its other branch
        cursor, trims_next = action.close, action.start + len(action.body) == action.close - 3
    return depth == 0 and _key_line(text[cursor:], trims_next, False)


def _key_line(literal: str, trimmed_before: bool, trimmed_after: bool) -> bool:
    spaces = " \t\r\n"  # what Go's trim markers take
    literal = literal.lstrip(spaces) if trimmed_before else literal
    return bool(_KEY_LINE.search(literal.rstrip(spaces) if trimmed_after else literal))


def _closing(found: list[_Action]) -> int | None:
    """Index of the `end` that closes the block `found[0]` opens."""
    depth = 0
    for index, action in enumerate(found):
        word = action.body.split()[:1]
        if word and word[0] in _OPENERS:
            depth += 1
        elif word == ["end"]:
            depth -= 1
            if depth == 0:
                return index
    return None


def _without_comments(text: str) -> str:
    return re.sub(r"\{\{-?\s*/\*.*?\*/\s*-?\}\}", "", text, flags=re.DOTALL)


def tokens(action: _Action) -> list[Token]:
    out = []
    pos = 0
    body = action.body
    while pos < len(body):
        match = _TOKEN.match(body, pos)
        if match is None:
            raise TemplateSyntaxError(f"unexpected {body[pos]!r} in an action", action.line)
        kind = match.lastgroup or ""
        if kind != "space":
            out.append(Token(kind, match.group(), action.start + match.start(), action.start + match.end()))
        pos = match.end()
    return out


@functools.lru_cache(maxsize=4096)
def find_reads(text: str, roots: frozenset[str]) -> tuple[Read, ...]:
    """Every read of `roots` (and every dynamic read of `.Values`) in template `text`.

    Found once per text and shared (every pass of a run judges the same templates again): callers
    read them, never change them."""
    return tuple(_find_reads(text, roots))


def _find_reads(text: str, roots: frozenset[str]) -> list[Read]:
    reads: list[Read] = []
    stack: list[_Frame] = []
    for action in actions(text):
        toks = tokens(action)
        if not toks:
            continue
        head = toks[0].text if toks[0].kind == "word" else ""
        continues_block = head == "else"
        if head == "end":
            if not stack:
                raise TemplateSyntaxError("`end` without a block to close", action.line)
            stack.pop()
            continue
        if head == "else":
            if not stack:
                raise TemplateSyntaxError("`else` outside a block", action.line)
            frame = stack[-1]
            follower = toks[1].text if len(toks) > 1 and toks[1].kind == "word" else ""
            frame.rebinds = follower in _REBINDING
            frame.with_read = None
            toks = toks[1:]
            head = follower
        dot_is_root = not any(f.rebinds for f in stack)
        with_frame = next((f for f in reversed(stack) if f.rebinds), None)
        found = _reads_in(action, toks, roots, dot_is_root, head)
        if with_frame is not None and with_frame.with_read is not None:
            _collect_body(action, toks, with_frame.with_read)
        if head in ("if", "with", "range", "define", "block"):
            frame = stack[-1] if continues_block else _Frame(head, head in _REBINDING)
            if head == "with" and len(found) == 1 and found[0].kind == "with":
                frame.with_read = found[0]
            if not continues_block:
                stack.append(frame)
        reads.extend(found)
    if stack:
        raise TemplateSyntaxError(f"`{stack[-1].keyword}` block is never closed with `end`", _line(text, len(text)))
    return reads


def _reads_in(action: _Action, toks: list[Token], roots: frozenset[str], dot_is_root: bool, head: str) -> list[Read]:
    out = []
    for index, tok in enumerate(toks):
        if tok.kind != "chain":
            continue
        parts = tok.text.split(".")
        base, names = parts[0], parts[1:]
        if not names or names[0] != "Values" or base not in ("", "$") or (base == "" and not dot_is_root):
            continue
        previous = toks[index - 1].text if index > 0 else ""
        following = toks[index + 1 :]
        snippet = action.body.strip()
        line = action.line
        if len(names) == 1:  # bare .Values: only `index`/`get`/`hasKey` with a key say what is read
            if previous not in ("index", "get", "hasKey") or not following:
                continue
            key = following[0]
            if key.kind != "string":
                out.append(Read("dynamic", None, (), line, snippet, values_token=tok))
                continue
            root = _unquote(key.text)
            if root not in roots:
                continue
            if previous == "hasKey":
                out.append(Read("haskey", root, (), line, snippet, values_token=tok, key_literal=key))
                continue
            fields = _literal_fields(following[1:]) if previous == "index" else ()
            kind = _context_kind(toks, index - 1, head, bool(fields))
            read = Read(kind, root, fields, line, snippet, values_token=tok, key_literal=key)
            _compared(read, toks, index - 1, len(fields) + 2)
            out.append(read)
            continue
        root = names[1]
        if root not in roots:
            continue
        fields = tuple(names[2:])
        if previous == "index":
            fields += _literal_fields(following)
        if previous == "hasKey" and following and following[0].kind == "string":
            out.append(Read("haskey", root, (*fields, _unquote(following[0].text)), line, snippet, chain=tok))
            continue
        start = index - 1 if previous == "index" else index
        kind = _context_kind(toks, start, head, bool(fields))
        read = Read(kind, root, fields, line, snippet, chain=tok)
        _compared(read, toks, start, 1)
        out.append(read)
    return out


def _context_kind(toks: list[Token], start: int, head: str, has_fields: bool) -> ReadKind:
    """How the expression starting at toks[start] is used: its value, its truth, or a new dot."""
    if has_fields:
        return "field"
    previous = toks[start - 1].text if start > 0 else ""
    if head == "with" and start == 1 and len(toks) == 2:
        return "with"
    if previous in _CONDITIONS or (head == "if" and start == 1):
        return "truthy"
    return "whole"


def _compared(read: Read, toks: list[Token], start: int, width: int) -> None:
    """Note `eq X "lit"` / `eq "lit" X` / `ne …` so a rewrite can translate the literal."""
    before = toks[start - 1] if start > 0 else None
    after = toks[start + width] if start + width < len(toks) else None
    if before is not None and before.text in ("eq", "ne") and after is not None and after.kind == "string":
        read.compared_with = after
    elif start > 1 and toks[start - 1].kind == "string" and toks[start - 2].text in ("eq", "ne"):
        read.compared_with = toks[start - 1]


def _literal_fields(toks: list[Token]) -> tuple[str, ...]:
    fields = []
    for tok in toks:
        if tok.kind != "string":
            break
        fields.append(_unquote(tok.text))
    return tuple(fields)


def _collect_body(action: _Action, toks: list[Token], owner: Read) -> None:
    """Reads of the `with` block's dot inside its body."""
    for tok in toks:
        if tok.kind != "chain" or tok.text.startswith("$"):
            continue
        if tok.text == ".":
            owner.body_uses_dot = True
            continue
        owner.body.append(Read("field", owner.root, tuple(tok.text.split(".")[1:]), action.line, action.body.strip()))


def _unquote(literal: str) -> str:
    if literal.startswith("`"):
        return literal[1:-1]
    return bytes(literal[1:-1], "utf-8").decode("unicode_escape")


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1
