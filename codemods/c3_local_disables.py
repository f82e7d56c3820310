"""C3: components switched off on local by emptying their manifests become explicit decisions."""

from __future__ import annotations

from typing import Any

from fleetmig.edit.gotemplate import TemplateSyntaxError, wrapping_if
from fleetmig.edit.yaml import YamlEditor
from fleetmig.engine import Changeset, Codemod
from fleetmig.errors import EditRefused, InputError
from fleetmig.fleet.charts import Chart, template_files
from fleetmig.fleet.components import LOCAL_CLUSTER_TYPE, Release, omitted_components
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.render import RenderFailed, render_release, rendered_ahead, renders_anything, surely_renders
from fleetmig.fleet.values import coalesce

OFF_COMMENT = "Off on {env}: {why} (fleetmig c3-local-disables).{more}"
REPLACES = " This replaces values that emptied the manifests."


class LocalDisables(Codemod):
    """Replace "render nothing on local so Argo CD prunes it" with `enabled: false` or omission.

    ## What it changes
    Every release local generates is rendered with real Helm (its layered values, as Argo CD would)
    and compared with the same component on the other environments. A component that renders
    objects elsewhere but nothing on local — because the local values empty its lists or maps, or
    because its chart tests the environment name — is disabled by anti-pattern. So is every
    component the policy lists in `clusterTypes.local.off`. For each, the decision is reported:

    - unsupported on local (`clusterTypes.local.omit`, a false capability gate): it must not be
      generated at all; `b1-local-allowlist` removes it from the local component set;
    - otherwise it stays visible but off: the local values layer (`sources/values/env/<env>/<domain>/
      <name>.yaml`, created when missing) gets `enabled: false`, and the keys that only emptied
      what lower layers set are removed, their comments carried onto `enabled`.

    The chart must have the `enabled` switch (`c1-enabled-gate`); the change is kept only when
    local still renders nothing with it. Templates that still test the environment name are
    reported: with `enabled: false` the test can go, which fleetmig leaves to a human.

    ## Why
    Disabling by empty desired state makes Argo CD prune and hides the decision in data
    (plan 519 §1, §2 goal 3, Phase C.3); an explicit switch is reviewable and wave-safe.

    ## Before
        # sources/values/env/local/apps/apps-keda-scaledobjects.yaml
        # KEDA is not installed on k3d. Empty the manifests so the Application renders nothing
        # and Argo prunes whatever was there.
        scaledObjects: []
        triggerAuthentications: []

    ## After
        # KEDA is not installed on k3d. Empty the manifests so the Application renders nothing
        # and Argo prunes whatever was there.
        # Off on local: clusterTypes.local.off lists it (fleetmig c3-local-disables). This replaces
        #   values that emptied the manifests.   (one line in the file)
        enabled: false
    """

    id = "c3-local-disables"
    phase = "C"
    title = "Local disables are explicit: enabled: false, or not generated at all"
    requires = ("c1-enabled-gate",)

    def apply(self, fleet: Fleet) -> Changeset:
        return self._decide(fleet, guard=False)

    def guard(self, fleet: Fleet) -> Changeset:
        # The check reports a switch to make and a vendored chart without one, nothing else: a
        # component not generated on local, one already off on local, and one whose chart surely
        # renders something need no render.
        return self._decide(fleet, guard=True)

    def _decide(self, fleet: Fleet, *, guard: bool) -> Changeset:
        changeset = self.changeset()
        if LOCAL_CLUSTER_TYPE not in fleet.cluster_types:
            return changeset
        vendored = fleet.policy.layout.third_party.rstrip("/") + "/"
        omitted = omitted_components(fleet.policy, LOCAL_CLUSTER_TYPE)
        rules = fleet.policy.cluster_types.get(LOCAL_CLUSTER_TYPE)
        off = set(rules.off) if rules else set()
        local = [
            release
            for release in fleet.releases
            if release.cluster_type == LOCAL_CLUSTER_TYPE and release.env is not None and release.component.chart_path
        ]
        if guard:
            local = [r for r in local if r.component.name not in omitted and _may_violate(fleet, r, off, vendored)]
        rendered = rendered_ahead(fleet, [release for release in local if release.component.name not in off])
        for release in local:
            name = release.component.name
            chart, env = release.component.chart_path, release.env
            assert chart is not None and env is not None  # `local` holds only such releases
            if name not in off:
                _, outcome = next(rendered)
                try:
                    if isinstance(outcome, RenderFailed):
                        raise outcome
                    # The other environments are rendered only when local renders nothing.
                    if renders_anything(outcome) or not self._renders_elsewhere(fleet, release):
                        continue
                except RenderFailed as error:
                    changeset.manual(release.component.path, None, f"`{name}` does not render with Helm: {error}")
                    continue
            if name in omitted:
                changeset.manual(
                    release.component.path,
                    None,
                    f"`{name}` renders nothing on {release.env}; decision: not generated on local "
                    f"({omitted[name]}); `b1-local-allowlist` removes its descriptor",
                )
                continue
            if chart.startswith(vendored):
                changeset.manual(
                    release.component.path,
                    None,
                    f"`{name}` is off on {release.env} but deploys a vendored chart without an `enabled` switch; "
                    "wrap it (phase E) first",
                )
                continue
            why = "clusterTypes.local.off lists it" if name in off else "it rendered nothing here"
            self._switch_off(fleet, release, why, changeset)
            if not guard:
                self._report_environment_tests(fleet, chart, env, changeset)
        return changeset

    def _renders_elsewhere(self, fleet: Fleet, release: Release) -> bool:
        others = [r for r in fleet.releases_named(release.component.name) if r.env != release.env]
        return any(renders_anything(render_release(fleet, other)) for other in others)

    def _switch_off(self, fleet: Fleet, release: Release, why: str, changeset: Changeset) -> None:
        rel = _local_layer(fleet, release)
        before = fleet.read_bytes(rel) if fleet.exists(rel) else None
        editor = YamlEditor(before or b"", rel)
        data = editor.data() or {}
        if data.get("enabled") is False:
            return
        defaults = f"{release.component.chart_path}/values.yaml"
        layers = [defaults, *(f for f in release.value_files if f != rel)]
        lower = coalesce([fleet.values(f) for f in layers if fleet.exists(f)])
        emptied = [k for k, v in data.items() if _is_empty(v) and not _is_empty(lower.get(k))]
        carried = [line for key in emptied for line in _head_comment(editor, key)]
        comment = OFF_COMMENT.format(env=release.env, why=why, more=REPLACES if emptied else "")
        try:
            if "enabled" in data:
                editor.set(("enabled",), False)
            else:
                first = next(iter(data), None)
                editor.insert((), "enabled", False, before=first, comment="\n".join([*carried, comment]))
            for key in emptied:
                editor.delete((key,))
        except EditRefused as refusal:
            changeset.manual(rel, refusal.line, f"not changed: {refusal.message}")
            return
        after = editor.to_bytes()
        check = fleet.with_contents({rel: after})
        if renders_anything(render_release(check, release)):
            name = release.component.name
            changeset.manual(rel, None, f"`{name}` still renders objects with enabled: false; check the chart's gates")
            return
        dropped = f"; drop {', '.join(f'`{k}`' for k in emptied)} that only emptied the manifests" if emptied else ""
        reason = f"`{release.component.name}` stays visible on {release.env} but off ({why}){dropped}"
        if before is None:
            changeset.create(rel, after, reason)
        else:
            changeset.edit(rel, before, after, reason, 1)

    def _report_environment_tests(self, fleet: Fleet, chart: str, env: str, changeset: Changeset) -> None:
        for rel in template_files(fleet, Chart(chart, vendored=False)):
            text = fleet.read_bytes(rel).decode("utf-8", errors="replace")
            try:
                inner = _inner_gate(text)
            except TemplateSyntaxError:
                continue
            if inner is not None and ".Values.environment" in inner and env in inner:
                changeset.manual(
                    rel,
                    1,
                    f"the template still tests the environment name (`if {inner}`); with `enabled: false` on {env} "
                    "that test can go",
                )


