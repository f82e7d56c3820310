"""Registry, selection, runner: ordering, atomic writes, dirty-tree refusal, idempotency guard."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from fleetmig.engine import Changeset, Codemod, registry, runner, writer
from fleetmig.errors import InputError
from fleetmig.fleet import reads
from fleetmig.fleet.demo import write_demo
from fleetmig.fleet.model import Fleet

from .fleets import LOCAL_GLOBALS, commit_all, small_fleet, snapshot

GLOBALS = "sources/values/cluster/local/globals.yaml"


def test_registry_orders_by_phase_then_number_and_every_codemod_keeps_the_contract() -> None:
    codemods = registry.all_codemods()
    assert codemods, "no codemods discovered"
    assert [c.order() for c in codemods] == sorted(c.order() for c in codemods)
    assert all(not c.contract_problems() for c in codemods)
    assert codemods[0].id == "a1-fleet-contract"


@pytest.mark.parametrize("target", ["all", "phase-a", "phase-a..phase-g", "a1-fleet-contract", " a1-fleet-contract "])
def test_selection_forms(target: str) -> None:
    assert "a1-fleet-contract" in [c.id for c in registry.select(target)]


@pytest.mark.parametrize(
    ("target", "message"),
    [("phase-z", "not a phase"), ("phase-c..phase-a", "backwards"), ("nope", "unknown codemod")],
)
def test_bad_selection_is_an_input_error(target: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        registry.select(target)


def test_phase_b_selection_is_empty_until_phase_b_codemods_exist() -> None:
    assert all(c.phase == "B" for c in registry.select("phase-b"))


def test_dry_run_writes_nothing_and_reports_the_change(tmp_path: Path) -> None:
    fleet = small_fleet(tmp_path)
    before = snapshot(fleet)
    result = runner.apply(Fleet.open(fleet), registry.select("a1-fleet-contract"), write=False, allow_dirty=False)
    assert [c.path for c in result.changes] == [GLOBALS]
    assert snapshot(fleet) == before


def test_a_failure_while_staging_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fleet = small_fleet(
        tmp_path, {"sources/values/cluster/azure/globals.yaml": "cluster:\n  name: aks-ameide-weu-01\n"}
    )
    before = snapshot(fleet)
    real_stage = writer._stage
    calls = []

    def failing_stage(target: Path, content: bytes, mode_from: Path) -> Path:
        calls.append(target)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_stage(target, content, mode_from)

    monkeypatch.setattr(writer, "_stage", failing_stage)
    with pytest.raises(OSError):
        runner.apply(Fleet.open(fleet), registry.select("all"), write=True, allow_dirty=True)
    assert len(calls) >= 2
    assert snapshot(fleet) == before, "a half-written tree (or a leftover temp file)"


def test_refuses_to_touch_files_with_uncommitted_changes(tmp_path: Path) -> None:
    fleet = small_fleet(tmp_path)
    commit_all(fleet)
    (fleet / GLOBALS).write_text(LOCAL_GLOBALS + "extra: 1\n")
    before = snapshot(fleet)
    with pytest.raises(InputError, match=f"uncommitted changes in files this run would touch: {GLOBALS}"):
        runner.apply(Fleet.open(fleet), registry.select("all"), write=True, allow_dirty=False)
    assert snapshot(fleet) == before
    runner.apply(Fleet.open(fleet), registry.select("all"), write=True, allow_dirty=True)
    assert b"global:" in (fleet / GLOBALS).read_bytes()


def test_dirty_files_the_run_does_not_touch_are_fine(tmp_path: Path) -> None:
    fleet = small_fleet(tmp_path)
    commit_all(fleet)
    (fleet / "notes.txt").write_text("work in progress\n")
    runner.apply(Fleet.open(fleet), registry.select("all"), write=True, allow_dirty=False)
    assert b"global:" in (fleet / GLOBALS).read_bytes()


class _Restless(Codemod):
    """Appends a line every time: the idempotency guard must stop it.

    ## What it changes
    x
    ## Why
    x
    ## Before
    x
    ## After
    x
    """

    id: ClassVar[str] = "z9-restless"
    phase: ClassVar[str] = "G"
    title: ClassVar[str] = "never done"

    def apply(self, fleet: Fleet) -> Changeset:
        changeset = self.changeset()
        before = fleet.read_bytes(GLOBALS)
        changeset.edit(GLOBALS, before, before + b"# again\n", "append")
        return changeset


def test_idempotency_guard_names_the_codemod_and_writes_nothing(tmp_path: Path) -> None:
    fleet = small_fleet(tmp_path)
    before = snapshot(fleet)
    with pytest.raises(runner.NotIdempotent, match="z9-restless"):
        runner.apply(Fleet.open(fleet), [_Restless], write=True, allow_dirty=True)
    assert snapshot(fleet) == before


def test_codemods_see_the_changes_of_earlier_codemods_in_the_same_run(tmp_path: Path) -> None:
    fleet = small_fleet(tmp_path)
    result = runner.simulate(Fleet.open(fleet), [*registry.select("a1-fleet-contract"), _Restless])
    assert result.final is not None
    final = result.final.read_bytes(GLOBALS)
    assert b"global:" in final and final.endswith(b"# again\n")


def test_malformed_globals_is_an_input_error_naming_file_and_line(tmp_path: Path) -> None:
    fleet = small_fleet(
        tmp_path,
        {
            "sources/values/env/dev/globals.yaml": "environment: dev\nnamespace: [unclosed\n",
            "config/clusters/azure.yaml": "- {env: dev, clusterType: local}\n",
        },
    )
    before = snapshot(fleet)
    with pytest.raises(InputError) as info:
        runner.apply(Fleet.open(fleet), registry.select("all"), write=True, allow_dirty=True)
    assert info.value.path == "sources/values/env/dev/globals.yaml"
    assert info.value.line == 3
    assert snapshot(fleet) == before


class _AfterA1(Codemod):
    """Needs the contract published first.

    ## What it changes
    x
    ## Why
    x
    ## Before
    x
    ## After
    x
    """

    id: ClassVar[str] = "a9-after-contract"
    phase: ClassVar[str] = "A"
    title: ClassVar[str] = "after a1"
    requires: ClassVar[tuple[str, ...]] = ("a1-fleet-contract",)

    def apply(self, fleet: Fleet) -> Changeset:
        return self.changeset()


def test_a_codemod_whose_requirement_still_has_work_is_skipped_with_a_clear_finding(tmp_path: Path) -> None:
    fleet = small_fleet(tmp_path)
    (run,) = runner.simulate(Fleet.open(fleet), [_AfterA1]).runs
    assert [f.message for f in run.findings] == [
        "skipped: needs `a1-fleet-contract` applied first (run `fleetmig apply a1-fleet-contract`)"
    ]
    runner.apply(Fleet.open(fleet), registry.select("a1-fleet-contract"), write=True, allow_dirty=True)
    (run,) = runner.simulate(Fleet.open(fleet), [_AfterA1]).runs
    assert run.done


def test_a_directory_where_a_globals_file_belongs_is_an_input_error(tmp_path: Path) -> None:
    fleet = small_fleet(tmp_path)
    (fleet / "sources/values/base/globals.yaml").unlink()
    (fleet / "sources/values/base/globals.yaml").mkdir()
    with pytest.raises(InputError, match="found a directory") as info:
        runner.simulate(Fleet.open(fleet), registry.select("all"))
    assert info.value.path == "sources/values/base/globals.yaml"


def test_reads_are_touched_by_their_paths_listings_created_or_deleted_and_contents() -> None:
    with reads.recording() as seen:
        reads.path("a/values.yaml")
        reads.listing("charts/**/Chart.yaml")
        reads.contents("config/clusters/*.yaml")
    assert reads._current is None
    assert seen.touched_by({"a/values.yaml": False})
    assert not seen.touched_by({"a/other.yaml": True})
    assert seen.touched_by({"charts/x/y/Chart.yaml": True})
    assert not seen.touched_by({"charts/x/y/Chart.yaml": False}), "an edit does not change a listing"
    assert not seen.touched_by({"charts/x/values.yaml": True})
    assert seen.touched_by({"config/clusters/azure.yaml": False})
    assert not seen.touched_by({"config/clusters/sub/azure.yaml": False})


class _Counting(Codemod):
    """Reads one file and never changes anything; counts its runs.

    ## What it changes
    x
    ## Why
    x
    ## Before
    x
    ## After
    x
    """

    id: ClassVar[str] = "a0-counting"
    phase: ClassVar[str] = "A"
    title: ClassVar[str] = "reads"
    reads: ClassVar[str] = ""
    runs: ClassVar[int] = 0

    def apply(self, fleet: Fleet) -> Changeset:
        type(self).runs += 1
        fleet.read_bytes(self.reads)
        return self.changeset()


class _ReadsGlobals(_Counting):
    id: ClassVar[str] = "a0-reads-globals"
    reads: ClassVar[str] = GLOBALS


class _ReadsPolicy(_Counting):
    id: ClassVar[str] = "a0-reads-policy"
    reads: ClassVar[str] = "fleetmig.yaml"


def test_a_settling_pass_reruns_only_codemods_whose_reads_changed(tmp_path: Path) -> None:
    fleet = small_fleet(tmp_path, {"fleetmig.yaml": "version: 1\n"})
    _ReadsGlobals.runs = _ReadsPolicy.runs = 0
    result = runner.simulate(Fleet.open(fleet), [_ReadsGlobals, _ReadsPolicy, *registry.select("a1-fleet-contract")])
    assert result.settled and [c.path for c in result.changes] == [GLOBALS]
    # a1 changed the globals after both had run: the globals' reader runs again, the other does not.
    assert (_ReadsGlobals.runs, _ReadsPolicy.runs) == (2, 1)


def test_skipping_untouched_codemods_leaves_the_result_of_a_whole_migration_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_demo(tmp_path / "demo")

    def migrated() -> tuple[dict[str, bytes | None], list[str]]:
        result = runner.simulate(Fleet.open(tmp_path / "demo"), registry.select("all"))
        assert result.settled and result.final is not None
        contents = {
            c.path: result.final.files.read_bytes(c.path) if result.final.exists(c.path) else None
            for c in result.changes
        }
        return contents, [f"{f.location}: {f.message}" for run in result.runs for f in run.findings]

    skipped = []
    touched = runner._touched
    monkeypatch.setattr(runner, "_touched", lambda *args: touched(*args) or skipped.append(args) is not None)
    skipping = migrated()
    assert skipped, "the demo's migration settles over several passes: some codemods must have been skipped"
    monkeypatch.setattr(runner, "_touched", lambda *_: True)
    assert migrated() == skipping
