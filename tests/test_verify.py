"""Issue 11's acceptance: after `apply all` on the demo fleet, `verify --base <pre-migration commit>`
passes with real Helm, every difference declared; an undeclared template change fails and is named by
object and field; `apply --verify` undoes an apply that does not verify."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from fleetmig.fleet.demo import write_demo

from .conftest import ROOT
from .helm_render import helm
from .test_cli import fleetmig

CRDS = ROOT.parent / "shared/reference/crds"
SERVICE = "sources/charts/apps/www-ameide/templates/service.yaml"


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    helm()
    root = tmp_path_factory.mktemp("verify") / "fleet"
    write_demo(root)
    base = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    applied = fleetmig("apply", "all", "--repo", root)
    assert applied.returncode == 0, applied.stderr
    return root, base


def verify(root: Path, base: str, *extra: str) -> tuple[int, dict[str, Any]]:
    result = fleetmig("verify", "--repo", root, "--base", base, "--crds", CRDS, "--format", "json", *extra)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_apply_all_verifies_against_the_pre_migration_commit(migrated: tuple[Path, str]) -> None:
    root, base = migrated
    code, report = verify(root, base)
    assert code == 0, report
    render = report["render"]
    assert render["errors"] == [] and render["rendered"] >= 30
    declared = {d["declaredBy"].split(":")[0] for d in render["differences"]}
    assert declared == {"d1-stable-secrets", "e2-vendored-patches", "f2-bootstrap-jobs"}
    swaps = [d for d in render["differences"] if d["object"].startswith("external-secrets.io/ExternalSecret")]
    assert len(swaps) == 15  # 5 Secrets (backstage session, 4 CNPG users) x 3 environments
    assert any("Helm randomness" in item for item in render["random"])
    assert report["schemas"]["checked"] >= 12 and report["schemas"]["problems"] == []
    assert all(not w["problems"] for w in report["waves"])
    markdown = fleetmig("verify", "--repo", root, "--base", base, "--no-schemas", "--format", "markdown").stdout
    assert "## fleetmig verify passes" in markdown and "| release | object | change | field | declared by |" in markdown


def test_an_undeclared_template_change_fails_naming_object_and_field(
    migrated: tuple[Path, str], tmp_path: Path
) -> None:
    root, base = migrated
    copy = tmp_path / "fleet"
    shutil.copytree(root, copy, symlinks=True)
    service = copy / SERVICE
    service.write_text(service.read_text().replace("port: {{ .Values.service.port }}", "port: 8080"), encoding="utf-8")
    code, report = verify(copy, base, "--no-waves", "--no-schemas")
    assert code == 1
    undeclared = [d for d in report["render"]["differences"] if not d["declaredBy"]]
    assert {d["object"].split(" ")[0] for d in undeclared} == {"Service"}
    assert {d["field"] for d in undeclared} == {"spec.ports[0].port"}
    assert all(d["release"].startswith("apps-www-ameide@") for d in undeclared)


def test_apply_verify_undoes_an_apply_that_does_not_verify(tmp_path: Path) -> None:
    helm()
    root = tmp_path / "fleet"
    write_demo(root)
    service = root / SERVICE
    service.write_text(service.read_text().replace("port: {{ .Values.service.port }}", "port: 8080"), encoding="utf-8")
    edited = service.read_bytes()
    before = {p: p.read_bytes() for p in (root / "sources/values").rglob("*.yaml")}
    result = fleetmig("apply", "phase-a", "--repo", root, "--allow-dirty", "--verify")
    assert result.returncode == 1
    assert "this apply was undone" in result.stderr and "undeclared" in result.stderr
    assert service.read_bytes() == edited  # the apply's rewrite of it is undone, the user's edit stays
    assert {p: p.read_bytes() for p in before} == before
    assert not list((root / "sources/charts").rglob("values.schema.json"))
