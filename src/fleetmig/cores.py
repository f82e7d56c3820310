"""How many cores fleetmig may use: forked workers for codemods, threads for Helm renders."""

from __future__ import annotations

import os

JOBS_VARIABLE = "FLEETMIG_JOBS"


def cores() -> int:
    """FLEETMIG_JOBS, else the cores this process may run on."""
    configured = os.environ.get(JOBS_VARIABLE, "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
