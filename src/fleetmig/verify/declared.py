"""The render differences codemods intend, so `fleetmig verify` can tell them from regressions.

Each declaration names the codemod whose change it describes and recognises one object-level
difference between the base render and the migrated render. A difference no declaration explains
fails verification.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]
Key = tuple[str, str, str, str]  # group, kind, namespace, name
JOB_STANDARD_SPEC = ("backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished", "podFailurePolicy")
JOB_STANDARD_ANNOTATIONS = (
    "argocd.argoproj.io/hook",
    "argocd.argoproj.io/hook-delete-policy",
    "argocd.argoproj.io/sync-wave",
    "helm.sh/hook",
    "helm.sh/hook-delete-policy",
    "helm.sh/hook-weight",
)
WAIT_GUARD = "fleetmig: bounded wait"


@dataclass(frozen=True)
class Declaration:
    codemod: str
    description: str
    # (removed objects, added objects, changed (before, after) pairs) -> the subset it explains
    explains: Callable[[dict[Key, Obj], dict[Key, Obj], dict[Key, tuple[Obj, Obj]]], set[Key]]


def _secret_swaps(removed: dict[Key, Obj], added: dict[Key, Obj], changed: dict[Key, tuple[Obj, Obj]]) -> set[Key]:
    explained: set[Key] = set()
    for key in removed:
        _, kind, namespace, name = key
        swap = ("external-secrets.io", "ExternalSecret", namespace, name)
        if kind == "Secret" and swap in added:
            target = ((added[swap].get("spec") or {}).get("target") or {}).get("name") or name
            if target == name:
                explained |= {key, swap}
    return explained


def _scaled_to_zero(removed: dict[Key, Obj], added: dict[Key, Obj], changed: dict[Key, tuple[Obj, Obj]]) -> set[Key]:
    return {
        key
        for key, obj in added.items()
        if key[1] in ("Deployment", "StatefulSet") and (obj.get("spec") or {}).get("replicas") == 0
    }


def _job_standardised(removed: dict[Key, Obj], added: dict[Key, Obj], changed: dict[Key, tuple[Obj, Obj]]) -> set[Key]:
    return {key for key, (before, after) in changed.items() if key[1] == "Job" and _only_standard(before, after)}


def _only_standard(before: Obj, after: Obj) -> bool:
    def normal(job: Obj) -> Obj:
        job = _copy(job)
        annotations = (job.get("metadata") or {}).get("annotations") or {}
        for key in JOB_STANDARD_ANNOTATIONS:
            annotations.pop(key, None)
        spec = job.get("spec") or {}
        for key in JOB_STANDARD_SPEC:
            spec.pop(key, None)
        pod = (spec.get("template") or {}).get("spec") or {}
        pod.pop("securityContext", None)
        pod.pop("restartPolicy", None)
        (spec.get("template") or {}).pop("metadata", None)
        for container in pod.get("containers") or []:
            container["args"] = [_without_guards(a) for a in container.get("args") or []]
        return job

    return normal(before) == normal(after)


def _without_guards(script: Any) -> Any:
    if not isinstance(script, str):
        return script
    lines = [line for line in script.split("\n") if WAIT_GUARD not in line and "wait_deadline=$((" not in line]
    return "\n".join(lines)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


DECLARATIONS = (
    Declaration("d1-stable-secrets", "Secret X becomes ExternalSecret X producing Secret X", _secret_swaps),
    Declaration("e2-vendored-patches", "a workload toggled off in-tree is rendered with replicas: 0", _scaled_to_zero),
    Declaration(
        "f2-bootstrap-jobs",
        "bootstrap Job standardised (hooks, delete policy, deadline, retries, TTL, bounded waits)",
        _job_standardised,
    ),
)
