"""`fleetmig verify waves`: the Applications each cluster type gets, and whether RollingSync reaches them.

The ApplicationSets are expanded as Argo CD's controller does (`fleet.appsets`), and every template
string is rendered by Go's own `text/template` with Argo CD's function set (`gotemplate_engine`), each
string field on its own, `templatePatch` as one document merged over the result. The report lists the
Applications per cluster type and every problem that would stop a wave: template errors (with the
descriptor that caused them), Applications no RollingSync step selects (they never sync), steps that
select nothing, Applications selected by several steps, unsupported operators, and Applications the
policy says the cluster type must not get.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fleetmig.errors import InputError
from fleetmig.fleet import rollingsync
from fleetmig.fleet.applications import PHASE_LABEL, Application, render_applications
from fleetmig.fleet.appsets import AppSet, GeneratorError, appsets_for, defining_files, param_sets
from fleetmig.fleet.components import omitted_components
from fleetmig.fleet.model import Fleet
from fleetmig.gotemplate_engine import GoTemplateEngine

OPERATORS = ("In", "NotIn")


@dataclass(frozen=True)
class Problem:
    kind: str  # template | generator | unmatched | empty-step | multi-step | operator | omitted
    message: str
    path: str | None = None
    line: int | None = None

    @property
    def location(self) -> str:
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line is not None else self.path


@dataclass
class WavesReport:
    cluster_type: str
    applications: list[Application] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def simulate(fleet: Fleet, only: str | None = None, engine: GoTemplateEngine | None = None) -> list[WavesReport]:
    """One report per cluster type (or just `only`). Every cluster type is expanded either way: a
    RollingSync step is dead only when it selects nothing on any of them."""
    cluster_types(fleet, only)  # an unknown `only` is the user's mistake: say so before any work
    engine = engine or GoTemplateEngine()
    reports = {name: WavesReport(name) for name in cluster_types(fleet, None)}
    used: dict[tuple[str, str, int], bool] = {}  # (appset, step, index) -> selects something somewhere
    sources: dict[tuple[str, str, int], str] = {}
    for cluster_type, report in reports.items():
        for appset in appsets_for(fleet, cluster_type):
            try:
                sets = param_sets(fleet, appset)
            except GeneratorError as error:
                report.problems.append(Problem("generator", error.message, error.path, error.line))
                continue
            apps, errors = render_applications(appset, sets, engine)
            report.problems += [
                Problem("template", f"ApplicationSet `{e.appset}`, {e.where}: {e.error}", e.descriptor) for e in errors
            ]
            report.applications += apps
            all_steps = rollingsync.steps(appset.data)
            if all_steps is None:
                continue
            report.problems += _step_problems(appset, all_steps, apps)
            for index, step in enumerate(all_steps):
                key = (appset.name, rollingsync.describe(step), index)
                sources[key] = appset.source
                used[key] = used.get(key, False) or any(rollingsync.selects(step, app.labels) for app in apps)
        report.problems += _omitted(fleet, cluster_type, report.applications)
    defined_in = defining_files(fleet)
    for (name, described, index), selected in used.items():
        if not selected:
            source = defined_in.get(name, sources[(name, described, index)])
            for report in reports.values():
                if any(app.appset == name for app in report.applications):
                    report.problems.append(
                        Problem(
                            "empty-step",
                            f"ApplicationSet `{name}` step {index + 1} ({described}) selects no Application on any "
                            "cluster type",
                            source,
                        )
                    )
    return [report for name, report in reports.items() if only is None or name == only]


def _step_problems(appset: AppSet, all_steps: list[dict[str, Any]], apps: list[Application]) -> list[Problem]:
    problems: list[Problem] = []
    for index, step in enumerate(all_steps):
        for expression in step.get("matchExpressions") or []:
            if expression.get("operator") not in rollingsync.OPERATORS:
                problems.append(
                    Problem(
                        "operator",
                        f"ApplicationSet `{appset.name}` step {index + 1}: operator `{expression.get('operator')}` "
                        "is not In or NotIn; Argo CD treats the expression as false",
                        appset.source,
                    )
                )
    for app in apps:
        matching = [index for index, step in enumerate(all_steps) if rollingsync.selects(step, app.labels)]
        where = app.sources[-1].partition("#")[0] if app.sources else appset.source
        if not matching:
            problems.append(
                Problem(
                    "unmatched",
                    f"`{app.name}` ({PHASE_LABEL} {app.phase or 'unset'}) is selected by no RollingSync step of "
                    f"`{appset.name}`: it never syncs",
                    where,
                )
            )
        elif len(matching) > 1:
            problems.append(
                Problem(
                    "multi-step",
                    f"`{app.name}` is selected by steps {', '.join(str(i + 1) for i in matching)} of `{appset.name}`; "
                    "Argo CD uses the first",
                    where,
                )
            )
    return problems


# --- policy ------------------------------------------------------------------------------------


def _omitted(fleet: Fleet, cluster_type: str, apps: list[Application]) -> list[Problem]:
    unwanted = omitted_components(fleet.policy, cluster_type)
    return [
        Problem("omitted", f"`{app.name}` must not exist on {cluster_type}: {unwanted[app.component]}", app.sources[-1])
        for app in apps
        if app.component in unwanted
    ]


def effective_ignores(app: Application, system: list[dict[str, Any]]) -> list[str]:
    """Every field Argo CD ignores for the Application, from its own rules and argocd-cm alike."""
    found = set()
    for rule in [*app.ignore_differences, *system]:
        target = (
            f"{rule.get('group') or ''}/{rule.get('kind')} {rule.get('namespace') or '*'}/{rule.get('name') or '*'}"
        )
        found |= {f"{target} pointer {p}" for p in rule.get("jsonPointers") or []}
        found |= {f"{target} jq {q}" for q in rule.get("jqPathExpressions") or []}
        found |= {f"{target} manager {m}" for m in rule.get("managedFieldsManagers") or []}
    return sorted(found)


def cluster_types(fleet: Fleet, only: str | None) -> list[str]:
    if only is not None:
        if only not in fleet.cluster_types:
            raise InputError(f"unknown cluster type `{only}`; the fleet has {', '.join(fleet.cluster_types)}")
        return [only]
    return list(fleet.cluster_types)
