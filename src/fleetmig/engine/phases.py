"""The seven phases of the hardening plan (519 §5), in order."""

from __future__ import annotations

PHASES: dict[str, str] = {
    "A": "Fleet contract + compatibility bridge",
    "B": "ApplicationSet generator split by clusterType",
    "C": "First-class enablement pattern",
    "D": "Secrets: remove Helm-generated stable secrets",
    "E": "Image policy consolidation",
    "F": "Bootstrap Jobs standardization",
    "G": "Diff customization and SSA policy",
}
