"""Issue 7's acceptance on the demo fleet with real Helm: Helm-random Secrets become ExternalSecrets,
renders are deterministic, the only differences are the declared swaps, every ExternalSecret
validates against ESO's own CRD, and no secret value reaches a diff, a report or a log."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from fleetmig.fleet.demo import write_demo
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.render import manifests
from fleetmig.fleet.secrets import RANDOM_FUNCTIONS

from .conftest import ROOT
from .helm_render import helm, render
from .test_cli import fleetmig

CRD = ROOT.parent / "shared/reference/crds/eso-v2.9.0_external-secrets.io_externalsecrets.yaml"
PLACEHOLDER = "CHANGEME"  # a committed placeholder password in the demo's _shared values
AFFECTED = ("sources/charts/platform/backstage", "sources/charts/data/postgres-clusters")


def objects(fleet: Fleet, chart: str) -> dict[str, dict[tuple[str, str], Any]]:
    out = {}
    for release in fleet.releases:
        if release.component.chart_path == chart:
            docs = manifests(render(fleet, release))
            out[release.label] = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    return out


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    helm()
    before = tmp_path_factory.mktemp("phase-d") / "before"
    write_demo(before)
    after = before.parent / "after"
    shutil.copytree(before, after, symlinks=True)
    dry = fleetmig("apply", "phase-d", "--repo", after, "--dry-run")
    applied = fleetmig("apply", "phase-d", "--repo", after)
    assert applied.returncode == 0, applied.stderr
    return before, after, dry.stdout + dry.stderr + applied.stdout + applied.stderr


def test_no_owned_template_uses_helm_randomness_for_a_secret(migrated: tuple[Path, Path, str]) -> None:
    _, after, _ = migrated
    pattern = re.compile(r"\b(" + "|".join(RANDOM_FUNCTIONS) + r")\b")
    owned = [p for p in (after / "sources/charts").rglob("templates/*") if "third_party" not in p.parts]
    assert owned
    assert [str(p) for p in owned if p.is_file() and pattern.search(p.read_text())] == []
    assert fleetmig("apply", "phase-d", "--repo", after, "--check").returncode == 0


def test_renders_are_deterministic_and_only_the_declared_swaps_differ(migrated: tuple[Path, Path, str]) -> None:
    before_dir, after_dir, _ = migrated
    before_fleet, after_fleet = Fleet.open(before_dir), Fleet.open(after_dir)
    schema = next(
        v["schema"]["openAPIV3Schema"] for v in yaml.safe_load(CRD.read_text())["spec"]["versions"] if v["name"] == "v1"
    )
    validated = 0
    for chart in AFFECTED:
        old, new, again = objects(before_fleet, chart), objects(after_fleet, chart), objects(after_fleet, chart)
        assert new == again, f"{chart} renders differently twice"
        for label, old_objects in old.items():
            secrets = {key for key in old_objects if key[0] == "Secret"}
            assert secrets, label
            expected = (set(old_objects) - secrets) | {("ExternalSecret", name) for _, name in secrets}
            assert set(new[label]) == expected, label
            for key, obj in new[label].items():
                if key[0] == "ExternalSecret":
                    jsonschema.validate(obj, schema)
                    produced = obj["spec"]["target"]
                    secret = old_objects[("Secret", key[1])]
                    assert produced["name"] == key[1] and produced["template"]["type"] == secret["type"]
                    keys = {d["secretKey"] for d in obj["spec"]["data"]} | set(produced["template"].get("data", {}))
                    assert keys == set(secret.get("data") or secret.get("stringData") or {}), label
                    validated += 1
                else:
                    assert obj == old_objects[key], f"{label}: {key}"
    assert validated >= 12


def test_the_payload_ignore_is_gone_and_seeds_name_keys_never_values(migrated: tuple[Path, Path, str]) -> None:
    _, after, output = migrated
    descriptor = (after / "environments/_shared/components/platform/developer/backstage/component.yaml").read_text()
    assert "ignoreDifferences" not in descriptor
    seeds = fleetmig("seeds", "--repo", after, "--format", "json")
    assert seeds.returncode == 0, seeds.stderr
    payload = json.loads(seeds.stdout)
    keys = {(s["env"], s["key"], s["property"]) for s in payload["seeds"]}
    assert ("dev", "platform-backstage-platform-backstage-session", "BACKEND_SECRET") in keys
    assert ("production", "platform-postgres-clusters-temporal-db-env", "password") in keys
    assert payload["unrendered"] == []
    for text in (output, seeds.stdout, fleetmig("plan", "--repo", after).stdout):
        assert PLACEHOLDER not in text
