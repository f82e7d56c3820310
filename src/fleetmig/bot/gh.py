"""Open or update a phase's pull request with the GitHub CLI (`gh`), only when its body changed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from fleetmig.bot.prbody import state_of
from fleetmig.errors import FleetmigError, InputError


class GhFailed(FleetmigError):
    """`gh` ran and refused (auth, permissions, a remote that is not on GitHub)."""


def require_gh() -> str:
    found = shutil.which("gh")
    if found is None:
        raise InputError(
            "--open-pr needs the GitHub CLI `gh` on PATH (https://cli.github.com); install it or drop --open-pr"
        )
    return found


def upsert_pr(gh: str, clone: Path, branch: str, target: str, title: str, body_file: Path) -> str:
    """The pull request's URL: created, or its body and base updated when the body hash differs."""
    listed = _gh(gh, clone, "pr", "list", "--head", branch, "--state", "open", "--json", "number,url,body,baseRefName")
    body = body_file.read_text(encoding="utf-8")
    wanted = (state_of(body) or {}).get("bodyHash")
    for pr in json.loads(listed or "[]"):
        current = (state_of(pr.get("body") or "") or {}).get("bodyHash")
        if current != wanted or pr.get("baseRefName") != target:
            _gh(gh, clone, "pr", "edit", str(pr["number"]), "--base", target, "--body-file", str(body_file))
        return str(pr["url"])
    created = _gh(
        gh, clone, "pr", "create", "--head", branch, "--base", target, "--title", title, "--body-file", str(body_file)
    )
    return created.strip().splitlines()[-1] if created.strip() else branch


def _gh(gh: str, clone: Path, *args: str) -> str:
    done = subprocess.run([gh, *args], cwd=clone, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise GhFailed(f"`gh {' '.join(args[:2])}` failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout
