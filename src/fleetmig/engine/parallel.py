"""Both cores for codemods that read the same fleet: forked workers start with everything the
parent has read and parsed, run their share, and send back plain results.

Only `fork` shares that state for free, and a fork is only safe before Helm is loaded: Helm runs
in-process on a Go runtime whose threads a forked child would not have. So work is forked out at
the start of a command, before anything renders, and wherever forking is not possible the caller
runs the same work itself. A worker that fails for any reason answers None, and the caller redoes
its share in-process, so an error surfaces exactly as it would without workers.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import multiprocessing
import sys
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

from fleetmig.cores import cores
from fleetmig.errors import InputError
from fleetmig.fleet.model import Fleet

T = TypeVar("T")
A = TypeVar("A")


def can_fork() -> bool:
    return cores() > 1 and "fork" in multiprocessing.get_all_start_methods() and "helm_python" not in sys.modules


class Pending(Generic[T]):
    """A forked worker's answer, collected once."""

    def __init__(self, process: BaseProcess, answers: Connection) -> None:
        self._process = process
        self._answers = answers

    def cancel(self) -> None:
        """The answer is no longer wanted: stop the worker now rather than let it hold a core (a
        worker that has already answered, or been stopped, is left as it is)."""
        self._process.kill()
        self._process.join()
        self._answers.close()

    def result(self) -> T | None:
        try:
            value: T | None = self._answers.recv()
        except (EOFError, OSError):
            value = None
        finally:
            self._answers.close()
        self._process.join()
        return value


def fork_each(tasks: Sequence[Callable[[], T]]) -> list[Pending[T]]:
    """Start one forked worker per task; call only when `can_fork()`."""
    # A collection in a worker would write to the header of every object the parent made, copying
    # each page it shares with the parent; frozen objects are left alone.
    gc.freeze()
    context = multiprocessing.get_context("fork")
    pending = []
    for task in tasks:
        answers, sender = context.Pipe(duplex=False)
        process = context.Process(target=_work, args=(task, sender), daemon=True)
        process.start()
        sender.close()
        pending.append(Pending[T](process, answers))
    return pending


class Claims:
    """The indexes 0 … count-1, each claimed once, from either end, by the process that made this
    and the workers it forks after making it."""

    def __init__(self, count: int) -> None:
        context = multiprocessing.get_context("fork")
        self._lock = context.Lock()
        self._front = context.RawValue("i", 0)
        self._back = context.RawValue("i", count - 1)

    def front(self) -> int | None:
        with self._lock:
            if self._front.value > self._back.value:
                return None
            self._front.value += 1
            return int(self._front.value - 1)

    def back(self) -> int | None:
        with self._lock:
            if self._back.value < self._front.value:
                return None
            self._back.value -= 1
            return int(self._back.value + 1)


def parse_data_files(fleet: Fleet) -> None:
    """Parse the fleet's data files on every core before anything else reads them: forked workers
    parse a share each and send the data back, which loads several times faster than YAML parses.
    A file that does not parse is left to whoever reads it, to report."""
    try:
        _parse_on_every_core(fleet)
    finally:
        # The parsed files live as long as the run: collections need not walk them again (in a
        # large fleet each full collection would walk millions of objects).
        gc.freeze()


def _parse_on_every_core(fleet: Fleet) -> None:
    files = fleet.data_files()
    count = min(cores(), max(1, len(files) // _FILES_PER_CORE)) if can_fork() else 1
    if count < 2:
        return

    def parse(share: Sequence[str]) -> dict[str, Any]:
        parsed = {}
        for rel in share:
            with contextlib.suppress(InputError):
                parsed[rel] = fleet.values(rel)
        return parsed

    workers = fork_each([functools.partial(parse, files[index::count]) for index in range(1, count)])
    parse(files[::count])
    for worker in workers:
        fleet.adopt(worker.result() or {})


_FILES_PER_CORE = 500  # below that, a fork costs more than the parse it saves


def map_shared(function: Callable[[A], T], items: Sequence[A]) -> list[T]:
    """`function` of every item, this process and forked workers taking the next item as they
    become free (costs vary too much per item for fixed shares)."""
    if not can_fork() or len(items) < 2:
        return [function(item) for item in items]
    claims = Claims(len(items))

    def drain() -> dict[int, T]:
        out: dict[int, T] = {}
        while (index := claims.front()) is not None:
            out[index] = function(items[index])
        return out

    workers = fork_each([drain] * (min(cores(), len(items)) - 1))
    try:
        done = drain()
    except BaseException:
        for worker in workers:
            worker.cancel()
        raise
    for worker in workers:
        done.update(worker.result() or {})
    # What a failed worker had taken is done here (and fails here, if it fails again).
    return [done[index] if index in done else function(item) for index, item in enumerate(items)]


def _work(task: Callable[[], object], sender: Connection) -> None:
    try:
        answer = task()
    except BaseException:  # the parent redoes the task and reports what happens then
        answer = None
    try:
        sender.send(answer)
    except Exception:  # an answer that does not pickle is redone by the parent
        sender.send(None)
