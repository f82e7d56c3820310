"""The original bytes of a YAML file, split into lines that keep their own line endings."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fleetmig.errors import InputError

BOM = "\ufeff"
# YAML breaks lines at CR, LF and CRLF only; str.splitlines() would also break at \x0b, \x1c, \u2028 ...
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> list[str]:
    return _LINE.findall(text)


def decode(data: bytes, path: str) -> tuple[str, bool]:
    """Return (text without BOM, had_bom); undecodable bytes are an input error with their line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise InputError(f"not valid UTF-8 (byte 0x{data[err.start]:02x})", path, line, column) from None
    if text.startswith(BOM):
        return text[1:], True
    return text, False


@dataclass(frozen=True)
class LineStyle:
    """How the file ends its lines, so inserted lines match their neighbours."""

    newline: str

    @staticmethod
    def of(text: str) -> LineStyle:
        crlf = text.count("\r\n")
        lf = text.count("\n") - crlf
        return LineStyle("\r\n" if crlf > lf else "\n")


def line_body(line: str) -> str:
    return line.rstrip("\r\n")


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def is_blank(line: str) -> bool:
    return not line.strip()


def is_comment(line: str) -> bool:
    return line.lstrip(" \t").startswith("#")


def is_document_marker(line: str) -> bool:
    body = line_body(line)
    return body[:3] in ("---", "...") and (len(body) == 3 or body[3] in " \t")


def comment_texts(lines: list[str]) -> list[str]:
    """Every comment-like fragment (`#` at line start or after whitespace), stripped.

    This over-approximates on purpose (a `#` inside a quoted or block scalar counts too): the
    editor never rewrites such text, so it must survive an edit exactly like a real comment.
    """
    found: list[str] = []
    for line in lines:
        body = line_body(line)
        for match in re.finditer(r"(?:^|(?<=\s))#", body):
            found.append(body[match.start() :].strip())
            break
    return found
