"""The bootstrap-runner library chart, rendered with real Helm through a small consumer chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetmig.fleet.model import Fleet
from fleetmig.fleet.render import RenderFailed, render_chart
from fleetmig.resources import shipped_dir

from .fleets import write_fleet
from .helm_render import helm

CONSUMER = "sources/charts/apps/demo"
JOB = """\
{{- define "demo.migrate.container" -}}
name: migrate
image: alpine:3.20
command: ["/bin/sh", "-ec"]
args:
  - |
    echo migrate {{ .Release.Name }}
{{- end }}
{{- include "bootstrap-runner.job" (dict "root" . "name" "demo-migrate" "hook" "PreSync" "wave" "-1"
    "deletePolicy" "HookSucceeded" "labels" "app: demo"
    "waitFor" (list (dict "tcp" "postgres:5432") (dict "http" "http://api/healthz" "timeoutSeconds" 60)
                    (dict "dns" "vault") (dict "resource" "deployment/api"))
    "container" (include "demo.migrate.container" .)) }}
"""


@pytest.fixture
def fleet(tmp_path: Path) -> Fleet:
    helm()
    library = shipped_dir("templates") / "phase-f" / "bootstrap-runner"
    files: dict[str, str | bytes] = {
        f"sources/charts/foundation/bootstrap-runner/{p.relative_to(library).as_posix()}": p.read_bytes()
        for p in library.rglob("*")
        if p.is_file()
    }
    files[f"{CONSUMER}/Chart.yaml"] = (
        "apiVersion: v2\nname: demo\nversion: 0.1.0\ndependencies:\n  - name: bootstrap-runner\n"
        "    version: 0.1.0\n    repository: file://../../foundation/bootstrap-runner\n"
    )
    files[f"{CONSUMER}/templates/job.yaml"] = JOB
    return Fleet.open(write_fleet(tmp_path, files))


def render(fleet: Fleet, values: dict[str, Any]) -> dict[str, Any]:
    (text,) = render_chart(fleet, CONSUMER, values, "demo", "ameide-dev").values()
    job: dict[str, Any] = yaml.safe_load(text)
    return job


def test_job_is_a_bounded_recreatable_hook_with_bounded_waits(fleet: Fleet, snapshot: Any) -> None:
    toolbox = "ghcr.io/ameideio/mirror/busybox@sha256:" + "1" * 64
    (text,) = render_chart(
        fleet, CONSUMER, {"bootstrap-runner": {"toolbox": {"image": toolbox}}}, "demo", "ns"
    ).values()
    snapshot.snapshot_dir = Path(__file__).parent / "snapshots" / "bootstrap_runner"
    snapshot.assert_match(text, "job.yaml")
    job = yaml.safe_load(text)
    assert job["metadata"]["annotations"]["argocd.argoproj.io/hook-delete-policy"] == "BeforeHookCreation,HookSucceeded"
    assert job["spec"]["activeDeadlineSeconds"] == 900 and job["spec"]["ttlSecondsAfterFinished"] == 3600
    waits = [c["args"][0] for c in job["spec"]["template"]["spec"]["initContainers"]]
    assert waits[0].startswith("timeout 300 sh -c 'until nc -z postgres 5432")
    assert waits[1].startswith("timeout 60 ")
    assert "--timeout=300s" in waits[3]


def test_defaults_come_from_the_library_values_and_bad_ones_fail(fleet: Fleet) -> None:
    toolbox = {"image": "busybox@sha256:" + "2" * 64}
    job = render(fleet, {"bootstrap-runner": {"toolbox": toolbox, "activeDeadlineSeconds": 120, "backoffLimit": 0}})
    assert job["spec"]["activeDeadlineSeconds"] == 120 and job["spec"]["backoffLimit"] == 0
    with pytest.raises(RenderFailed, match="activeDeadlineSeconds"):
        render(fleet, {"bootstrap-runner": {"toolbox": toolbox, "activeDeadlineSeconds": -1}})
    with pytest.raises(RenderFailed, match=r"toolbox\.image"):
        render(fleet, {})
