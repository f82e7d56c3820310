"""A bot run: every repository (in parallel), every selected phase, one stacked branch per phase.

Statuses per repository and phase: `created`, `updated` (regenerated because the base or the
codemods moved; force-pushed with lease), `unchanged` (regenerating gives the same tree on the same
parent: no commit, no push), `skipped-human-edit` (someone else pushed to the branch), `nothing-to-do`
(no branch), `failed` (the message says why; other repositories go on).
"""

from __future__ import annotations

import multiprocessing
import re
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import git

from fleetmig.bot import branches, gh, prbody
from fleetmig.bot.branches import Identity
from fleetmig.bot.repos import RepoSpec
from fleetmig.engine import registry
from fleetmig.engine.phases import PHASES
from fleetmig.errors import FleetmigError, InputError
from fleetmig.fleet.model import Fleet
from fleetmig.report import verify as verify_report
from fleetmig.report.redact import fleet_secrets, redact_text
from fleetmig.verify.run import verify


@dataclass(frozen=True)
class BotOptions:
    phases: tuple[str, ...]
    base: str
    remote: str
    identity: Identity
    workdir: Path
    push: bool = False
    open_pr: bool = False
    force: bool = False
    verify: bool = True


@dataclass
class Outcome:
    repo: str
    phase: str
    status: str
    branch: str | None = None
    head: str | None = None
    commits: int = 0
    verified: bool | None = None
    body: str | None = None
    pushed: bool = False
    pr: str | None = None
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RepoRun:
    spec: RepoSpec
    outcomes: list[Outcome] = field(default_factory=list)


def parse_phases(text: str) -> tuple[str, ...]:
    """`a..g`, `b..d`, `a,c`, `phase-a..phase-c` (case-insensitive) in plan order."""
    letters = list(PHASES)
    cleaned = re.sub(r"phase-", "", text.strip(), flags=re.IGNORECASE).upper()
    if ".." in cleaned:
        first, _, last = cleaned.partition("..")
        if first not in letters or last not in letters or letters.index(first) > letters.index(last):
            raise InputError(f"--phases `{text}`: expected a range like a..g")
        return tuple(letters[letters.index(first) : letters.index(last) + 1])
    chosen = [part.strip() for part in cleaned.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in letters]
    if unknown or not chosen:
        raise InputError(f"--phases `{text}`: unknown phase {', '.join(unknown) or '(none)'}; phases are a..g")
    return tuple(letter for letter in letters if letter in chosen)


def run_all(
    specs: list[RepoSpec], options: BotOptions, jobs: int, on_done: Callable[[RepoRun], None] | None = None
) -> list[RepoRun]:
    """Every repository, `jobs` at a time in separate processes; a failing one never stops the rest."""
    if options.open_pr:
        gh.require_gh()
    done: dict[str, RepoRun] = {}

    def finish(run: RepoRun) -> None:
        done[run.spec.name] = run
        if on_done is not None:
            on_done(run)

    if jobs <= 1 or len(specs) <= 1:
        for spec in specs:
            finish(run_repo(spec, options))
    else:
        # spawn, not fork: Helm's Go runtime does not survive a fork of a process that started it.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures: dict[Future[RepoRun], RepoSpec] = {pool.submit(run_repo, spec, options): spec for spec in specs}
            for future in as_completed(futures):
                spec = futures[future]
                try:
                    finish(future.result())
                except Exception as error:  # the worker died: report it, keep the others
                    finish(RepoRun(spec, [Outcome(spec.name, "-", "failed", message=f"worker died: {error}")]))
    return [done[spec.name] for spec in specs]


def run_repo(spec: RepoSpec, options: BotOptions) -> RepoRun:
    run = RepoRun(spec)
    current = "-"
    try:
        clone = branches.workspace(spec.location, options.workdir / "repos" / spec.name, options.remote)
        base_sha = branches.remote_head(clone, options.remote, options.base)
        if base_sha is None:
            raise InputError(f"the remote has no branch `{options.base}`", spec.location)
        stack = _Stack(spec, clone, options, base_sha)
        for phase in options.phases:
            current = phase
            run.outcomes.append(stack.phase(phase))
    except Exception as error:  # one repository's failure (even a fleetmig bug) never stops the others
        run.outcomes.append(Outcome(spec.name, current, "failed", message=_describe(error)))
    return run


def _describe(error: Exception) -> str:
    if isinstance(error, git.GitCommandError):
        return f"git {error.command[1] if len(error.command) > 1 else ''} failed: {str(error.stderr).strip()}"
    if isinstance(error, (FleetmigError, OSError)):
        return str(error)
    return f"internal error ({type(error).__name__}: {error}); please report it"


