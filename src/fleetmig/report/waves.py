"""`fleetmig verify waves` output: per cluster type, its Applications and the problems found."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from fleetmig.verify.waves import WavesReport, effective_ignores


def as_json(reports: Sequence[WavesReport], system: Sequence[dict[str, Any]] = ()) -> str:
    payload: dict[str, Any] = {
        "ok": not any(report.problems for report in reports),
        "clusterTypes": [
            {
                "clusterType": report.cluster_type,
                "applications": [
                    {
                        "applicationSet": app.appset,
                        "name": app.name,
                        "component": app.component,
                        "namespace": app.namespace,
                        "rolloutPhase": app.phase,
                        "chart": app.chart,
                        "descriptor": app.sources[-1].partition("#")[0] if app.sources else None,
                        "ignoreDifferences": effective_ignores(app, list(system)),
                    }
                    for app in report.applications
                ],
                "problems": [
                    {"kind": p.kind, "message": p.message, "path": p.path, "line": p.line} for p in report.problems
                ],
            }
            for report in reports
        ],
    }
    return json.dumps(payload, indent=2)


def as_markdown(reports: Sequence[WavesReport]) -> str:
    lines = ["## Waves", ""]
    for report in reports:
        lines += [
            f"### {report.cluster_type}: {len(report.applications)} Applications, {len(report.problems)} problems",
            "",
            "| phase | application | namespace | chart |",
            "|---|---|---|---|",
        ]
        lines += [f"| {a.phase} | `{a.name}` | {a.namespace} | `{a.chart}` |" for a in _ordered(report)]
        lines.append("")
        lines += [f"- **{p.kind}** `{p.location}` {p.message}" for p in report.problems]
        lines.append("")
    return "\n".join(lines)


def print_tables(console: Console, reports: Sequence[WavesReport]) -> None:
    for report in reports:
        table = Table("phase", "application", "namespace", "chart", title=f"{report.cluster_type}")
        for app in _ordered(report):
            table.add_row(app.phase, app.name, app.namespace, app.chart)
        console.print(table)
        for problem in report.problems:
            where = f" {problem.location}" if problem.location else ""
            console.print(f"{report.cluster_type}: {problem.kind}{where}: {problem.message}")
        if not report.problems:
            console.print(f"{report.cluster_type}: {len(report.applications)} Applications, no problems")


def _ordered(report: WavesReport) -> list[Any]:
    return sorted(report.applications, key=lambda a: (a.appset, a.phase, a.name))
