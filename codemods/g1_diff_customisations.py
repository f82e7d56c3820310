"""G1: generic ignoreDifferences move to argocd-cm; component ones stay, scoped and explained."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import yaml

from fleetmig.edit.yaml import YamlEditor
from fleetmig.engine import Changeset, Codemod
from fleetmig.errors import EditRefused
from fleetmig.fleet.applications import SYSTEM_IGNORES, system_ignores
from fleetmig.fleet.components import Component
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.render import RenderFailed, objects_of_kinds, rendered_ahead

CM = ("configs", "cm")
RESPECT = "RespectIgnoreDifferences=true"
SCOPE_KEYS = ("name", "namespace", "managedFieldsManagers")

RuleKey = tuple[str, str, tuple[str, ...], tuple[str, ...]]  # group, kind, jsonPointers, jqPathExpressions


@dataclass
class _Occurrence:
    component: Component
    index: int
    entry: dict[str, Any]


@dataclass
class _Rule:
    key: RuleKey
    occurrences: list[_Occurrence] = field(default_factory=list)

    @property
    def components(self) -> set[str]:
        return {o.component.name for o in self.occurrences}


def rule_key(entry: dict[str, Any]) -> RuleKey:
    return (
        str(entry.get("group") or ""),
        str(entry.get("kind", "")),
        tuple(sorted(str(p) for p in entry.get("jsonPointers") or [])),
        tuple(sorted(str(p) for p in entry.get("jqPathExpressions") or [])),
    )


def _covers(system: RuleKey, key: RuleKey) -> bool:
    """Whether argocd-cm's rule already ignores every field the component's rule does."""
    return system[:2] == key[:2] and set(key[2]) <= set(system[2]) and set(key[3]) <= set(system[3])


def group_kind(key: RuleKey) -> str:
    return f"{key[0]}_{key[1]}" if key[0] else key[1]


class DiffCustomisations(Codemod):
    """Put generic diff rules in Argo CD's system config and keep component rules scoped.

    ## What it changes
    Every `ignoreDifferences` entry of every component descriptor is classified. An entry without
    `name`/`namespace` is generic when the policy lists it as controller-owned
    (`diff.controllerOwned`: webhook `caBundle`, CRD `status`, HPA-owned `replicas` …) or when the
    same (group, kind, pointers, jq expressions) appears in at least `diff.promoteThreshold`
    components (default 2), or when argocd-cm already ignores every field it names. Each generic
    rule is written once to the Argo CD values
    (`sources/values/common/argocd.yaml`, `configs.cm`) as `resource.customizations.ignoreDifferences.<group>_<kind>`
    (core kinds without group), merged with what the key already holds, carrying the comment that
    explained it; it is then removed from every descriptor (an emptied `ignoreDifferences` goes).
    Scoped rules stay: a reason from `diff.reasons` is written above them, and
    `RespectIgnoreDifferences=true` is added to the sync options of the components in
    `diff.respectOnSync`. Reported: an ignore on a Secret's `/data`/`/stringData` (phase D removes its
    reason), a group Argo CD's key format cannot express, and the trap of a component that syncs with
    `RespectIgnoreDifferences=true` while a system-level ignore covers a kind it renders (Argo CD then
    also stops applying those fields).

    ## Why
    Generic, controller-owned drift is a property of the kind, not of one app; repeating it in
    components hides the rare scoped rules that matter (plan 519 §4.4, Phase G, §6; gitops-facts §2).

    ## Before
        # cloudnative-pg/component.yaml and agent-operator/component.yaml
        ignoreDifferences:
          - group: admissionregistration.k8s.io
            kind: MutatingWebhookConfiguration
            jqPathExpressions: [".webhooks[]?.clientConfig.caBundle"]

    ## After
        # sources/values/common/argocd.yaml
        configs:
          cm:
            resource.customizations.ignoreDifferences.admissionregistration.k8s.io_MutatingWebhookConfiguration: |
              jqPathExpressions:
                - .webhooks[]?.clientConfig.caBundle
    """

    id = "g1-diff-customisations"
    phase = "G"
    title = "Generic ignoreDifferences live once in argocd-cm; component ignores are scoped and explained"

    def apply(self, fleet: Fleet) -> Changeset:
        return self._decide(fleet, warn_trap=True)

    def guard(self, fleet: Fleet) -> Changeset:
        # No rule reports the RespectIgnoreDifferences trap, which costs a render of every release.
        return self._decide(fleet, warn_trap=False)

    def _decide(self, fleet: Fleet, *, warn_trap: bool) -> Changeset:
        changeset = self.changeset()
        settings = fleet.policy.raw.get("diff") or {}
        controller_owned = {rule_key(r) for r in settings.get("controllerOwned") or []}
        reasons: dict[str, str] = settings.get("reasons") or {}
        respect = set(settings.get("respectOnSync") or [])
        components = self._components(fleet)
        rules: dict[RuleKey, _Rule] = {}
        for component in components:
            for index, entry in enumerate((fleet.values(component.path) or {}).get("ignoreDifferences") or []):
                if not isinstance(entry, dict):
                    continue
                if entry.get("kind") == "Secret" and not entry.get("group"):
                    pointers = set(entry.get("jsonPointers") or []) | set(entry.get("jqPathExpressions") or [])
                    if pointers & {"/data", "/stringData", ".data", ".stringData"}:
                        changeset.manual(
                            component.path,
                            fleet.yaml(component.path).line_of(("ignoreDifferences", index)),
                            f"ignores a Secret's payload ({entry.get('name', 'any Secret')}); stable secrets come from "
                            "External Secrets now (phase D): remove the ignore once its Secret is migrated",
                        )
                if any(k in entry for k in SCOPE_KEYS):
                    continue
                rules.setdefault(rule_key(entry), _Rule(rule_key(entry))).occurrences.append(
                    _Occurrence(component, index, entry)
                )
        threshold = fleet.policy.diff_promote_threshold
        in_cm = [rule_key(entry) for entry in system_ignores(fleet)]
        generic = [
            r
            for r in rules.values()
            if r.key in controller_owned or len(r.components) >= threshold or any(_covers(s, r.key) for s in in_cm)
        ]
        promoted = self._promote(fleet, generic, changeset)
        removals: dict[str, list[int]] = defaultdict(list)
        for rule in promoted:
            for occurrence in rule.occurrences:
                removals[occurrence.component.path].append(occurrence.index)
        for component in components:
            self._descriptor(fleet, component, sorted(removals.get(component.path, [])), reasons, respect, changeset)
        if warn_trap:
            self._warn_trap(fleet, components, respect, changeset)
        return changeset

    @staticmethod
    def _components(fleet: Fleet) -> list[Component]:
        layout = fleet.policy.layout
        return [
            component
            for root in (layout.shared_components, layout.local_components)
            for component in fleet.components_under(root)
            if fleet.files.link_target(component.path) is None
        ]

    def _promote(self, fleet: Fleet, generic: list[_Rule], changeset: Changeset) -> list[_Rule]:
        """Write the generic rules to argocd-cm; returns the rules that are now covered there."""
        rel = fleet.policy.layout.argocd_values
        if not generic:
            return []
        if not fleet.exists(rel):
            changeset.manual(
                rel, None, "the Argo CD values file does not exist; generic ignores stay in the components"
            )
            return []
        editor = fleet.yaml(rel)
        covered = []
        notes = []
        for rule in sorted(generic, key=lambda r: r.key):
            if "_" in rule.key[0]:
                where = rule.occurrences[0]
                changeset.manual(
                    where.component.path,
                    None,
                    f"group `{rule.key[0]}` contains `_`, which argocd-cm's `<group>_<kind>` keys cannot express",
                )
                continue
            key = SYSTEM_IGNORES + group_kind(rule.key)
            try:
                self._merge_into_cm(fleet, editor, key, rule)
            except (EditRefused, yaml.YAMLError) as error:
                changeset.manual(rel, editor.line_of(CM), f"not promoted ({key}): {error}")
                continue
            covered.append(rule)
            notes.append(f"{group_kind(rule.key)} (from {', '.join(sorted(rule.components))})")
        if editor.changed:
            changeset.edit(
                rel, fleet.read_bytes(rel), editor.to_bytes(), "system-level ignoreDifferences: " + "; ".join(notes), 1
            )
        return covered

    def _merge_into_cm(self, fleet: Fleet, editor: YamlEditor, key: str, rule: _Rule) -> None:
        wanted = {"jsonPointers": list(rule.key[2]), "jqPathExpressions": list(rule.key[3])}
        path = (*CM, key)
        if editor.has(path):
            current = yaml.safe_load(str(editor.get(path))) or {}
            merged = {field: list(dict.fromkeys([*(current.get(field) or []), *wanted[field]])) for field in wanted}
            merged = {k: v for k, v in {**current, **merged}.items() if v}
            if merged != {k: v for k, v in current.items() if v}:
                editor.set(path, _override_text(merged))
            return
        comment = _carried_comment(fleet, rule)
        editor.insert(CM, key, _override_text({k: v for k, v in wanted.items() if v}), comment=comment)

    def _descriptor(
        self,
        fleet: Fleet,
        component: Component,
        remove: list[int],
        reasons: dict[str, str],
        respect: set[str],
        changeset: Changeset,
    ) -> None:
        data: Any = fleet.values(component.path) or {}
        scoped = bool(data.get("ignoreDifferences")) and len(remove) < len(data.get("ignoreDifferences") or [])
        if not remove and not (scoped and (reasons.get(component.name) or component.name in respect)):
            return  # nothing this descriptor could need: no editor (a ruamel parse) for it
        editor = fleet.yaml(component.path)
        notes = []
        try:
            ignores = data.get("ignoreDifferences") or []
            if remove and len(remove) == len(ignores):
                editor.delete(("ignoreDifferences",))
                notes.append("every ignore is system-level now (argocd-cm)")
            elif remove:
                for index in reversed(remove):
                    editor.delete(("ignoreDifferences", index))
                notes.append(f"{len(remove)} generic ignore{'s' * (len(remove) != 1)} moved to argocd-cm")
            reason = reasons.get(component.name)
            if reason and editor.has("ignoreDifferences") and not _has_comment(editor, reason):
                editor.add_comment(("ignoreDifferences",), f"{reason} (scoped on purpose)")
                notes.append("explain the scoped ignores")
            if component.name in respect and editor.has("ignoreDifferences"):
                options = data.get("syncOptions") or []
                if RESPECT not in options:
                    editor.append("syncOptions", RESPECT)
                    notes.append("its ignores also apply during sync")
        except EditRefused as refusal:
            changeset.manual(component.path, refusal.line, f"not changed: {refusal.message}")
            return
        if editor.changed:
            changeset.edit(component.path, fleet.read_bytes(component.path), editor.to_bytes(), "; ".join(notes), 1)

    def _warn_trap(self, fleet: Fleet, components: list[Component], respect: set[str], changeset: Changeset) -> None:
        """RespectIgnoreDifferences + a system-level ignore on a rendered kind: Argo CD stops applying it."""
        system = _system_kinds(fleet)
        if not system:
            return
        names = {gk.rpartition("_")[2] for gk in system}
        respecting = [
            component
            for component in components
            if RESPECT in ((fleet.values(component.path) or {}).get("syncOptions") or []) or component.name in respect
        ]
        releases = [
            release
            for component in respecting
            for release in fleet.releases_named(component.name)
            if release.component.path == component.path
        ]
        kinds: dict[str, set[str]] = defaultdict(set)
        for release, rendered in rendered_ahead(fleet, releases):
            if not isinstance(rendered, RenderFailed):
                kinds[release.component.path] |= {_gk(obj) for obj in objects_of_kinds(rendered, names)}
        for component in respecting:
            for gk in sorted(kinds[component.path] & system):
                changeset.manual(
                    component.path,
                    None,
                    f"syncs with {RESPECT} and renders {gk.replace('_', '/')}, which argocd-cm ignores system-wide: "
                    "Argo CD then also stops applying those fields for it; scope the rule or drop the option",
                )


class _IndentedLists(yaml.SafeDumper):
    """Lists indented under their key, as argocd-cm values are usually written."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _override_text(override: dict[str, Any]) -> str:
    return yaml.dump(override, Dumper=_IndentedLists, default_flow_style=False, sort_keys=False, width=1000)


def _carried_comment(fleet: Fleet, rule: _Rule) -> str | None:
    """The comment that explained the rule in a descriptor, to keep it with the rule."""
    for occurrence in rule.occurrences:
        editor = fleet.yaml(occurrence.component.path)
        item = editor.items(("ignoreDifferences",))[occurrence.index]
        lines = [
            line.strip() for line in editor.lines[item.head_start : item.dash_line] if line.strip().startswith("#")
        ]
        if lines:
            return "\n".join(line[1:].strip() for line in lines)
    return None


def _has_comment(editor: YamlEditor, text: str) -> bool:
    return any(text in line for line in editor.lines if line.lstrip().startswith("#"))


def _system_kinds(fleet: Fleet) -> set[str]:
    rel = fleet.policy.layout.argocd_values
    if not fleet.exists(rel):
        return set()
    cm = ((fleet.values(rel) or {}).get("configs") or {}).get("cm") or {}
    return {key[len(SYSTEM_IGNORES) :] for key in cm if key.startswith(SYSTEM_IGNORES)}


def _gk(obj: dict[str, Any]) -> str:
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    return f"{group}_{obj.get('kind')}" if group else str(obj.get("kind"))