def _to_run(count: int) -> str:
    return f"{count} codemod{'s' * (count != 1)} to run"


class _Stack:
    """The phases of one repository, each branch on top of the previous one."""

    def __init__(self, spec: RepoSpec, clone: git.Repo, options: BotOptions, base_sha: str) -> None:
        self.spec = spec
        self.clone = clone
        self.root = Path(clone.working_tree_dir or ".")
        self.options = options
        self.base_sha = base_sha
        self.parent = base_sha
        self.target = options.base
        self.exclude = [f"refs/remotes/{options.remote}/{options.base}"]
        self.states: dict[str, prbody.PhaseState] = {}
        self.by_phase = {letter: registry.select(f"phase-{letter.lower()}") for letter in PHASES}

    def phase(self, letter: str) -> Outcome:
        options = self.options
        branch = branches.branch_name(letter)
        existing = branches.remote_head(self.clone, options.remote, branch)
        earlier = [cls for other in PHASES if other < letter for cls in self.by_phase[other]]
        generated = branches.generate(self.clone, self.parent, self.by_phase[letter], options.identity, earlier)
        outcome = Outcome(self.spec.name, letter, "nothing-to-do")
        if not generated.changed:
            if existing:
                outcome.message = f"`{branch}` is still on the remote but has nothing left to do: close it"
            self.states[letter] = prbody.PhaseState(letter, True, "nothing to do on this repository")
            return outcome
        outcome.branch = branch
        remote_ref = f"refs/remotes/{options.remote}/{branch}"
        humans = branches.human_commits(self.clone, existing, self.exclude, options.identity) if existing else []
        if humans and not options.force:
            outcome.status, outcome.head = "skipped-human-edit", existing
            outcome.message = "pushed by someone else: " + "; ".join(humans[:3]) + " (rerun with --force to regenerate)"
            self._stack_on(letter, branch, remote_ref, existing or generated.head, "left alone: a human pushed to it")
            return outcome
        if (
            existing
            and branches.same_tree(self.clone, generated.head, existing)
            and branches.contains(self.clone, self.parent, existing)
        ):
            outcome.status, outcome.head = "unchanged", existing
        else:
            outcome.status, outcome.head = ("updated" if existing else "created"), generated.head
            outcome.commits = len(generated.commits)
            self.clone.git.branch("--force", branch, generated.head)
            if options.push:
                branches.push(self.clone, options.remote, generated.head, branch, existing)
                outcome.pushed = True
        body_path = options.workdir / "pr-bodies" / self.spec.name / f"phase-{letter.lower()}.md"
        outcome.body = str(body_path)
        if outcome.status != "unchanged" or not body_path.is_file():
            outcome.verified = self._write_body(letter, generated, body_path)
        if options.open_pr:
            title = f"fleetmig: phase {letter} — {PHASES[letter]}"
            outcome.pr = gh.upsert_pr(gh.require_gh(), self.root, branch, self.target, title, body_path)
        self._stack_on(letter, branch, remote_ref, outcome.head or generated.head, f"`{branch}`")
        return outcome

    def _stack_on(self, letter: str, branch: str, remote_ref: str, head: str, state: str) -> None:
        self.states[letter] = prbody.PhaseState(letter, True, state)
        self.parent = head
        self.target = branch
        self.exclude.append(remote_ref)

    def _write_body(self, letter: str, generated: branches.Generated, path: Path) -> bool | None:
        verified: bool | None = None
        if self.options.verify:
            report = verify(self.root, generated.parent, new_wave_problems_only=True)
            verified = report.ok
            evidence = verify_report.as_markdown(report)
        else:
            evidence = "Not run (`--no-verify`)."
        files: dict[str, int] = {}
        for cls, changed in generated.commits:
            files[cls.id] = files.get(cls.id, 0) + len(changed)
        checklist = [
            self.states.get(other)
            or prbody.PhaseState(
                other, False, "this pull request" if other == letter else _to_run(len(self.by_phase[other]))
            )
            for other in PHASES
        ]
        checklist[list(PHASES).index(letter)] = prbody.PhaseState(letter, True, "this pull request")
        body = prbody.render(
            phase=letter,
            base_branch=self.options.base,
            base_sha=self.base_sha,
            target=self.target,
            parent=generated.parent,
            runs=generated.runs,
            files=files,
            verify_markdown=evidence,
            checklist=checklist,
        )
        prbody.write_if_changed(path, redact_text(body, fleet_secrets(Fleet.open(self.root))))
        return verified
