"""A2: report ambiguous root keys in fleet values layers; bridge the ones the policy maps."""

from __future__ import annotations

import re
from typing import Any

from fleetmig.edit.yaml import YamlEditor, keypath
from fleetmig.engine import Changeset, Codemod
from fleetmig.errors import EditRefused
from fleetmig.fleet.contract import DEPRECATION_MARK, Bridge, bridges, is_marked_bridge
from fleetmig.fleet.model import Fleet

# a1 derives the cluster contract (type = cluster type, name/arch from the policy); a plain copy would be wrong.
CLUSTER_TARGET = "cluster"
SHOWN_CHARTS = 4


class AmbiguousRootKeys(Codemod):
    """Find root keys that collide across charts; move those `contract.move` maps into the contract.

    ## What it changes
    Every values file the ApplicationSets layer into releases (the globals of each layer, node
    profiles, the `_shared` and per-environment component values) is searched for root keys named in
    `contract.ambiguousKeys` (default `cluster`, `name`, `type`, `spec`, `namespace`). Each one
    is reported with the charts that receive it, the ones among them whose templates read it, and
    the ones that define the same root key in their own defaults (a collision: Helm merges the
    fleet's value into the chart's own). A component values file that sets a key its chart
    defines itself is the chart's own configuration and is not reported.

    A root key that `contract.move` maps to a contract path (other than `cluster`, which
    `a1-fleet-contract` publishes) is copied to that path in the same file, and the root key is
    kept as a deprecated compatibility bridge with a comment naming its replacement. Its comments
    stay with it; nothing else in the file moves. Chart defaults (`values.yaml` of a chart) are
    the chart's own interface and are not searched.

    ## Why
    Helm merges all values layers into one tree per chart, so a fleet-wide root key such as
    `cluster` or `namespace` lands in every chart, including charts that own a key of that name
    (plan 519 §1: CNPG received unexpected `spec` keys; §2 goal 1; lint L22).

    ## Before
        # fleetmig.yaml: contract: {move: {cluster: cluster, registry: images.registry}}
        # sources/values/base/globals.yaml
        registry: ghcr.io

    ## After
        # sources/values/base/globals.yaml
        # DEPRECATED (fleetmig a2-ambiguous-root-keys): compatibility bridge; read
        #   global.ameide.images.registry instead   (one line in the file)
        registry: ghcr.io
        global:
          ameide:
            images:
              registry: ghcr.io
    """

    id = "a2-ambiguous-root-keys"
    phase = "A"
    title = "Report ambiguous root keys; bridge the ones the policy maps into global.ameide.*"

    def apply(self, fleet: Fleet) -> Changeset:
        changeset = self.changeset()
        moved = {
            b.root: b for b in bridges(fleet.policy) if b.target != f"{fleet.policy.contract_root}.{CLUSTER_TARGET}"
        }
        watched = set(fleet.policy.ambiguous_keys) | set(moved)
        receivers = self._receivers(fleet)
        for rel in sorted(receivers):
            if not fleet.exists(rel):
                continue
            data = fleet.values(rel)
            if not isinstance(data, dict):
                continue
            keys = [key for key in data if key in watched]
            if not keys:
                continue
            text = fleet.read_bytes(rel).decode("utf-8", "replace")
            # Most files only need a line number for a report: parse for editing only when needed.
            needs_editor = DEPRECATION_MARK in text or any(key in moved for key in keys)
            editor = fleet.yaml(rel) if needs_editor else None
            notes = []
            for key in keys:
                bridge = moved.get(key)
                if editor is not None and bridge is not None:
                    note = self._bridge(editor, rel, bridge, changeset)
                    if note:
                        notes.append(note)
                    continue
                charts = receivers[rel]
                if (editor is not None and is_marked_bridge(editor, key)) or all(
                    _owns(fleet, chart, key) for chart in charts
                ):
                    continue  # a bridge already, or the chart's own setting given per component
                line = editor.line_of((key,)) if editor is not None else _root_key_line(text, key)
                changeset.manual(rel, line, self._describe(fleet, key, charts))
            if editor is not None and editor.changed:
                changeset.edit(
                    rel, fleet.read_bytes(rel), editor.to_bytes(), "; ".join(notes), editor.line_of((keys[0],))
                )
        return changeset

    def _receivers(self, fleet: Fleet) -> dict[str, list[str]]:
        """values file → the charts it is layered into (in release order, once each)."""
        # An ordered set per file: a globals file reaches every chart, and testing a list for each
        # release made this quadratic in the fleet.
        out: dict[str, dict[str, None]] = {}
        for release in fleet.releases:
            chart = release.component.chart_path
            if chart is not None:
                for rel in release.value_files:
                    out.setdefault(rel, {})[chart] = None
        return {rel: list(charts) for rel, charts in out.items()}

    def _bridge(self, editor: YamlEditor, rel: str, bridge: Bridge, changeset: Changeset) -> str | None:
        value: Any = editor.get((bridge.root,))
        target = keypath(bridge.target)
        try:
            if editor.has(target):
                if editor.get(target) != value:
                    changeset.manual(
                        rel,
                        editor.line_of(target),
                        f"`{bridge.target}` is `{editor.get(target)}` but root `{bridge.root}` is `{value}`; "
                        "left as is: decide which one is right",
                    )
                    return None
                published = False
            else:
                editor.insert(target[:-1], str(target[-1]), value)
                published = True
            marked = is_marked_bridge(editor, bridge.root)
            if not marked:
                editor.add_comment((bridge.root,), bridge.comment(self.id))
        except EditRefused as refusal:
            changeset.manual(rel, refusal.line, f"not changed: {refusal.message}")
            return None
        parts = [f"publish `{bridge.target}`"] if published else []
        if not marked:
            parts.append(f"mark root `{bridge.root}` as a deprecated bridge")
        return " and ".join(parts) or None

    def _describe(self, fleet: Fleet, key: str, charts: list[str]) -> str:
        readers = [chart for chart in charts if _reads(fleet, chart, key)]
        owners = [chart for chart in charts if _owns(fleet, chart, key)]
        text = f"ambiguous root key `{key}` reaches {len(charts)} chart{'s' * (len(charts) != 1)} ({_names(charts)})"
        if readers:
            text += f"; read by {_names(readers)}"
        if owners:
            text += f"; collides with the chart's own `{key}` in {_names(owners)}"
        return (
            text + f". Move it under `{fleet.policy.contract_root}` (map it in contract.move) "
            "or into the component values that need it"
        )


def _root_key_line(text: str, key: str) -> int | None:
    match = re.search(rf"""^(["']?){re.escape(key)}\1[ \t]*:""", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _names(charts: list[str]) -> str:
    names = [chart.rsplit("/", 1)[-1] for chart in charts]
    shown = ", ".join(names[:SHOWN_CHARTS])
    return shown + (f" and {len(names) - SHOWN_CHARTS} more" if len(names) > SHOWN_CHARTS else "")


def _reads(fleet: Fleet, chart: str, key: str) -> bool:
    pattern = re.compile(rf"""\.Values\.{re.escape(key)}\b|\.Values\s+["']{re.escape(key)}["']""")
    return any(
        pattern.search(fleet.read_bytes(rel).decode("utf-8", "replace"))
        for rel in fleet.files.glob(f"{chart}/templates/**")
    )


def _owns(fleet: Fleet, chart: str, key: str) -> bool:
    defaults = f"{chart}/values.yaml"
    data = fleet.values(defaults) if fleet.exists(defaults) else None
    return isinstance(data, dict) and key in data
