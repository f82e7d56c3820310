"""Issue 9's acceptance on the demo fleet with real Helm: after `apply phase-f` every bootstrap Job is
bounded (deadline, retries), cleaned up (TTL), re-creatable (BeforeHookCreation), waits for a bounded
time, no smoke test relies on `helm.sh/hook: test`, and a second apply changes nothing."""

from __future__ import annotations

import re
import shutil
from typing import Any

import pytest

from fleetmig.fleet.demo import write_demo
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.render import objects_by_name

from .helm_render import helm
from .test_cli import fleetmig


def jobs(fleet: Fleet) -> dict[tuple[str, str], Any]:
    out = {}
    for release in fleet.releases:
        for key, obj in objects_by_name(fleet, release).items():
            if key[0] == "Job":
                out[(release.label, key[1])] = obj
    return out


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[tuple[str, str], Any], dict[tuple[str, str], Any]]:
    helm()
    before_dir = tmp_path_factory.mktemp("phase-f") / "before"
    write_demo(before_dir)
    after_dir = before_dir.parent / "after"
    shutil.copytree(before_dir, after_dir, symlinks=True)
    applied = fleetmig("apply", "phase-f", "--repo", after_dir)
    assert applied.returncode == 0, applied.stderr
    assert fleetmig("apply", "phase-f", "--repo", after_dir, "--check").returncode == 0
    return jobs(Fleet.open(before_dir)), jobs(Fleet.open(after_dir))


def test_every_bootstrap_job_is_bounded_cleaned_up_and_recreatable(
    migrated: tuple[dict[tuple[str, str], Any], dict[tuple[str, str], Any]],
) -> None:
    before, after = migrated
    assert after.keys() == before.keys() and len(after) >= 6
    for key, job in after.items():
        annotations = job["metadata"]["annotations"]
        assert "BeforeHookCreation" in annotations["argocd.argoproj.io/hook-delete-policy"], key
        assert annotations["argocd.argoproj.io/hook"] in ("PreSync", "Sync", "PostSync"), key
        assert "helm.sh/hook" not in annotations, key
        spec = job["spec"]
        assert spec["activeDeadlineSeconds"] > 0 and spec["backoffLimit"] >= 0, key
        assert spec["ttlSecondsAfterFinished"] >= 0, key
        for container in spec["template"]["spec"]["containers"]:
            script = "\n".join(container.get("args") or [])
            for match in re.finditer(r"^\s*until .+; do\s*$", script, re.MULTILINE):
                following = script[match.end() :].lstrip("\n").split("\n", 1)[0]
                assert "wait_deadline" in following, f"{key}: unbounded wait {match.group().strip()}"


def test_jobs_keep_their_containers_and_service_accounts(
    migrated: tuple[dict[tuple[str, str], Any], dict[tuple[str, str], Any]],
) -> None:
    before, after = migrated
    for key, job in before.items():
        old, new = job["spec"]["template"]["spec"], after[key]["spec"]["template"]["spec"]
        assert old.get("serviceAccountName") == new.get("serviceAccountName"), key
        for was, now in zip(old["containers"], new["containers"], strict=True):
            assert {k: v for k, v in was.items() if k != "args"} == {k: v for k, v in now.items() if k != "args"}
            removed = set("\n".join(was.get("args") or []).splitlines()) - set(
                "\n".join(now.get("args") or []).splitlines()
            )
            assert removed == set(), f"{key}: script lines lost: {removed}"