def _local_layer(fleet: Fleet, release: Release) -> str:
    assert release.env is not None  # c3 reads only releases of an environment
    return fleet.policy.layout.env_values_for(release.env, release.component.domain, release.component.name)


def _may_violate(fleet: Fleet, release: Release, off: set[str], vendored: str) -> bool:
    """Whether the release can give a violation: it is off by policy, or its chart is vendored, or
    it is not off on local already and its chart may render nothing there."""
    if release.component.name in off or str(release.component.chart_path).startswith(vendored):
        return True
    return not _already_off(fleet, release) and not surely_renders(fleet, release)


def _already_off(fleet: Fleet, release: Release) -> bool:
    """Whether the local values layer says `enabled: false`, as `_switch_off` reads it."""
    rel = _local_layer(fleet, release)
    if not fleet.exists(rel) or b"enabled" not in fleet.read_bytes(rel):
        return False
    try:
        data = fleet.yaml(rel).data()
    except InputError:
        return False  # rendered and reported as `apply` does
    return isinstance(data, dict) and data.get("enabled") is False


def _inner_gate(text: str) -> str | None:
    """The condition that wraps the template, looking inside an `enabled` gate."""
    gate = wrapping_if(text)
    if gate is not None and gate.condition == ".Values.enabled":
        gate = wrapping_if(text[gate.if_span[1] : gate.end_span[0]])
    return gate.condition if gate is not None else None


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, (list, dict, str)) and not value)


def _head_comment(editor: YamlEditor, key: str) -> list[str]:
    for entry in editor.entries():
        if entry.key == key:
            lines = [line.strip() for line in editor.lines[entry.head_start : entry.key_line]]
            return [line[1:].removeprefix(" ") for line in lines if line.startswith("#")]
    return []
