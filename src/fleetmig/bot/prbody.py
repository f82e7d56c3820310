"""The pull-request body of a phase branch, with a hidden state comment so later runs rewrite it (and
update the pull request) only when its content changed (Renovate's body hash)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from fleetmig import __version__
from fleetmig.engine.phases import PHASES
from fleetmig.engine.runner import CodemodRun
from fleetmig.resources import shipped_dir

STATE = re.compile(r"<!-- fleetmig-bot (\{.*?\}) -->")


@dataclass(frozen=True)
class PhaseState:
    """Where a phase stands in the stack, for the plan checklist at the end of each body."""

    phase: str
    done: bool
    state: str


def render(
    *,
    phase: str,
    base_branch: str,
    base_sha: str,
    target: str,
    parent: str,
    runs: list[CodemodRun],
    files: dict[str, int],
    verify_markdown: str,
    checklist: list[PhaseState],
) -> str:
    """The body text, ending with the state comment (version, base, codemods, hash of the rest)."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(shipped_dir("templates") / "bot")),
        keep_trailing_newline=True,
        trim_blocks=True,
        autoescape=False,  # Markdown, not HTML
    )
    # Plain text in a table cell or a <summary>: GitHub would read `|` as a column and `<x>` as a tag.
    environment.filters["cell"] = lambda text: str(text).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    committed = [run for run in runs if files.get(run.codemod.id)]
    text = environment.get_template("pr-body.md.j2").render(
        version=__version__,
        phase=phase,
        phase_title=PHASES[phase],
        base_branch=base_branch,
        base_sha=base_sha,
        target=target,
        parent=parent,
        rows=[
            {
                "id": run.codemod.id,
                "title": run.codemod.title,
                "files": files.get(run.codemod.id, 0),
                "findings": sum(1 for f in run.findings if not f.pending),
            }
            for run in runs
        ],
        findings=[
            {"codemod": run.codemod.id, "location": f.location, "message": f.message}
            for run in runs
            for f in run.findings
            if not f.pending
        ],
        explanations=[
            {"id": run.codemod.id, "title": run.codemod.title, "doc": run.codemod.documentation()} for run in committed
        ],
        verify=verify_markdown.replace("## fleetmig verify", "**fleetmig verify**", 1).strip(),
        checklist=[{"phase": p.phase, "title": PHASES[p.phase], "done": p.done, "state": p.state} for p in checklist],
    )
    text = re.sub(r"\n{3,}", "\n\n", text)
    state = {
        "version": __version__,
        "phase": phase,
        "base": base_sha,
        "codemods": [run.codemod.id for run in committed],
        "bodyHash": body_hash(text),
    }
    return f"{text}\n<!-- fleetmig-bot {json.dumps(state, sort_keys=True)} -->\n"


def body_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def state_of(text: str) -> dict[str, Any] | None:
    match = STATE.search(text)
    if match is None:
        return None
    try:
        state = json.loads(match.group(1))
    except json.JSONDecodeError:
        return None
    return state if isinstance(state, dict) else None


def write_if_changed(path: Path, body: str) -> bool:
    """Write the body unless the file already holds one with the same content hash."""
    new = state_of(body)
    if path.is_file() and new is not None:
        old = state_of(path.read_text(encoding="utf-8"))
        if old is not None and old.get("bodyHash") == new.get("bodyHash"):
            return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return True
