"""`fleetmig verify` output: a table, JSON, or the markdown a reviewer (or the bot's PR body) reads."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

from fleetmig.verify.run import VerifyReport
from fleetmig.verify.waves import WavesReport


def as_json(report: VerifyReport) -> str:
    payload: dict[str, Any] = {"ok": report.ok, "base": report.base}
    if report.render is not None:
        payload["render"] = {
            "ok": report.render.ok,
            "rendered": report.render.rendered,
            "unaffected": report.render.unaffected,
            "errors": report.render.errors,
            "random": report.render.random,
            "releasesNoLongerGenerated": report.render.declared_releases,
            "differences": [
                {
                    "release": d.release,
                    "object": d.name,
                    "change": d.change,
                    "field": d.field,
                    "declaredBy": d.declared_by,
                    "diff": d.diff,
                }
                for d in report.render.differences
            ],
        }
    if report.waves is not None:
        payload["waves"] = [_waves(w) for w in report.waves]
    payload["schemas"] = {"checked": report.schemas_checked, "problems": report.schema_problems}
    return json.dumps(payload, indent=2)


def _waves(report: WavesReport) -> dict[str, Any]:
    return {
        "clusterType": report.cluster_type,
        "applications": len(report.applications),
        "problems": [{"kind": p.kind, "message": p.message, "path": p.path} for p in report.problems],
    }


def as_markdown(report: VerifyReport) -> str:
    verdict = "passes" if report.ok else "**fails**"
    lines = [f"## fleetmig verify {verdict} (base `{report.base}`)", ""]
    render = report.render
    if render is not None:
        undeclared = [d for d in render.differences if not d.declared_by]
        lines += [
            f"**Render equivalence** (real Helm): {render.rendered} releases rendered on both sides, "
            f"{render.unaffected} untouched; {len(render.differences) - len(undeclared)} declared differences, "
            f"{len(undeclared)} undeclared, {len(render.random)} random in the base.",
            "",
        ]
        if render.differences:
            lines += ["| release | object | change | field | declared by |", "|---|---|---|---|---|"]
            lines += [
                f"| {d.release} | `{d.name}` | {d.change} | {f'`{d.field}`' if d.field else ''} | "
                f"{d.declared_by or '**undeclared**'} |"
                for d in render.differences
            ]
            lines.append("")
        for d in undeclared:
            lines += [
                f"<details><summary>{d.release}: {d.name}</summary>",
                "",
                "```diff",
                d.diff,
                "```",
                "</details>",
                "",
            ]
        lines += [f"- {item}" for item in render.declared_releases + render.errors]
    if report.waves is not None:
        lines += [
            "",
            "**Waves**: "
            + "; ".join(
                f"{w.cluster_type} {len(w.applications)} Applications, {len(w.problems)} problems" for w in report.waves
            ),
        ]
        lines += [
            f"- {w.cluster_type}: {p.kind} `{p.location}` {p.message}"
            + (" (already on the base)" if report.known(w.cluster_type, p) else "")
            for w in report.waves
            for p in w.problems
        ]
    lines += ["", f"**Schemas**: {report.schemas_checked} objects validated, {len(report.schema_problems)} problems"]
    lines += [f"- {p}" for p in report.schema_problems]
    return "\n".join(lines) + "\n"


def print_report(console: Console, report: VerifyReport) -> None:
    console.print(as_markdown(report), markup=False, highlight=False)
