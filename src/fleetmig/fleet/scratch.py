"""Scratch folders for files a tool must read from disk (Helm loads a chart from a folder; verify
reads the base revision as a tree).

A run writes such folders again and again, thousands of small files: on a disk file system that
was a tenth of `plan` (1.8 ms per chart), in memory it is nearly free. So they go under
FLEETMIG_SCRATCH if set, else in memory where the system has a tmpfs (/dev/shm), and to the
temporary directory when neither is there or can take them (a small /dev/shm, as in containers).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

SCRATCH_VARIABLE = "FLEETMIG_SCRATCH"
_IN_MEMORY = "/dev/shm"


@contextmanager
def written(prefix: str, write: Callable[[Path], None]) -> Iterator[Path]:
    """A new scratch folder that `write` has filled, removed when the block ends."""
    fast = os.environ.get(SCRATCH_VARIABLE) or (_IN_MEMORY if os.access(_IN_MEMORY, os.W_OK) else None)
    try:
        scratch = _written_under(fast, prefix, write)
    except OSError:
        if fast is None:
            raise
        scratch = _written_under(None, prefix, write)
    with scratch:
        yield Path(scratch.name)


def _written_under(base: str | None, prefix: str, write: Callable[[Path], None]) -> tempfile.TemporaryDirectory[str]:
    scratch = tempfile.TemporaryDirectory(prefix=prefix, dir=base)
    try:
        write(Path(scratch.name))
    except BaseException:
        scratch.cleanup()
        raise
    return scratch
