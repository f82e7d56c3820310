"""Errors that reach the user: each names the file, line and column it is about."""

from __future__ import annotations

from pathlib import Path


class FleetmigError(Exception):
    """Base class: the CLI prints these without a traceback and exits with `exit_code`."""

    exit_code = 2


class InputError(FleetmigError):
    """Bad input (a file, the policy, a CLI argument): nothing was written.

    `path` is shown relative to the fleet root when the caller passes one; `line` and `column`
    are 1-based, as editors and `file:line:col` links expect.
    """

    def __init__(
        self,
        message: str,
        path: Path | str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path or ""
        if where and self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}" if where else self.message


class EditRefused(FleetmigError):
    """The format-preserving editor will not make an edit it cannot prove safe."""

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path or ""
        if where and self.line is not None:
            where += f":{self.line}"
        return f"{where}: {self.message}" if where else self.message
