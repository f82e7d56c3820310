"""The codemod contract (DESIGN.md, "The codemod contract")."""

from __future__ import annotations

import inspect
import re
from abc import ABC, abstractmethod
from typing import ClassVar

from fleetmig.engine.changeset import Changeset, Finding
from fleetmig.fleet.model import Fleet

DOC_SECTIONS = ("What it changes", "Why", "Before", "After")
_ID = re.compile(r"^([a-g])([0-9]+)-[a-z0-9]+(?:-[a-z0-9]+)*$")


class Codemod(ABC):
    """Base class of every codemod. Subclasses set `id`, `phase`, `title` and write the docstring
    sections `What it changes`, `Why`, `Before`, `After`; `fleetmig explain ID` prints them."""

    id: ClassVar[str]
    phase: ClassVar[str]
    title: ClassVar[str]
    # Ids of earlier codemods whose work must be done before this one can run correctly.
    requires: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def order(cls) -> tuple[str, int]:
        match = _ID.match(cls.id)
        assert match is not None, cls.id
        return match.group(1).upper(), int(match.group(2))

    @classmethod
    def documentation(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def contract_problems(cls) -> list[str]:
        """Why this class breaks the contract (empty when it does not)."""
        problems = []
        for attribute in ("id", "phase", "title"):
            if not isinstance(getattr(cls, attribute, None), str):
                problems.append(f"missing `{attribute}`")
        if problems:
            return problems
        match = _ID.match(cls.id)
        if not match:
            problems.append(f"id `{cls.id}` is not `<phase letter><order>-<slug>` (e.g. a1-fleet-contract)")
        elif match.group(1).upper() != cls.phase:
            problems.append(f"id `{cls.id}` does not start with its phase letter `{cls.phase.lower()}`")
        doc = cls.documentation()
        for section in DOC_SECTIONS:
            if f"## {section}" not in doc:
                problems.append(f"docstring lacks the `## {section}` section")
        return problems

    @abstractmethod
    def apply(self, fleet: Fleet) -> Changeset:
        """Every change this codemod would make to `fleet`; never writes."""

    def guard(self, fleet: Fleet) -> Changeset:
        """What `fleetmig check` reads of this codemod: its pending changes and the findings its
        rules name (`check.rules`). All of `apply` unless a codemod overrides this to skip work
        whose only outcome is a finding no rule reports."""
        return self.apply(fleet)

    def plan(self, fleet: Fleet) -> list[Finding]:
        """Read-only findings: the pending changes, then what needs a human."""
        return self.apply(fleet).all_findings()

    def changeset(self) -> Changeset:
        return Changeset(self.id)
