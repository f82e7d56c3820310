"""The parsing floor every benchmark divides by: read every YAML file of a fleet and parse it with
PyYAML's C loader. Ratios to it mean the same on a slow CI machine and a fast laptop."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

import yaml


def yaml_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.yaml") if ".git" not in p.parts and not p.is_symlink()]


def floor(root: Path) -> None:
    for path in yaml_files(root):
        # Helm templates are not YAML; the floor still paid for reading them.
        with contextlib.suppress(yaml.YAMLError):
            list(yaml.load_all(path.read_bytes(), Loader=yaml.CSafeLoader))


def best_of(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


if __name__ == "__main__":
    import sys

    floor(Path(sys.argv[1]))
