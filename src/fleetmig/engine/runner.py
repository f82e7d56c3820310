"""plan and apply: run codemods in order in memory, guard idempotency, then write atomically."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

from fleetmig.cores import cores
from fleetmig.engine import journal, parallel, registry
from fleetmig.engine.changeset import Changeset, FileChange, Finding
from fleetmig.engine.codemod import Codemod
from fleetmig.engine.gitstate import dirty_paths
from fleetmig.engine.writer import write_atomically
from fleetmig.errors import EditRefused, FleetmigError, InputError
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.reads import Reads, recording


class NotIdempotent(FleetmigError):
    """A codemod still has work on its own output: a fleetmig bug; nothing was written."""


@dataclass
class CodemodRun:
    codemod: type[Codemod]
    changeset: Changeset
    left: int = 0  # how many changesets had been applied when this codemod last changed the fleet
    reads: Reads | None = None  # what its last apply read
    mark: int = 0  # how many changes the run had seen when it last applied
    changed: bool = False  # whether its last apply changed anything

    @property
    def findings(self) -> list[Finding]:
        return self.changeset.all_findings()

    @property
    def pending(self) -> int:
        return len(self.changeset.changes)

    @property
    def done(self) -> bool:
        return not self.changeset.changes and not self.changeset.findings


@dataclass
class RunResult:
    """The runs, and the changesets in the order they were applied to the fleet the run started
    from. The intermediate views are not kept (with what they parsed and rendered they were a good
    part of a run's memory): the rare caller that needs one rebuilds it from those changesets."""

    start: Fleet
    runs: list[CodemodRun] = field(default_factory=list)
    applied: list[dict[str, bytes | None]] = field(default_factory=list)
    settled: bool = False  # a whole pass over the final state changed nothing

    def view_after(self, count: int) -> Fleet:
        """The fleet once the first `count` changesets were applied."""
        merged: dict[str, bytes | None] = {}
        for contents in self.applied[:count]:
            merged.update(contents)
        return self.start.with_contents(merged)

    @property
    def final(self) -> Fleet:
        return self.view_after(len(self.applied))

    @property
    def changes(self) -> list[FileChange]:
        return [change for run in self.runs for change in run.changeset.changes]

    @property
    def pending(self) -> bool:
        return bool(self.changes)


MAX_PASSES = 3


def simulate(fleet: Fleet, codemods: Sequence[type[Codemod]]) -> RunResult:
    """Run every codemod in order, each on the files the earlier ones left; nothing is written.

    A later phase can give an earlier one new work (a wrapper chart from phase E needs the phase-A
    schema): the selection runs again on its own output until nothing changes (at most MAX_PASSES),
    so one `apply` leaves nothing pending; a codemod that never settles is `guard_idempotency`'s
    to catch. A codemod that found nothing to do last time and none of whose reads were touched
    since is not run again: it would find nothing again. Each codemod's changes of every pass are
    kept in order."""
    result = RunResult(fleet)
    chain = _Chain(fleet)
    selected = frozenset(cls.id for cls in codemods)
    result.runs = _first_pass(chain, codemods, selected)
    result.settled = not result.changes
    for _ in range(MAX_PASSES - 1):
        if result.settled:
            break
        changed = False
        for run in result.runs:
            if run.changeset.findings and not run.changeset.changes and _blocked_by_requirements(run):
                continue
            if not run.changed and run.reads is not None and not _touched(run.reads, chain.history[run.mark :]):
                continue
            again = chain.apply(run)
            if again.changes:
                run.changeset.changes.extend(again.changes)
                run.changeset.findings = again.findings
                changed = True
        result.settled = not changed
    result.applied = chain.applied
    return result


class _Chain:
    """The fleet as the codemods applied so far left it, and what each of them changed."""

    def __init__(self, fleet: Fleet) -> None:
        self.view = fleet
        self.history: list[dict[str, bool]] = []  # per applied changeset: path → created or deleted
        self.applied: list[dict[str, bytes | None]] = []  # per applied changeset: path → content

    def apply(self, run: CodemodRun) -> Changeset:
        with recording() as seen:
            changeset = apply_one(run.codemod, self.view)
        self.record(run, changeset, seen)
        return changeset

    def record(self, run: CodemodRun, changeset: Changeset, seen: Reads) -> None:
        run.reads, run.mark, run.changed = seen, len(self.history), bool(changeset.changes)
        if changeset:
            contents = changeset.contents()
            self.history.append({rel: (new is None) == self.view.files.exists(rel) for rel, new in contents.items()})
            self.applied.append(contents)
            self.view = self.view.with_contents(contents)
            run.left = len(self.history)


def _first_pass(chain: _Chain, codemods: Sequence[type[Codemod]], selected: frozenset[str]) -> list[CodemodRun]:
    """Each codemod once, in order. This process applies them from the first on; forked workers
    meanwhile take them from the last, each on the fleet as it is, betting that every earlier one
    changes nothing (a migrated fleet, `check`-like runs). Both ends meet wherever the costs put
    them. The first change loses the bet: the workers are stopped, and the codemods after it run
    here, in order, on the fleet it left."""
    workers = min(cores(), len(codemods)) - 1 if parallel.can_fork() else 0
    if workers < 1:
        return _in_order(chain, codemods, selected)
    claims = parallel.Claims(len(codemods))
    bets = parallel.fork_each([functools.partial(_bet, chain.view, codemods, selected, claims)] * workers)

    def lost() -> None:  # every answer of a worker started from a fleet that is gone
        for bet in bets:
            bet.cancel()

    runs: list[CodemodRun] = []
    try:
        while not chain.history and (index := claims.front()) is not None:
            runs += _in_order(chain, [codemods[index]], selected)
        answers: dict[int, tuple[Changeset, Reads | None]] = {}
        if chain.history:
            lost()
        else:
            for bet in bets:
                answers.update(bet.result() or {})  # a failed worker's codemods are redone here
        for index in range(len(runs), len(codemods)):
            if chain.history or index not in answers:
                runs += _in_order(chain, [codemods[index]], selected)
                continue
            changeset, seen = answers[index]
            run = CodemodRun(codemods[index], changeset)
            if seen is not None:
                chain.record(run, changeset, seen)
            runs.append(run)
    except BaseException:
        lost()  # no worker outlives the run (they hold the fleet's lock file open)
        raise
    return runs


def _bet(
    start: Fleet, codemods: Sequence[type[Codemod]], selected: frozenset[str], claims: parallel.Claims
) -> dict[int, tuple[Changeset, Reads | None]]:
    """In a worker: codemods taken from the back, each run on the fleet as it was when the pass began."""
    answers = {}
    while (index := claims.back()) is not None:
        (run,) = _in_order(_Chain(start), [codemods[index]], selected)
        answers[index] = (run.changeset, run.reads)
    return answers


def _in_order(chain: _Chain, codemods: Sequence[type[Codemod]], selected: frozenset[str]) -> list[CodemodRun]:
    """The codemods applied one after another."""
    runs = []
    for cls in codemods:
        run = CodemodRun(cls, Changeset(cls.id))
        unmet = _unmet_requirements(cls, chain.view, selected)
        run.changeset = _blocked(cls, unmet) if unmet else chain.apply(run)
        runs.append(run)
    return runs


def _touched(reads: Reads, changes: list[dict[str, bool]]) -> bool:
    return any(reads.touched_by(change) for change in changes)


def _blocked_by_requirements(run: CodemodRun) -> bool:
    return any(f.message.startswith("skipped: needs") for f in run.changeset.findings)


def apply_one(cls: type[Codemod], fleet: Fleet, *, guard: bool = False) -> Changeset:
    try:
        return cls().guard(fleet) if guard else cls().apply(fleet)
    except EditRefused as refusal:
        # The editor refused a whole-file edit the codemod did not anticipate: report, don't guess.
        changeset = Changeset(cls.id)
        changeset.manual(refusal.path or "", refusal.line, f"not changed: {refusal.message}")
        return changeset


def _unmet_requirements(cls: type[Codemod], fleet: Fleet, selected: frozenset[str]) -> list[str]:
    """Required codemods outside this run that still have work on the fleet."""
    if not cls.requires:
        return []
    by_id = {c.id: c for c in registry.all_codemods()}
    return [req for req in cls.requires if req not in selected and apply_one(by_id[req], fleet)]


def _blocked(cls: type[Codemod], unmet: list[str]) -> Changeset:
    changeset = Changeset(cls.id)
    names = ", ".join(f"`{req}`" for req in unmet)
    changeset.manual(".", None, f"skipped: needs {names} applied first (run `fleetmig apply {','.join(unmet)}`)")
    return changeset


def guard_idempotency(result: RunResult) -> None:
    """Each codemod that changed something must find nothing left to do on its own output. A run
    that settled has already shown more: every codemod found nothing left on the final state."""
    if result.settled:
        return
    for run in result.runs:
        if not run.changeset:
            continue
        again = apply_one(run.codemod, result.view_after(run.left))
        if again:
            paths = ", ".join(sorted({c.path for c in again.changes}))
            raise NotIdempotent(
                f"codemod `{run.codemod.id}` is not idempotent: applied to its own output it would still "
                f"change {paths}. Nothing was written; please report this as a fleetmig bug."
            )


def apply(fleet: Fleet, codemods: Sequence[type[Codemod]], *, write: bool, allow_dirty: bool) -> RunResult:
    """Prepare every change, prove idempotency, then (when `write`) replace files atomically.
    A writing run holds the fleet's lock from the first read to the last write."""
    if not write:
        return _apply(fleet, codemods, write=False, allow_dirty=allow_dirty)
    with journal.locked(fleet.root):
        return _apply(fleet, codemods, write=True, allow_dirty=allow_dirty)


def _apply(fleet: Fleet, codemods: Sequence[type[Codemod]], *, write: bool, allow_dirty: bool) -> RunResult:
    result = simulate(fleet, codemods)
    guard_idempotency(result)
    if not write or not result.pending:
        return result
    touched = sorted({p for change in result.changes for p in (change.path, change.new_path) if p})
    if not allow_dirty:
        dirty = dirty_paths(fleet.root, touched)
        if dirty:
            listed = ", ".join(dirty[:5]) + (" …" if len(dirty) > 5 else "")
            raise InputError(
                f"uncommitted changes in files this run would touch: {listed}. "
                "Commit or stash them, or pass --allow-dirty.",
                fleet.root,
            )
    write_atomically(fleet.root, result.changes)
    return result
