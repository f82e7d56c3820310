"""What a codemod wants done, as data: the runner writes, never the codemod."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ChangeKind = Literal["edit", "create", "delete", "move", "materialize"]


@dataclass(frozen=True)
class Finding:
    """Something a codemod reports at file:line.

    `pending` findings describe work `apply` will do; the others need a human (the codemod cannot
    do it safely) and say why.
    """

    codemod: str
    path: str
    line: int | None
    message: str
    pending: bool = True

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line is not None else self.path


@dataclass(frozen=True)
class FileChange:
    """One file's change. `before`/`after` hold whole contents (None where the file does not exist)."""

    kind: ChangeKind
    path: str
    before: bytes | None
    after: bytes | None
    codemod: str
    reason: str
    line: int | None = None  # where a reader should look first
    new_path: str | None = None  # for moves


@dataclass
class Changeset:
    """Every change of one codemod run, plus what it found but could not change."""

    codemod: str
    changes: list[FileChange] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def edit(self, path: str, before: bytes, after: bytes, reason: str, line: int | None = None) -> None:
        if before != after:
            self.changes.append(FileChange("edit", path, before, after, self.codemod, reason, line))

    def create(self, path: str, content: bytes, reason: str) -> None:
        self.changes.append(FileChange("create", path, None, content, self.codemod, reason, 1))

    def delete(self, path: str, before: bytes, reason: str) -> None:
        self.changes.append(FileChange("delete", path, before, None, self.codemod, reason))

    def move(self, path: str, new_path: str, content: bytes, reason: str) -> None:
        self.changes.append(FileChange("move", path, content, content, self.codemod, reason, None, new_path))

    def materialize(self, path: str, link_target: str, content: bytes, reason: str) -> None:
        """Replace the symlink at `path` by a regular file holding `content`. `before` holds the
        link's target, which is what git stores for a symlink, so the diff reads as git's would."""
        self.changes.append(FileChange("materialize", path, link_target.encode(), content, self.codemod, reason, 1))

    def manual(self, path: str, line: int | None, message: str) -> None:
        """Report something this codemod will not change, with the reason a human needs."""
        self.findings.append(Finding(self.codemod, path, line, message, pending=False))

    def contents(self) -> dict[str, bytes | None]:
        """path → new content (None: removed), as later codemods in the same run must see it."""
        out: dict[str, bytes | None] = {}
        for change in self.changes:
            if change.kind == "move":
                assert change.new_path is not None
                out[change.path] = None
                out[change.new_path] = change.after
            else:
                out[change.path] = change.after
        return out

    def all_findings(self) -> list[Finding]:
        pending = [Finding(c.codemod, c.path, c.line, c.reason) for c in self.changes]
        return pending + self.findings
