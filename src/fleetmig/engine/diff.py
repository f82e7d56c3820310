"""Unified diffs of a run's changes, as text or as JSON-ready records."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from typing import Any

from fleetmig.edit.yaml.source import split_lines
from fleetmig.engine.changeset import FileChange


def _lines(content: bytes | None) -> list[str]:
    if content is None:
        return []
    text = content.decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = []
    for line in split_lines(text):
        body = line.rstrip("\r\n")
        # Show a missing final newline the way git does, instead of gluing lines together.
        lines.append(body + "\n" if line != body else body + "\n\\ No newline at end of file\n")
    return lines


def unified(change: FileChange) -> str:
    old = change.path if change.kind != "create" else "/dev/null"
    new_path = change.new_path if change.kind == "move" else change.path
    new = new_path if change.kind != "delete" else "/dev/null"
    header = f"diff --fleetmig a/{change.path} b/{new_path}\n"
    if change.kind == "move" and change.before == change.after:
        return header + f"rename from {change.path}\nrename to {new_path}\n"
    if change.kind == "materialize":
        header += "old mode 120000\nnew mode 100644\n"
    body = "".join(
        difflib.unified_diff(
            _lines(change.before),
            _lines(change.after),
            fromfile=f"a/{old}" if old != "/dev/null" else old,
            tofile=f"b/{new}" if new != "/dev/null" else new,
        )
    )
    return header + body


def unified_all(changes: Sequence[FileChange]) -> str:
    return "".join(unified(change) for change in changes)


def records(changes: Sequence[FileChange]) -> Iterator[dict[str, Any]]:
    """Each change as a JSON report states it, its diff made only when it is reached."""
    for change in changes:
        yield {
            "codemod": change.codemod,
            "kind": change.kind,
            "path": change.path,
            "new_path": change.new_path,
            "reason": change.reason,
            "line": change.line,
            "diff": unified(change),
        }
