"""The fleet contract's bridges: which root values keys moved under `global.ameide.*`, and where to.

`contract.move` in fleetmig.yaml maps a root key of the fleet globals to a path under the contract
root (`cluster: cluster` → root `cluster.*` is now read at `global.ameide.cluster.*`). Every phase-A
codemod that publishes, rewrites or drops keys works from this one list.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetmig.edit.yaml import YamlEditor
from fleetmig.fleet.policy import Policy

# Marks a root key kept only so that old readers keep working; drop-bridge looks for it.
DEPRECATION_MARK = "DEPRECATED (fleetmig"


@dataclass(frozen=True)
class Bridge:
    """Root key `root` (e.g. `cluster`) is deprecated; its content now lives at `target`."""

    root: str
    target: str  # dotted, from the values root: `global.ameide.cluster`

    @property
    def target_keys(self) -> tuple[str, ...]:
        return tuple(self.target.split("."))

    def comment(self, codemod: str) -> str:
        return f"{DEPRECATION_MARK} {codemod}): compatibility bridge; read {self.target} instead"


def bridges(policy: Policy) -> tuple[Bridge, ...]:
    """Every moved root key, in the order fleetmig.yaml lists them."""
    return tuple(Bridge(root, f"{policy.contract_root}.{path}") for root, path in policy.contract_move.items())


def is_marked_bridge(editor: YamlEditor, key: str) -> bool:
    """Whether root `key` carries the deprecation comment a phase-A codemod puts on a bridge."""
    for entry in editor.entries():
        if entry.key == key:
            return any(DEPRECATION_MARK in line for line in editor.lines[entry.head_start : entry.key_line])
    return False
