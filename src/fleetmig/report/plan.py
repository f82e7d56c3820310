"""`fleetmig plan` output: a rich table, JSON, or a markdown tracking checklist (plan 519 §8)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from fleetmig.engine.phases import PHASES
from fleetmig.engine.runner import CodemodRun


def as_json(runs: Sequence[CodemodRun]) -> str:
    payload: dict[str, Any] = {
        "pending": sum(run.pending for run in runs),
        "codemods": [
            {
                "id": run.codemod.id,
                "phase": run.codemod.phase,
                "title": run.codemod.title,
                "pending": run.pending,
                "done": run.done,
                "findings": [
                    {"path": f.path, "line": f.line, "message": f.message, "pending": f.pending} for f in run.findings
                ],
            }
            for run in runs
        ],
    }
    return json.dumps(payload, indent=2)


def as_markdown(runs: Sequence[CodemodRun], phases: Sequence[str]) -> str:
    lines = ["## Fleet policy hardening — tracking checklist", ""]
    for letter in phases:
        members = [run for run in runs if run.codemod.phase == letter]
        if not members:
            lines.append(f"- [ ] Phase {letter}: {PHASES[letter]} — no codemod automates this phase yet")
            continue
        box = "x" if all(run.done for run in members) else " "
        lines.append(f"- [{box}] Phase {letter}: {PHASES[letter]}")
        for run in members:
            box = "x" if run.done else " "
            status = _status(run)
            lines.append(f"  - [{box}] `{run.codemod.id}` {run.codemod.title}{status}")
            for finding in run.findings:
                marker = "" if finding.pending else " (needs a human)"
                lines.append(f"    - `{finding.location}` {finding.message}{marker}")
    return "\n".join(lines) + "\n"


def _status(run: CodemodRun) -> str:
    manual = len(run.findings) - run.pending
    parts = []
    if run.pending:
        parts.append(f"{run.pending} file{'s' if run.pending != 1 else ''} to change")
    if manual:
        parts.append(f"{manual} finding{'s' if manual != 1 else ''} for a human")
    return " — " + ", ".join(parts) if parts else ""


def print_table(console: Console, runs: Sequence[CodemodRun]) -> None:
    table = Table(title="fleetmig plan", title_justify="left")
    table.add_column("phase")
    table.add_column("codemod")
    table.add_column("title")
    table.add_column("to change", justify="right")
    table.add_column("for a human", justify="right")
    for run in runs:
        manual = len(run.findings) - run.pending
        table.add_row(run.codemod.phase, run.codemod.id, run.codemod.title, str(run.pending), str(manual))
    console.print(table)
    for run in runs:
        for finding in run.findings:
            tag = "[yellow]change[/]" if finding.pending else "[red]manual[/]"
            console.print(f"{tag} {run.codemod.id} {finding.location}: {finding.message}", highlight=False)
    total = sum(run.pending for run in runs)
    console.print(f"{total} file change{'s' if total != 1 else ''} pending" if total else "nothing pending")
