"""The codemod engine: contract, registry, changesets, runner and diff rendering."""

from fleetmig.engine.changeset import Changeset, FileChange, Finding
from fleetmig.engine.codemod import Codemod

__all__ = ["Changeset", "Codemod", "FileChange", "Finding"]
