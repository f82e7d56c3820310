"""`fleetmig verify`: render equivalence against a base revision, waves, and schemas, in one report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from fleetmig.errors import InputError
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.render import RenderFailed, manifests, render_release
from fleetmig.fleet.secrets import external_secret_problems
from fleetmig.verify import renders, waves
from fleetmig.verify.waves import Problem


@dataclass
class VerifyReport:
    base: str
    render: renders.RenderReport | None = None
    waves: list[waves.WavesReport] | None = None
    schema_problems: list[str] = field(default_factory=list)
    schemas_checked: int = 0
    known_wave_problems: set[tuple[str, str, str]] = field(default_factory=set)  # already at the base

    @property
    def ok(self) -> bool:
        return (
            (self.render is None or self.render.ok)
            and not any(not self.known(report.cluster_type, p) for report in self.waves or [] for p in report.problems)
            and not self.schema_problems
        )

    def known(self, cluster_type: str, problem: Problem) -> bool:
        return (cluster_type, problem.location, problem.message) in self.known_wave_problems


def verify(
    root: Path,
    base: str,
    *,
    render: bool = True,
    check_waves: bool = True,
    schemas: bool = True,
    crds: Path | None = None,
    new_wave_problems_only: bool = False,
) -> VerifyReport:
    """`new_wave_problems_only`: wave problems the base already has do not fail the report (a phase
    pull request is judged by what it changes; a later phase fixes the rest)."""
    head = Fleet.open(root)
    report = VerifyReport(base)
    if render or (check_waves and new_wave_problems_only):
        with renders.fleet_at(root, base) as base_fleet:
            if render:
                report.render = renders.compare(base_fleet, head)
            if check_waves and new_wave_problems_only:
                report.known_wave_problems = {
                    (w.cluster_type, p.location, p.message) for w in waves.simulate(base_fleet) for p in w.problems
                }
    if check_waves:
        report.waves = waves.simulate(head)
    if schemas:
        validators = crd_validators(crds) if crds is not None else {}
        report.schemas_checked, report.schema_problems = _schemas(head, validators)
    return report


def crd_validators(directory: Path) -> dict[tuple[str, str], jsonschema.protocols.Validator]:
    """(apiVersion, kind) → a validator for every version of every CRD in `directory`."""
    if not directory.is_dir():
        raise InputError("--crds must be a directory of CustomResourceDefinition files", directory)
    out: dict[tuple[str, str], Any] = {}
    for path in sorted(directory.glob("*.y*ml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for version in spec.get("versions") or []:
                schema = (version.get("schema") or {}).get("openAPIV3Schema")
                if schema:
                    key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                    out.setdefault(key, jsonschema.Draft202012Validator(schema))
    return out


def _schemas(fleet: Fleet, validators: dict[tuple[str, str], Any]) -> tuple[int, list[str]]:
    """Rendered objects and the ApplicationSets against their CRDs (ExternalSecret always)."""
    checked = 0
    problems: list[str] = []
    objects: list[tuple[str, Any]] = []
    for release in fleet.releases:
        if not release.component.chart_path:
            continue
        try:
            objects += [(release.label, o) for o in manifests(render_release(fleet, release))]
        except RenderFailed as error:
            problems.append(f"{release.label}: does not render (a values.schema.json may reject its values): {error}")
    for rel in fleet.files.glob(f"{fleet.policy.layout.application_sets.rstrip('/')}/*"):
        if rel.endswith((".yaml", ".yml")) and fleet.exists(rel):
            objects += [(rel, d) for d in yaml.safe_load_all(fleet.read_bytes(rel)) if isinstance(d, dict)]
    for where, obj in objects:
        if not isinstance(obj, dict):
            continue
        name = f"{obj.get('kind')} {(obj.get('metadata') or {}).get('name')}"
        if obj.get("kind") == "ExternalSecret" and obj.get("apiVersion") == "external-secrets.io/v1":
            checked += 1
            problems += [f"{where}: {name}: {p}" for p in external_secret_problems(obj)]
            continue
        validator = validators.get((str(obj.get("apiVersion")), str(obj.get("kind"))))
        if validator is not None:
            checked += 1
            for invalid in validator.iter_errors(obj):
                at = "/".join(str(p) for p in invalid.absolute_path) or "(root)"
                problems.append(f"{where}: {name}: {at}: {invalid.message}")
    return checked, problems
