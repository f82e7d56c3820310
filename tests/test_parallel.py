"""Forked workers: the same answers as one process, and a failing worker costs time, never results."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fleetmig.cores import JOBS_VARIABLE
from fleetmig.engine import parallel
from fleetmig.errors import InputError
from fleetmig.fleet.demo import write_demo
from fleetmig.fleet.model import Fleet


@pytest.fixture
def forking(monkeypatch: pytest.MonkeyPatch) -> None:
    # This test process may have loaded Helm already (other tests render), which rightly stops
    # fleetmig from forking; these tasks never touch Helm, so forking is safe for them.
    monkeypatch.setattr(parallel, "can_fork", lambda: True)
    monkeypatch.setattr(parallel, "cores", lambda: 2)


def _slow_square(item: int) -> tuple[int, int]:
    time.sleep(0.05)
    return item * item, os.getpid()


def test_map_shared_answers_in_order_from_both_processes(forking: None) -> None:
    answers = parallel.map_shared(_slow_square, list(range(8)))
    assert [square for square, _ in answers] == [n * n for n in range(8)]
    assert len({pid for _, pid in answers}) == 2, "the forked worker took none of the items"


def test_what_a_failing_worker_took_is_done_by_the_parent(forking: None) -> None:
    parent = os.getpid()

    def only_here(item: int) -> int:
        time.sleep(0.02)
        if os.getpid() != parent:
            raise RuntimeError("a worker fails")
        return item + 1

    assert parallel.map_shared(only_here, list(range(6))) == [1, 2, 3, 4, 5, 6]


def test_claims_give_each_index_once_from_both_ends_across_a_fork(forking: None) -> None:
    claims = parallel.Claims(40)

    def from_the_back() -> list[int]:
        taken = []
        while (index := claims.back()) is not None:
            time.sleep(0.002)
            taken.append(index)
        return taken

    (worker,) = parallel.fork_each([from_the_back])
    front = []
    while (index := claims.front()) is not None:
        time.sleep(0.002)
        front.append(index)
    back = worker.result()
    assert back is not None and back and front, "both ends took some"
    assert front == list(range(len(front))) and back == list(range(39, len(front) - 1, -1))


def test_data_files_parsed_on_both_cores_are_what_one_process_parses(
    forking: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "fleet"
    write_demo(root)
    broken = root / "sources/values/_shared/platform/broken.yaml"
    broken.write_text("a: [1\n")
    monkeypatch.setattr(parallel, "_FILES_PER_CORE", 1)
    shared, alone = Fleet.open(root), Fleet.open(root)
    parallel.parse_data_files(shared)
    expected, unreadable = {}, []
    for rel in alone.data_files():
        try:
            expected[rel] = alone.values(rel)
        except InputError:
            unreadable.append(rel)
    assert len(expected) > 50 and "sources/values/_shared/platform/broken.yaml" in unreadable
    assert {rel: shared._plain._own.get(rel) for rel in expected} == expected
    assert not any(rel in shared._plain._own for rel in unreadable)  # whoever reads them reports them
    with pytest.raises(InputError, match="invalid YAML"):
        shared.values("sources/values/_shared/platform/broken.yaml")


def test_an_answer_that_does_not_pickle_is_redone_by_the_parent(forking: None) -> None:
    (pending,) = parallel.fork_each([lambda: lambda: None])
    assert pending.result() is None


def _fleetmig(fleet: Path, jobs: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, JOBS_VARIABLE: str(jobs)}
    return subprocess.run(
        [sys.executable, "-m", "fleetmig", *args, "--repo", str(fleet)], capture_output=True, text=True, env=env
    )


def test_commands_answer_the_same_on_one_core_and_on_two(tmp_path: Path) -> None:
    fleet = tmp_path / "demo"
    write_demo(fleet)
    for args in (["plan", "all", "--format", "json"], ["check", "--format", "json"]):
        one, two = _fleetmig(fleet, 1, *args), _fleetmig(fleet, 2, *args)
        assert (one.returncode, one.stdout) == (two.returncode, two.stdout), args
    assert _fleetmig(fleet, 2, "apply", "all", "--allow-dirty").returncode == 0
    # On the migrated fleet every bet on "the earlier codemods change nothing" wins.
    for args in (["apply", "all", "--dry-run", "--format", "json"], ["check", "--format", "json"]):
        one, two = _fleetmig(fleet, 1, *args), _fleetmig(fleet, 2, *args)
        assert (one.returncode, one.stdout) == (two.returncode, two.stdout), args
