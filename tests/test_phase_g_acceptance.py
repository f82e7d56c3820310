"""Issue 10's acceptance on the demo fleet: after `apply phase-g` the repeated generic rule lives once in
argocd-cm, component ignores are only scoped ones, and every generated Application ignores exactly the
same fields as before for the kinds it renders (`verify waves` computes the effective rules, real Helm
the kinds)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetmig.fleet.demo import write_demo
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.render import objects_by_name

from .helm_render import helm
from .test_cli import fleetmig

MUTATING = "resource.customizations.ignoreDifferences.admissionregistration.k8s.io_MutatingWebhookConfiguration"


def effective(root: Path) -> dict[tuple[str, str], set[str]]:
    """(cluster type, Application) → its effective ignores, limited to the kinds its chart renders."""
    result = fleetmig("verify", "waves", "--repo", root, "--format", "json")
    report = json.loads(result.stdout)
    fleet = Fleet.open(root)
    kinds: dict[str, set[str]] = {}
    for release in fleet.releases:
        objects = objects_by_name(fleet, release).values()
        kinds[release.label] = {f"{o['apiVersion'].rpartition('/')[0]}/{o['kind']}" for o in objects}
    out = {}
    for entry in report["clusterTypes"]:
        for app in entry["applications"]:
            component = app["component"]
            where = entry["clusterType"] if app["name"].startswith("cluster-") else app["name"][: -len(component) - 1]
            rendered = kinds[f"{component}@{where}"]
            out[(entry["clusterType"], app["name"])] = {
                i for i in app["ignoreDifferences"] if i.split(" ")[0] in rendered
            }
    return out


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    helm()
    before = tmp_path_factory.mktemp("phase-g") / "before"
    write_demo(before)
    after = before.parent / "after"
    shutil.copytree(before, after, symlinks=True)
    applied = fleetmig("apply", "phase-g", "--repo", after)
    assert applied.returncode == 0, applied.stderr
    assert fleetmig("apply", "phase-g", "--repo", after, "--check").returncode == 0
    return before, after


def test_the_generic_rule_lives_once_in_argocd_cm_and_components_keep_scoped_ones(migrated: tuple[Path, Path]) -> None:
    _, after = migrated
    cm = yaml.safe_load((after / "sources/values/common/argocd.yaml").read_text())["configs"]["cm"]
    assert yaml.safe_load(cm[MUTATING]) == {"jqPathExpressions": [".webhooks[]?.clientConfig.caBundle"]}
    for descriptor in (after / "environments").rglob("component.yaml"):
        for rule in (yaml.safe_load(descriptor.read_text()) or {}).get("ignoreDifferences") or []:
            generic = not rule.get("name") and rule.get("kind") == "MutatingWebhookConfiguration"
            assert not generic, descriptor


def test_every_application_ignores_the_same_fields_as_before(migrated: tuple[Path, Path]) -> None:
    before, after = migrated
    was, now = effective(before), effective(after)
    assert was.keys() == now.keys() and len(was) >= 30
    assert any(was.values())
    for app, rules in was.items():
        assert now[app] == rules, app


def test_effective_rules_include_argocd_cm(migrated: tuple[Path, Path]) -> None:
    _, after = migrated
    report: Any = json.loads(fleetmig("verify", "waves", "--repo", after, "--format", "json").stdout)
    operator = next(
        a for c in report["clusterTypes"] for a in c["applications"] if a["name"] == "cluster-agent-operator"
    )
    assert any("MutatingWebhookConfiguration" in rule for rule in operator["ignoreDifferences"])
