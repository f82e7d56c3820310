"""Run the guard's rules over a fleet; suppressions are honoured and reported."""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import git

from fleetmig.check.rules import BY_ID, RULES, Rule
from fleetmig.engine import Changeset, parallel, registry
from fleetmig.engine.runner import apply_one
from fleetmig.errors import InputError
from fleetmig.fleet.files import under
from fleetmig.fleet.model import Fleet

SUPPRESSION = re.compile(r"fleetmig:\s*ignore\[([\w,\s-]+)\](?:\s+because\s+(.*))?")
PHASES = ("A", "B", "C", "D", "E", "F", "G")


@dataclass(frozen=True)
class Violation:
    rule: str
    path: str
    line: int | None
    message: str


@dataclass
class CheckReport:
    rules: list[Rule]
    violations: list[Violation] = field(default_factory=list)
    suppressed: list[tuple[Violation, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


def selected_rules(fleet: Fleet, only: list[str] | None) -> list[Rule]:
    enforce = fleet.policy.raw.get("enforce") or list(PHASES)
    if only:
        unknown = [r for r in only if r not in BY_ID]
        if unknown:
            raise InputError(f"unknown rule {', '.join(unknown)}; `fleetmig check --list-rules` shows them")
        return [BY_ID[r] for r in only]
    return [rule for rule in RULES if rule.phase in enforce]


def check(fleet: Fleet, *, base: str | None = None, only: list[str] | None = None) -> CheckReport:
    report = CheckReport(selected_rules(fleet, only))
    found: list[Violation] = []
    codemods = {cls.id: cls for cls in registry.all_codemods()}
    needed = list(dict.fromkeys(codemod for rule in report.rules for codemod in rule.codemods))
    jobs: list[Callable[[], Changeset | list[Violation]]] = [
        functools.partial(apply_one, codemods[codemod], fleet, guard=True) for codemod in needed
    ]
    ids = {rule.id for rule in report.rules}
    if "symlinked-descriptor" in ids:
        jobs.append(functools.partial(_symlinks, fleet))
    if "env-hostname-leak" in ids:
        jobs.append(functools.partial(_hostnames, fleet))
    if "vendored-tree-changed" in ids and base is not None:
        jobs.append(functools.partial(_vendored_since, fleet, base))
    # The codemods and the rules of this module, shared out to every core.
    outcomes = parallel.map_shared(operator.call, jobs)
    changesets = {c: o for c, o in zip(needed, outcomes[: len(needed)], strict=True) if isinstance(o, Changeset)}
    for rule in report.rules:
        for codemod in rule.codemods:
            found += violations_of(rule, changesets[codemod])
    found += [violation for outcome in outcomes[len(needed) :] if isinstance(outcome, list) for violation in outcome]
    for violation in dict.fromkeys(found):
        reason = _suppression(fleet, violation)
        if reason is None:
            report.violations.append(violation)
        else:
            report.suppressed.append((violation, reason))
    report.violations.sort(key=lambda v: (v.path, v.line or 0, v.rule))
    return report


def violations_of(rule: Rule, changeset: Changeset) -> list[Violation]:
    """The violations of `rule` in one of its codemods' changesets."""
    found = []
    if rule.pending:
        # Point at the files that are wrong today, not at the ones the fix would create.
        changes = [c for c in changeset.changes if c.kind != "create"] or changeset.changes
        found += [
            Violation(rule.id, c.path, None, f"{rule.message}: {c.reason} (the fix creates this file)")
            if c.kind == "create"
            else Violation(rule.id, c.path, c.line, f"{rule.message}: {c.reason}")
            for c in changes
        ]
    found += [
        Violation(rule.id, f.path, f.line, f"{rule.message}: {f.message}")
        for f in changeset.findings
        if any(pattern in f.message for pattern in rule.findings)
    ]
    return found


def _symlinks(fleet: Fleet) -> list[Violation]:
    layout = fleet.policy.layout
    roots = under(*layout.descriptors_and_values)
    out = []
    for rel in fleet.files.files():
        target = fleet.files.link_target(rel) if rel.startswith(roots) else None
        if target is None:
            continue
        try:
            resolved = (fleet.root / rel).resolve()
        except (RuntimeError, OSError):  # Python reports a symlink loop as RuntimeError
            message = f"{BY_ID['symlinked-descriptor'].message}: is a loop"
            out.append(Violation("symlinked-descriptor", rel, None, message))
            continue
        if not resolved.is_relative_to(fleet.root):
            detail = f"points outside the repository ({target})"
        elif not resolved.exists():
            detail = f"is broken ({target})"
        else:
            detail = f"points to {target}"
        out.append(Violation("symlinked-descriptor", rel, None, f"{BY_ID['symlinked-descriptor'].message}: {detail}"))
    return out


def _hostnames(fleet: Fleet) -> list[Violation]:
    """Hostnames under an environment's `domain` (from its globals) in shared values or chart defaults."""
    layout = fleet.policy.layout
    domains = set()
    for env in fleet.environments:
        rel = layout.env_globals_for(env)
        data = fleet.values(rel) if fleet.exists(rel) else None
        if isinstance(data, dict) and isinstance(data.get("domain"), str) and data["domain"].count(".") >= 2:
            domains.add(data["domain"])
    if not domains:
        return []
    pattern = re.compile(r"(?<![\w.-])(?:[a-z0-9-]+\.)+(?:" + "|".join(re.escape(d) for d in sorted(domains)) + r")\b")
    encoded = [domain.encode() for domain in domains]
    shared = layout.shared_values.rstrip("/") + "/"
    owned = under(*layout.owned_charts)
    out = []
    for rel in fleet.files.files():
        is_default = rel.startswith(owned) and rel.endswith("/values.yaml")
        if not (rel.startswith(shared) or is_default) or not fleet.exists(rel):
            continue
        data = fleet.read_bytes(rel)
        if not any(domain in data for domain in encoded):
            continue  # most files name no domain: spare them the pattern, slow to fail at every offset
        text = data.decode("utf-8", errors="replace")
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            message = f"{BY_ID['env-hostname-leak'].message}: `{match.group()}`"
            out.append(Violation("env-hostname-leak", rel, line, message))
    return out


def _vendored_since(fleet: Fleet, base: str) -> list[Violation]:
    """Files of a vendored version folder that existed at `base` and changed since (a bump adds a new
    `<alias>/<name>/<version>/` folder and edits the lock; that is not a violation)."""
    root = fleet.policy.layout.third_party.rstrip("/")
    try:
        repo = git.Repo(fleet.root, search_parent_directories=True)
        top = Path(repo.working_tree_dir or fleet.root).resolve()
        prefix = fleet.root.resolve().relative_to(top).as_posix()
        scope = f"{prefix}/{root}" if prefix != "." else root
        names = repo.git.diff("--name-only", base, "--", scope).splitlines()
        existed = set(repo.git.ls_tree("-r", "--name-only", base, "--", scope).splitlines())
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise InputError("--base needs the fleet to be a git repository", fleet.root) from None
    except git.GitCommandError as error:
        raise InputError(f"cannot compare with `{base}`: {error.stderr.strip()}", fleet.root) from None
    depth = len(scope.split("/")) + 3  # <third_party>/<alias>/<name>/<version>

    def version_folder(name: str) -> str | None:
        parts = name.split("/")
        return "/".join(parts[:depth]) if len(parts) > depth else None

    existed_versions = {version_folder(name) for name in existed} - {None}
    out = []
    for name in names:
        if version_folder(name) not in existed_versions:
            continue  # the lock, the archives, or a new version folder: a bump, not a patch
        rel = name[len(prefix) + 1 :] if prefix != "." else name
        message = f"{BY_ID['vendored-tree-changed'].message} (since {base})"
        out.append(Violation("vendored-tree-changed", rel, None, message))
    return out


def _suppression(fleet: Fleet, violation: Violation) -> str | None:
    """The reason of a `# fleetmig: ignore[rule] because …` on the violation's line or the one above."""
    if violation.line is None or not fleet.exists(violation.path):
        return None
    lines = fleet.read_bytes(violation.path).decode("utf-8", errors="replace").splitlines()
    for number in (violation.line, violation.line - 1):
        if 1 <= number <= len(lines):
            match = SUPPRESSION.search(lines[number - 1])
            if match and violation.rule in {r.strip() for r in match.group(1).split(",")}:
                return (match.group(2) or "no reason given").strip()
    return None
