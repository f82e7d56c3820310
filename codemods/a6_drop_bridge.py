"""A6: remove the deprecated root keys once nothing reads them any more."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fleetmig.edit.gotemplate import TemplateSyntaxError
from fleetmig.engine import Changeset, Codemod
from fleetmig.errors import EditRefused
from fleetmig.fleet.consumers import (
    Evidence,
    chart_defaults,
    charts,
    evidence_for_chart,
    evidence_for_values_file,
    in_yaml_comment,
    judge_text,
    python_reader_lines,
    template_files,
    text_of,
    values_files,
)
from fleetmig.fleet.contract import DEPRECATION_MARK, Bridge, bridges, is_marked_bridge
from fleetmig.fleet.model import Fleet

SHOWN_READERS = 5


class DropBridge(Codemod):
    """Delete the deprecated root keys (`cluster:` …) once no chart, values file or script reads them.

    ## What it changes
    For every key that `contract.move` bridges, it looks for readers that are left: reads in the
    templates of owned and vendored charts, Go template text in values files, and Python tooling
    that still reaches the root key; a component whose chart is not in the repository counts as a
    reader, since nothing proves it does not read the key. While any exists, nothing is removed and the bridge is
    reported with the remaining readers (file:line), so the last consumers can be moved first.
    When none is left, the root key is deleted from every globals file that carries it as a bridge
    (marked `DEPRECATED (fleetmig …)` by the codemod that published its replacement), together with
    the comments that describe it; the rest of the file is untouched. A chart that owns a root key
    of the same name and passed the fleet's value on by accident (the collision) is named: dropping
    the bridge is what ends it, and its rendered manifests lose the leaked keys.

    ## Why
    The bridge exists only so that old readers keep working while they move to `global.ameide.*`
    (plan 519 Phase A, §7). Left in place it keeps the collision alive: every chart still
    receives the root key (plan 519 §6, first acceptance criterion).

    ## Before
        # sources/values/cluster/local/globals.yaml
        # DEPRECATED (fleetmig a1-fleet-contract): compatibility bridge; read global.ameide.cluster.* instead
        cluster:
          type: k3d
          name: k3d-ameide
        storageClass: local-path
        global:
          ameide:
            cluster: {type: local, name: k3d-ameide, arch: arm64}

    ## After
        # sources/values/cluster/local/globals.yaml
        storageClass: local-path
        global:
          ameide:
            cluster: {type: local, name: k3d-ameide, arch: arm64}
    """

    id = "a6-drop-bridge"
    phase = "A"
    title = "Drop the deprecated root keys once nothing reads them"
    requires = ("a1-fleet-contract", "a2-ambiguous-root-keys", "a3-template-consumers", "a4-script-consumers")

    def apply(self, fleet: Fleet) -> Changeset:
        changeset = self.changeset()
        layers = fleet.globals_layers()
        for bridge in bridges(fleet.policy):
            carriers = [
                layer.path
                for layer in layers
                if DEPRECATION_MARK.encode() in fleet.read_bytes(layer.path)
                and is_marked_bridge(fleet.yaml(layer.path), bridge.root)
            ]
            if not carriers:
                continue
            readers, collisions = self._readers(fleet, bridge)
            readers += self._unseen_charts(fleet)
            if readers:
                shown = ", ".join(readers[:SHOWN_READERS])
                more = f" and {len(readers) - SHOWN_READERS} more" if len(readers) > SHOWN_READERS else ""
                for rel in carriers:
                    changeset.manual(
                        rel,
                        fleet.yaml(rel).line_of((bridge.root,)),
                        f"bridge `{bridge.root}` stays: still read by {shown}{more}; move those readers to "
                        f"`{bridge.target}` first",
                    )
                continue
            reason = f"drop the deprecated root `{bridge.root}`: nothing reads it, `{bridge.target}` replaces it"
            if collisions:
                reason += f"; ends the collision in {', '.join(collisions)}"
            for rel in carriers:
                editor = fleet.yaml(rel)
                line = editor.line_of((bridge.root,))
                try:
                    editor.delete((bridge.root,))
                except EditRefused as refusal:
                    changeset.manual(rel, refusal.line or line, f"not changed: {refusal.message}")
                    continue
                changeset.edit(rel, fleet.read_bytes(rel), editor.to_bytes(), reason, line)
        return changeset

    @staticmethod
    def _unseen_charts(fleet: Fleet) -> list[str]:
        """Releases whose chart is not in this repository: nothing proves they do not read the key."""
        return sorted(
            {
                f"{release.component.path} (chart outside this repository)"
                for release in fleet.releases
                if not release.component.chart_path or not fleet.exists(f"{release.component.chart_path}/Chart.yaml")
            }
        )

    def _readers(self, fleet: Fleet, bridge: Bridge) -> tuple[list[str], list[str]]:
        """file:line of every remaining reader, and the charts whose collision the drop ends."""
        readers: list[str] = []
        collisions: list[str] = []
        for chart in charts(fleet):
            files = [rel for rel in template_files(fleet, chart) if bridge.root in (text_of(fleet, rel) or "")]
            if not files:
                continue
            evidence = evidence_for_chart(fleet, chart.path)
            defaults = chart_defaults(fleet, chart.path)
            for rel in files:
                readers += self._template_readers(fleet, rel, bridge, evidence, defaults, collisions, chart.path)
        for rel in values_files(fleet):
            text = text_of(fleet, rel)
            if text and "{{" in text and bridge.root in text:
                try:
                    verdicts = judge_text(fleet, text, evidence_for_values_file(fleet, rel))
                except TemplateSyntaxError as error:
                    readers.append(f"{rel}:{error.line} (unparsable template text)")
                    continue
                readers += [
                    f"{rel}:{v.read.line}"
                    for v in verdicts
                    if not in_yaml_comment(text, v) and v.bridge in (bridge, None)
                ]
        third_party = fleet.policy.layout.third_party.rstrip("/") + "/"
        for rel in fleet.files.glob("**/*.py"):
            if rel.startswith(third_party) or not fleet.exists(rel):
                continue
            text = text_of(fleet, rel)
            if text and bridge.root in text:
                readers += [f"{rel}:{line}" for line in python_reader_lines(text, bridge)]
        return sorted(dict.fromkeys(readers)), collisions

    @staticmethod
    def _template_readers(
        fleet: Fleet,
        rel: str,
        bridge: Bridge,
        evidence: Sequence[Evidence],
        defaults: Any,
        collisions: list[str],
        chart: str,
    ) -> list[str]:
        text = text_of(fleet, rel)
        if text is None:
            return [f"{rel} (not UTF-8)"]
        try:
            verdicts = judge_text(fleet, text, evidence, defaults)
        except TemplateSyntaxError as error:
            return [f"{rel}:{error.line} (unparsable template)"]
        found = []
        for verdict in verdicts:
            if verdict.bridge not in (bridge, None):
                continue
            if verdict.owned_by_chart:
                if verdict.problem and chart not in collisions:
                    collisions.append(chart)
                continue
            found.append(f"{rel}:{verdict.read.line}")
        return found
