"""B4: every generated Application is reached by a RollingSync step, and no step is dead."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fleetmig.edit.yaml import YamlEditor
from fleetmig.engine import Changeset, Codemod
from fleetmig.errors import EditRefused
from fleetmig.fleet import rollingsync
from fleetmig.fleet.applications import PHASE_LABEL, Application, TemplateError, render_applications
from fleetmig.fleet.appsets import GeneratorError, appsets_for, defining_files, param_sets
from fleetmig.fleet.model import Fleet
from fleetmig.gotemplate_engine import GoTemplateEngine

STEPS = ("spec", "strategy", "rollingSync", "steps")


class RollingSyncCoverage(Codemod):
    """Give every rollout phase in use a RollingSync step; drop steps that select nothing anywhere.

    ## What it changes
    Each RollingSync ApplicationSet is expanded for every cluster type (as `fleetmig verify waves`
    does). An Application that no step selects never syncs (RollingSync turns autosync off). Its
    `rollout-phase` value is added to the `In` values of the step that precedes it in the rollout
    order, when that step gates the same hundred-band (`356` joins `["350", "355"]`, after `330`
    and before `440`); otherwise the gap is reported for a human to place. A step that selects no
    Application on any cluster type is removed with its comments (Argo CD skips it anyway; it only
    misleads readers); a comment above it that names its phase goes too, one about the whole list
    stays. `rolloutPhase` values and labels are never renumbered, and no Application
    changes the step it is synced in.

    ## Why
    Waves must progress without stalling on excluded apps and every app must be reached
    (plan 519 §1, Phase B exit criteria; lint L10).

    ## Before
        - matchExpressions: [{key: rollout-phase, operator: In, values: ["099"]}]   # no app has 099
          maxUpdate: 2
        ...
        - matchExpressions:
            - key: rollout-phase
              operator: In
              values: ["350", "355"]

    ## After
        - matchExpressions:
            - key: rollout-phase
              operator: In
              values: ["350", "355", "356"]
    """

    id = "b4-rollingsync-coverage"
    phase = "B"
    title = "Every Application is reached by a RollingSync step; dead steps go"
    requires = ("b1-local-allowlist", "b2-appset-wiring", "b3-strict-templating")

    def apply(self, fleet: Fleet) -> Changeset:
        changeset = self.changeset()
        files = defining_files(fleet)
        engine: GoTemplateEngine | None = None
        apps: dict[str, list[Application]] = {}
        failures: dict[str, list[TemplateError]] = {}
        try:
            for cluster_type in fleet.cluster_types:
                for appset in appsets_for(fleet, cluster_type):
                    if rollingsync.steps(appset.data) is None:
                        continue
                    engine = engine or GoTemplateEngine()
                    rendered, errors = render_applications(appset, param_sets(fleet, appset), engine)
                    apps.setdefault(appset.name, []).extend(rendered)
                    failures.setdefault(appset.name, []).extend(errors)
        except GeneratorError as error:
            changeset.manual(error.path or ".", error.line, f"not checked: {error.message}")
            return changeset
        for name, generated in sorted(apps.items()):
            rel = files.get(name)
            if rel is None:
                continue
            if failures[name]:
                # An Application that does not render may be the one a "dead" step is waiting for.
                first = failures[name][0]
                changeset.manual(
                    rel,
                    None,
                    f"not changed: {len(failures[name])} parameter set(s) of `{name}` fail to render, so its waves "
                    f"cannot be judged (first: {first.descriptor}: {first.error}); see `fleetmig verify waves`",
                )
                continue
            editor = fleet.yaml(rel)
            steps = rollingsync.steps(editor.data())
            if steps is None:
                continue
            try:
                notes = self._cover(editor, rel, name, steps, generated, changeset)
                notes += self._prune(editor, name, generated)
            except EditRefused as refusal:
                changeset.manual(rel, refusal.line, f"not changed: {refusal.message}")
                continue
            if editor.changed:
                changeset.edit(rel, fleet.read_bytes(rel), editor.to_bytes(), "; ".join(notes), editor.line_of(STEPS))
        return changeset

    def _cover(
        self,
        editor: YamlEditor,
        rel: str,
        name: str,
        steps: list[dict[str, Any]],
        apps: list[Application],
        changeset: Changeset,
    ) -> list[str]:
        notes = []
        gaps = sorted({app.phase for app in apps if rollingsync.first_step(steps, app.labels) is None})
        for phase in gaps:
            index = _preceding_step(steps, phase)
            if index is None:
                changeset.manual(
                    rel,
                    editor.line_of(STEPS),
                    f"no RollingSync step of `{name}` selects {PHASE_LABEL} {phase or '(unset)'} and no step of its "
                    "band precedes it: add a step at its place in the rollout order",
                )
                continue
            expression = _in_expression(steps[index])
            assert expression is not None
            where = (*STEPS, index, "matchExpressions", expression, "values")
            editor.append(where, phase)
            steps[index]["matchExpressions"][expression]["values"].append(phase)
            notes.append(f"step {index + 1} of `{name}` also selects {PHASE_LABEL} {phase}")
        return notes

    def _prune(self, editor: YamlEditor, name: str, apps: list[Application]) -> list[str]:
        steps = rollingsync.steps(editor.data()) or []
        dead = [i for i, step in enumerate(steps) if not any(rollingsync.selects(step, a.labels) for a in apps)]
        for index in reversed(dead):
            # A comment naming the dropped phase goes with its step; a note on the whole list stays.
            editor.delete((*STEPS, index), keep_comment=_about_other_phases(_values(steps[index])))
        return [
            f"drop step {i + 1} of `{name}` ({rollingsync.describe(steps[i])}): it selects nothing on any cluster type"
            for i in dead
        ]


def _about_other_phases(values: list[str]) -> Callable[[str], bool]:
    return lambda line: not any(value in line for value in values)


def _values(step: dict[str, Any]) -> list[str]:
    return [str(v) for e in step.get("matchExpressions") or [] for v in e.get("values") or []]


def _in_expression(step: dict[str, Any]) -> int | None:
    """The index of the step's only expression, when it is `rollout-phase In [...]`."""
    expressions = step.get("matchExpressions") or []
    if len(expressions) != 1:
        return None
    expression = expressions[0]
    if expression.get("key") != PHASE_LABEL or expression.get("operator") != "In":
        return None
    return 0


def _preceding_step(steps: list[dict[str, Any]], phase: str) -> int | None:
    """The step right before `phase` in the rollout order, if it gates the same hundred-band."""
    if not phase.isdigit():
        return None
    value = int(phase)
    before = None
    for index, step in enumerate(steps):
        expression = _in_expression(step)
        if expression is None:
            return None
        numbers = [int(v) for v in step["matchExpressions"][expression].get("values") or [] if str(v).isdigit()]
        if not numbers:
            return None
        if max(numbers) < value:
            before = (index, max(numbers))
        elif min(numbers) > value:
            break
        else:
            return None  # the phase sits inside a step's range: not a gap this codemod can place
    if before is None or before[1] // 100 != value // 100:
        return None
    return before[0]
