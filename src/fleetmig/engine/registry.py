"""Finds the codemods shipped in `codemods/` and selects them by phase, range or id."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from fleetmig.engine.codemod import Codemod
from fleetmig.engine.phases import PHASES
from fleetmig.errors import InputError
from fleetmig.resources import shipped_dir

_MODULE_PREFIX = "fleetmig_codemods"


class RegistryError(Exception):
    """A shipped codemod breaks the contract: a bug in fleetmig, not in the user's input."""


@cache
def all_codemods(directory: Path | None = None) -> tuple[type[Codemod], ...]:
    """Every codemod in run order: by phase, then by order number."""
    directory = directory or shipped_dir("codemods")
    found: dict[str, type[Codemod]] = {}
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        for cls in _codemods_in(path):
            problems = cls.contract_problems()
            if problems:
                raise RegistryError(f"{path.name}: {cls.__name__}: " + "; ".join(problems))
            if cls.id in found:
                raise RegistryError(f"{path.name}: codemod id `{cls.id}` is defined twice")
            found[cls.id] = cls
    for cls in found.values():
        for required in cls.requires:
            if required not in found or found[required].order() >= cls.order():
                raise RegistryError(f"{cls.id} requires `{required}`, which is not an earlier codemod")
    return tuple(sorted(found.values(), key=lambda cls: cls.order()))


def _codemods_in(path: Path) -> list[type[Codemod]]:
    name = f"{_MODULE_PREFIX}.{path.stem}"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, Codemod)
        and obj is not Codemod
        and not inspect.isabstract(obj)
        and obj.__module__ == name
    ]


def select(target: str, codemods: Sequence[type[Codemod]] | None = None) -> list[type[Codemod]]:
    """`all`, `phase-a`, `phase-a..phase-c`, or a comma list of ids, in run order."""
    codemods = list(codemods if codemods is not None else all_codemods())
    target = target.strip()
    if target == "all":
        return codemods
    if target.startswith("phase-"):
        first, sep, last = target.partition("..")
        start = _phase_letter(first, target)
        stop = _phase_letter(last, target) if sep else start
        if start > stop:
            raise InputError(f"phase range `{target}` runs backwards")
        return [cls for cls in codemods if start <= cls.phase <= stop]
    by_id = {cls.id: cls for cls in codemods}
    chosen = []
    for raw in target.split(","):
        ident = raw.strip()
        if ident not in by_id:
            known = ", ".join(by_id) or "none"
            raise InputError(
                f"unknown codemod `{ident}` (known: {known}); targets are all, phase-a..phase-g, ranges or ids"
            )
        chosen.append(by_id[ident])
    return [cls for cls in codemods if cls in chosen]


def _phase_letter(text: str, target: str) -> str:
    letter = text.removeprefix("phase-").upper()
    if letter not in PHASES:
        raise InputError(f"`{text}` in `{target}` is not a phase (phase-a … phase-g)")
    return letter
