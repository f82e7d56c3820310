"""A1: publish the `global.ameide.*` fleet contract, keeping root `cluster:` as a bridge."""

from __future__ import annotations

from typing import Any

from fleetmig.edit.yaml import KeyPath, YamlEditor, dotted, keypath
from fleetmig.engine import Changeset, Codemod
from fleetmig.errors import EditRefused
from fleetmig.fleet.contract import is_marked_bridge
from fleetmig.fleet.model import Fleet, GlobalsLayer

CONTRACT_FIELDS = ("type", "name", "arch")
DEPRECATION = "DEPRECATED (fleetmig a1-fleet-contract): compatibility bridge; read {target}.* instead"


class FleetContract(Codemod):
    """Publish the fleet facts under `global.ameide.*` in the globals files of every layer.

    ## What it changes
    In every cluster-type globals file (`sources/values/cluster/<type>/globals.yaml`) it adds
    `global.ameide.cluster.type` (the cluster type), `.name` and `.arch`, taken from the file's
    root `cluster:` block where it has them and from `clusterTypes.<type>.cluster` in
    `fleetmig.yaml` otherwise, plus `global.ameide.capabilities.*` and
    `global.ameide.images.policy.{preferMirror,requireMultiArch}` from `clusterTypes.<type>`.
    The base globals file gets the fleet-wide `global.ameide.images.policy.mirrorRegistry`
    (`images.mirrorRegistry`). An environment globals file that overrides the root `cluster:`
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
            capabilities:
              operators:
                agentOperator: false
            images:
              policy:
                preferMirror: false
                requireMultiArch: true
    """

    id = "a1-fleet-contract"
    phase = "A"
    title = "Publish global.ameide.* (cluster, capabilities, image policy); root cluster keys become a bridge"

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
        root = fleet.policy.contract_root
        desired: dict[str, Any] = {}
        if layer.kind == "base":
            for key in present:
                changeset.manual(
                    layer.path,
                    editor.line_of((key,)),
                    f"root `{key}` in the base layer holds cluster facts; they belong to the cluster-type layer",
                )
            if fleet.policy.mirror_registry:
                desired["images"] = {"policy": {"mirrorRegistry": fleet.policy.mirror_registry}}
        else:
            cluster = self._desired(fleet, layer, editor, present, changeset)
            if cluster:
                desired["cluster"] = cluster
            if layer.kind == "cluster":
                desired.update(_policy_facts(fleet, layer.cluster_type))
        added = self._publish(editor, keypath(root), (), desired, layer, changeset)
        notes = []
        if added:
            notes.append(f"publish `{root}.{{{','.join(added)}}}` for {layer.kind} `{layer.name}`")
        for key in present:
            if not is_marked_bridge(editor, key):
                editor.add_comment((key,), DEPRECATION.format(target=target))
                notes.append(f"mark root `{key}` as a deprecated bridge")
        return notes

    def _publish(
        self,
        editor: YamlEditor,
        root: KeyPath,
        under: tuple[str, ...],
        desired: dict[str, Any],
        layer: GlobalsLayer,
        changeset: Changeset,
    ) -> list[str]:
        """Insert what the contract lacks (whole blocks where it can); report values that disagree.
        Returns the inserted paths, relative to the contract root."""
        at = (*root, *under)
        if editor.has(at) and not isinstance(editor.get(at), dict):
            changeset.manual(layer.path, editor.line_of(at), f"`{dotted(at)}` is not a mapping")
            return []
        added = []
        for key, value in desired.items():
            path = (*at, key)
            if not editor.has(path):
                editor.insert(at, key, value)
                added.append(".".join((*under, key)))
            elif isinstance(value, dict):
                added += self._publish(editor, root, (*under, key), value, layer, changeset)
            elif editor.get(path) != value:
                changeset.manual(
                    layer.path,
                    editor.line_of(path),
                    f"`{dotted(path)}` is `{editor.get(path)}` but the fleet says `{value}`; left as is",
                )
        return added

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


def _policy_facts(fleet: Fleet, cluster_type: str | None) -> dict[str, Any]:
    """Capabilities and image policy of a cluster type, as the policy file states them."""
    policy = fleet.policy.cluster_types.get(cluster_type or "")
    if policy is None:
        return {}
    facts: dict[str, Any] = {}
    if policy.capabilities:
        facts["capabilities"] = {group: dict(caps) for group, caps in policy.capabilities.items()}
    images = {
        key: value
        for key, value in (("preferMirror", policy.prefer_mirror), ("requireMultiArch", policy.require_multi_arch))
        if value is not None
    }
    if images:
        facts["images"] = {"policy": images}
    return facts


def _first_line(editor: YamlEditor, bridge_keys: list[str]) -> int:
    for key in bridge_keys:
        if editor.has((key,)):
            return editor.line_of((key,))
    return 1
