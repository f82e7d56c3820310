"""A1: publish the `global.ameide.cluster.*` fleet contract, keeping root `cluster:` as a bridge."""

from __future__ import annotations

from typing import Any

from fleetmig.edit.yaml import YamlEditor, keypath
from fleetmig.engine import Changeset, Codemod
from fleetmig.errors import EditRefused
from fleetmig.fleet.model import Fleet, GlobalsLayer

CONTRACT_FIELDS = ("type", "name", "arch")
DEPRECATION = "DEPRECATED (fleetmig a1-fleet-contract): compatibility bridge; read {target}.* instead"


class FleetContract(Codemod):
    """Publish the cluster facts under `global.ameide.cluster.*` in the fleet globals files.

    ## What it changes
    In every cluster-type globals file (`sources/values/cluster/<type>/globals.yaml`) it adds
    `global.ameide.cluster.type` (the cluster type), `.name` and `.arch`, taken from the file's
    root `cluster:` block where it has them and from `clusterTypes.<type>.cluster` in
    `fleetmig.yaml` otherwise. An environment globals file that overrides the root `cluster:`
    block gets the same override under the contract. The root block stays as a deprecated
    compatibility bridge, marked with a comment that names its replacement; its own comments stay
    with it. Keys already published are left alone; a published value that disagrees with the
    repo or the policy is reported, never overwritten.

    ## Why
    Helm merges every values layer into one tree, so a fleet-wide root `cluster:` key lands in
    every chart, including charts that own a `cluster:` block themselves (CNPG's
    `postgres_clusters` received unexpected `spec` keys this way, plan 519 §1). `global.*` is the
    Helm-native way to share fleet facts with every chart and subchart without colliding
    (plan 519 §2 goal 1, §4.1, Phase A).

    ## Before
        # sources/values/cluster/local/globals.yaml
        cluster:
          type: k3d
          name: k3d-ameide
        storageClass: local-path

    ## After
        # sources/values/cluster/local/globals.yaml
        # DEPRECATED (fleetmig a1-fleet-contract): compatibility bridge; read global.ameide.cluster.* instead
        cluster:
          type: k3d
          name: k3d-ameide
        storageClass: local-path
        global:
          ameide:
            cluster:
              type: local
              name: k3d-ameide
              arch: arm64
    """

    id = "a1-fleet-contract"
    phase = "A"
    title = "Publish global.ameide.cluster.*; root cluster keys become a bridge"

    def apply(self, fleet: Fleet) -> Changeset:
        changeset = self.changeset()
        bridge_keys = [root for root, target in fleet.policy.contract_move.items() if target == "cluster"]
        target = f"{fleet.policy.contract_root}.cluster"
        layers = fleet.globals_layers()
        published_types = {layer.name for layer in layers if layer.kind == "cluster"}
        for entry in fleet.cluster_entries:
            if entry.cluster_type not in published_types:
                published_types.add(entry.cluster_type)
                changeset.manual(
                    entry.source,
                    entry.line,
                    f"cluster type `{entry.cluster_type}` has no globals file "
                    f"({fleet.policy.layout.cluster_globals_for(entry.cluster_type)}); create it so "
                    f"`{target}` reaches its releases",
                )
        for layer in layers:
            before = fleet.read_bytes(layer.path)
            editor = YamlEditor(before, layer.path)
            try:
                notes = self._edit(fleet, layer, editor, bridge_keys, target, changeset)
            except EditRefused as refusal:
                changeset.manual(layer.path, refusal.line, f"not changed: {refusal.message}")
                continue
            if editor.changed:
                changeset.edit(
                    layer.path, before, editor.to_bytes(), "; ".join(notes), _first_line(editor, bridge_keys)
                )
        return changeset

    def _edit(
        self,
        fleet: Fleet,
        layer: GlobalsLayer,
        editor: YamlEditor,
        bridge_keys: list[str],
        target: str,
        changeset: Changeset,
    ) -> list[str]:
        if editor.document_count != 1:
            changeset.manual(layer.path, 1, "globals file holds several YAML documents; Helm reads only one")
            return []
        data = editor.data()
        if data is not None and not isinstance(data, dict):
            changeset.manual(layer.path, 1, "globals file is not a mapping at the top level")
            return []
        present = [key for key in bridge_keys if isinstance(data, dict) and key in data]
        if layer.kind == "base":
            for key in present:
                changeset.manual(
                    layer.path,
                    editor.line_of((key,)),
                    f"root `{key}` in the base layer holds cluster facts; they belong to the cluster-type layer",
                )
            return []
        desired = self._desired(fleet, layer, editor, present, changeset)
        published = editor.get(target) if editor.has(target) else {}
        if not isinstance(published, dict):
            changeset.manual(layer.path, editor.line_of(keypath(target)), f"`{target}` is not a mapping")
            return []
        added = []
        for field, value in desired.items():
            if field in published:
                if published[field] != value:
                    changeset.manual(
                        layer.path,
                        editor.line_of(keypath(f"{target}.{field}")),
                        f"`{target}.{field}` is `{published[field]}` but the fleet says `{value}`; left as is",
                    )
                continue
            editor.insert(target, field, value)
            added.append(field)
        notes = []
        if added:
            notes.append(f"publish `{target}.{{{','.join(added)}}}` for {layer.kind} `{layer.name}`")
        for key in present:
            if not any("DEPRECATED" in line for line in _head_comments(editor, key)):
                editor.add_comment((key,), DEPRECATION.format(target=target))
                notes.append(f"mark root `{key}` as a deprecated bridge")
        return notes

    def _desired(
        self,
        fleet: Fleet,
        layer: GlobalsLayer,
        editor: YamlEditor,
        present: list[str],
        changeset: Changeset,
    ) -> dict[str, Any]:
        """The contract fields this layer must publish (fields it cannot know are reported)."""
        from_repo: dict[str, Any] = {}
        for key in present:
            block = editor.get((key,))
            if not isinstance(block, dict):
                changeset.manual(layer.path, editor.line_of((key,)), f"root `{key}` is not a mapping; cannot bridge it")
                continue
            for field in ("name", "arch"):
                if field in block:
                    from_repo[field] = block[field]
        cluster_type = layer.cluster_type
        if layer.kind == "env":
            # An env inherits its cluster type's contract; it only republishes what it overrides.
            if not from_repo:
                return {}
            if cluster_type is None:
                changeset.manual(
                    layer.path,
                    1,
                    f"env `{layer.name}` has no cluster type in the cluster configs; cannot publish its contract",
                )
                return {}
        assert cluster_type is not None
        policy = fleet.policy.cluster_types.get(cluster_type)
        from_policy = {
            "name": policy.cluster_name if policy else None,
            "arch": policy.arch if policy else None,
        }
        desired: dict[str, Any] = {"type": cluster_type}
        for field in ("name", "arch"):
            repo_value, policy_value = from_repo.get(field), from_policy[field]
            if repo_value is not None and policy_value is not None and repo_value != policy_value:
                changeset.manual(
                    layer.path,
                    editor.line_of((present[0], field)),
                    f"cluster {field} is `{repo_value}` here but `{policy_value}` in fleetmig.yaml "
                    f"(clusterTypes.{cluster_type}.cluster.{field}); fix one of them",
                )
                continue
            value = repo_value if repo_value is not None else policy_value
            if value is None:
                if layer.kind == "cluster":
                    changeset.manual(
                        layer.path,
                        1,
                        f"cluster {field} of cluster type `{cluster_type}` is unknown: "
                        f"set clusterTypes.{cluster_type}.cluster.{field} in fleetmig.yaml",
                    )
                continue
            desired[field] = value
        if layer.kind == "env":
            desired = {f: v for f, v in desired.items() if f in from_repo}
        return desired


def _head_comments(editor: YamlEditor, key: str) -> list[str]:
    for entry in editor.entries():
        if entry.key == key:
            return editor.lines[entry.head_start : entry.key_line]
    return []


def _first_line(editor: YamlEditor, bridge_keys: list[str]) -> int:
    for key in bridge_keys:
        if editor.has((key,)):
            return editor.line_of((key,))
    return 1
