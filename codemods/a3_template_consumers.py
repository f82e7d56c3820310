"""A3: point Helm template readers of the bridged root keys at the `global.ameide.*` contract."""

from __future__ import annotations

import re
from collections.abc import Sequence

from fleetmig.edit.gotemplate import TemplateSyntaxError
from fleetmig.engine import Changeset, Codemod
from fleetmig.fleet.consumers import (
    Evidence,
    Verdict,
    apply_splices,
    chart_defaults,
    charts,
    evidence_for_chart,
    evidence_for_values_file,
    in_yaml_comment,
    judge_text,
    template_files,
    text_of,
    values_files,
)
from fleetmig.fleet.contract import bridges
from fleetmig.fleet.model import Fleet


class TemplateConsumers(Codemod):
    """Rewrite chart templates (and `tpl` text in values files) that read a bridged root key.

    ## What it changes
    In the templates of every owned chart, each read of a root key that `contract.move` bridges
    (`.Values.cluster.type`, `$.Values.cluster.name`, `index .Values "cluster" "arch"`,
    `{{- with .Values.cluster }}` with the `.type`/`.name` reads of its body, `hasKey .Values
    "cluster"`, `get .Values "cluster"`) is pointed at the contract path, and so is Go template
    text in values files that charts render through `tpl`. Only the key path changes; every other
    byte stays. A read moves only when the contract gives the same result the root key gives today
    for every release that renders it (the layered values of each environment): a value that
    differs (root `cluster.type` holds `k3d` where the contract holds the cluster type `local`)
    is reported with the values on both sides, except in `eq`/`ne` comparisons with a literal,
    where the literal is translated (`"k3d"` → `"local"`) so the comparison keeps its result.
    Reads of a key computed at render time (`index .Values $key`) are reported, never guessed.
    A chart that owns a root key of the same name (its own `cluster:` defaults with keys the fleet
    never publishes) keeps its reads; if it passes that map on whole, the collision with the
    bridge is reported. Vendored charts under `third_party/` are read, never edited: their reads
    are reported. ApplicationSets and component descriptors that set a bridged key through Helm
    `parameters` are reported.

    ## Why
    The bridge can only be dropped once nothing reads the root keys (plan 519 Phase A, §7), and
    every chart that reads `global.ameide.*` gets the contract in subcharts too. Moving a read
    must not change what Argo CD renders, so each move is proved on the fleet's own values.

    ## Before
        # sources/charts/apps/www-ameide/templates/service.yaml
        {{- if and .Values.cluster (eq .Values.cluster.type "k3d") }}
        # sources/charts/platform/backstage/templates/configmap.yaml
        - name: {{ .name | default $.Values.cluster.name }}

    ## After
        # sources/charts/apps/www-ameide/templates/service.yaml
        {{- if and .Values.global.ameide.cluster (eq .Values.global.ameide.cluster.type "local") }}
        # sources/charts/platform/backstage/templates/configmap.yaml
        - name: {{ .name | default $.Values.global.ameide.cluster.name }}
    """

    id = "a3-template-consumers"
    phase = "A"
    title = "Point template readers of root keys at global.ameide.*"
    requires = ("a1-fleet-contract",)

    def apply(self, fleet: Fleet) -> Changeset:
        changeset = self.changeset()
        moved = bridges(fleet.policy)
        if not moved:
            return changeset
        roots = [bridge.root for bridge in moved]
        needle = re.compile("|".join(re.escape(root) for root in roots) + r"|\.Values\s*\$|\.Values\s*\(")
        for chart in charts(fleet):
            files = [rel for rel in template_files(fleet, chart) if needle.search(text_of(fleet, rel) or "")]
            if not files:
                continue
            evidence = evidence_for_chart(fleet, chart.path)
            defaults = chart_defaults(fleet, chart.path)
            for rel in files:
                self._rewrite(fleet, changeset, rel, evidence, defaults, vendored=chart.vendored)
        for rel in values_files(fleet):
            text = text_of(fleet, rel)
            if text and "{{" in text and needle.search(text):
                self._rewrite(fleet, changeset, rel, evidence_for_values_file(fleet, rel), None, values_file=True)
        self._report_parameters(fleet, changeset, roots)
        return changeset

    def _rewrite(
        self,
        fleet: Fleet,
        changeset: Changeset,
        rel: str,
        evidence: Sequence[Evidence],
        defaults: object,
        *,
        vendored: bool = False,
        values_file: bool = False,
    ) -> None:
        text = text_of(fleet, rel)
        if text is None:
            changeset.manual(rel, None, "not UTF-8 text; cannot look for readers of the bridged keys")
            return
        try:
            verdicts = judge_text(fleet, text, evidence, defaults)
        except TemplateSyntaxError as error:
            changeset.manual(rel, error.line, f"not rewritten: {error.message}")
            return
        if values_file:
            verdicts = [v for v in verdicts if not in_yaml_comment(text, v)]
        splices: list[tuple[int, int, str]] = []
        for group in _by_action(verdicts):
            blocked = [v for v in group if v.problem and not v.owned_by_chart]
            for verdict in group:
                if verdict.problem:
                    where = "vendored chart, never edited" if vendored else "not rewritten"
                    prefix = "" if verdict.owned_by_chart else f"{where}: "
                    changeset.manual(rel, verdict.read.line, prefix + verdict.problem)
            if vendored:
                for verdict in group:
                    if not verdict.problem and not verdict.owned_by_chart:
                        changeset.manual(
                            rel,
                            verdict.read.line,
                            "vendored chart reads the bridged root key; fleetmig never edits third_party/. "
                            "Give it the value from a wrapper chart before dropping the bridge",
                        )
                continue
            if blocked:
                others = [v for v in group if not v.problem and v.splices]
                if others:
                    changeset.manual(
                        rel,
                        group[0].read.line,
                        "the other reads in this action are left as they are, so it stays whole",
                    )
                continue
            for verdict in group:
                splices.extend(verdict.splices)
        if splices:
            after = apply_splices(text, splices)
            count = sum(1 for v in verdicts if v.splices and not v.problem)
            targets = sorted({f"`{v.bridge.target}`" for v in verdicts if v.bridge and v.splices})
            changeset.edit(
                rel,
                text.encode("utf-8"),
                after.encode("utf-8"),
                f"read {', '.join(targets)} instead of the deprecated root key ({count} read{'s' * (count != 1)})",
                min(v.read.line for v in verdicts if v.splices),
            )

    def _report_parameters(self, fleet: Fleet, changeset: Changeset, roots: list[str]) -> None:
        """Helm parameters that set a bridged key: writers, which a human must move with the readers."""
        layout = fleet.policy.layout
        pattern = re.compile(
            r"""^\s*-?\s*name:\s*["']?(?P<key>(?:"""
            + "|".join(re.escape(r) for r in roots)
            + r""")(?:\.[\w.-]+)?)["']?\s*$""",
            re.MULTILINE,
        )
        places = [
            *fleet.files.glob(f"{layout.application_sets.rstrip('/')}/**"),
            *fleet.files.glob(f"{layout.shared_components.rstrip('/')}/**/component.yaml"),
            *fleet.files.glob(f"{layout.local_components.rstrip('/')}/**/component.yaml"),
        ]
        for rel in places:
            text = text_of(fleet, rel) if fleet.exists(rel) else None
            if not text or "parameters" not in text:
                continue
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                changeset.manual(
                    rel,
                    line,
                    f"sets root `{match.group('key')}` through a Helm parameter; set it under the contract "
                    "(and keep the root key only while charts still read it)",
                )


def _by_action(verdicts: list[Verdict]) -> list[list[Verdict]]:
    groups: dict[tuple[int, str], list[Verdict]] = {}
    for verdict in verdicts:
        groups.setdefault((verdict.read.line, verdict.read.snippet), []).append(verdict)
    return list(groups.values())
