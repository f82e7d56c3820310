"""`fleetmig bot run` output: the final table, or a JSON run report."""

from __future__ import annotations

import json
from collections import Counter

from rich.console import Console
from rich.table import Table

from fleetmig.bot.run import RepoRun


def as_json(runs: list[RepoRun]) -> str:
    outcomes = [outcome.as_dict() for run in runs for outcome in run.outcomes]
    summary = Counter(outcome["status"] for outcome in outcomes)
    payload = {"repos": len(runs), "ok": not summary.get("failed"), "summary": dict(sorted(summary.items()))}
    return json.dumps({**payload, "outcomes": outcomes}, indent=2) + "\n"


def print_table(console: Console, runs: list[RepoRun]) -> None:
    table = Table("repo", "phase", "branch", "status", "commits", "verify", "PR body / message")
    for run in runs:
        for o in run.outcomes:
            verified = "" if o.verified is None else ("passes" if o.verified else "FAILS")
            detail = " ".join(part for part in (o.pr or o.body or "", o.message) if part)
            table.add_row(o.repo, o.phase, o.branch or "", o.status, str(o.commits or ""), verified, detail)
    console.print(table)
    summary = Counter(o.status for run in runs for o in run.outcomes)
    console.print(", ".join(f"{count} {status}" for status, count in sorted(summary.items())) or "no repositories")
