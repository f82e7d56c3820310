"""`fleetmig check` output: text grouped by file, JSON, GitHub annotations, SARIF 2.1.0."""

from __future__ import annotations

import json
from itertools import groupby
from typing import Any

from fleetmig import __version__
from fleetmig.check.rules import BY_ID
from fleetmig.check.run import CheckReport

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def as_text(report: CheckReport) -> str:
    lines = []
    for path, group in groupby(report.violations, key=lambda v: v.path):
        lines.append(path)
        lines += [f"  {v.line or '-'}: [{v.rule}] {v.message}  (fix: {BY_ID[v.rule].fix})" for v in group]
    lines.append(_summary(report))
    lines += [f"  suppressed {v.path}:{v.line} [{v.rule}] because {reason}" for v, reason in report.suppressed]
    return "\n".join(lines) + "\n"


def _summary(report: CheckReport) -> str:
    phases = "".join(sorted({rule.phase for rule in report.rules}))
    state = "clean" if report.ok else f"{len(report.violations)} violation{'s' * (len(report.violations) != 1)}"
    return f"{state} ({len(report.rules)} rules of phases {phases or '-'}; {len(report.suppressed)} suppressed)"


def as_json(report: CheckReport) -> str:
    payload = {
        "ok": report.ok,
        "rules": [rule.id for rule in report.rules],
        "violations": [
            {"rule": v.rule, "path": v.path, "line": v.line, "message": v.message, "fix": BY_ID[v.rule].fix}
            for v in report.violations
        ],
        "suppressed": [{"rule": v.rule, "path": v.path, "line": v.line, "reason": r} for v, r in report.suppressed],
    }
    return json.dumps(payload, indent=2) + "\n"


def as_github(report: CheckReport) -> str:
    """Workflow commands: one `::error` annotation per violation, then the summary."""
    lines = []
    for v in report.violations:
        where = f"file={_escape(v.path, True)}" + (f",line={v.line}" if v.line else "")
        lines.append(f"::error {where},title={_escape(v.rule, True)}::{_escape(v.message, False)}")
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


def _escape(value: str, property_value: bool) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if property_value else value


def as_sarif(report: CheckReport) -> str:
    rules = [
        {
            "id": rule.id,
            "shortDescription": {"text": rule.message},
            "fullDescription": {"text": rule.doc or rule.message},
            "help": {"text": f"Fix: {rule.fix}", "markdown": rule.documentation()},
            "properties": {"phase": rule.phase},
        }
        for rule in report.rules
    ]
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    results: list[dict[str, Any]] = []
    for v, reason in [(v, None) for v in report.violations] + [(v, r) for v, r in report.suppressed]:
        location: dict[str, Any] = {"artifactLocation": {"uri": v.path, "uriBaseId": "%SRCROOT%"}}
        if v.line:
            location["region"] = {"startLine": v.line}
        result: dict[str, Any] = {
            "ruleId": v.rule,
            "ruleIndex": index[v.rule],
            "level": "error",
            "message": {"text": v.message},
            "locations": [{"physicalLocation": location}],
        }
        if reason is not None:
            result["suppressions"] = [{"kind": "inSource", "justification": reason}]
        results.append(result)
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "fleetmig",
                        "version": __version__,
                        "informationUri": "https://github.com/ameideio/fleetmig",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(sarif, indent=2) + "\n"
