"""The fleet a codemod sees: its policy, its files (with pending changes) and what they describe."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from fleetmig.edit.yaml import YamlEditor
from fleetmig.errors import InputError
from fleetmig.fleet.files import FileView
from fleetmig.fleet.policy import Policy, load_policy

LayerKind = Literal["base", "cluster", "env"]


@dataclass(frozen=True)
class ClusterEntry:
    """One entry of `config/clusters/*.yaml`: an environment on a cluster of some type."""

    env: str
    cluster_type: str
    cluster: str | None
    namespace: str | None
    source: str
    line: int


@dataclass(frozen=True)
class GlobalsLayer:
    """A fleet-wide globals file at one layer of the values stack."""

    kind: LayerKind
    name: str  # "base", the cluster type, or the environment
    path: str
    cluster_type: str | None  # the cluster type every release reading this file runs on, if one


class Fleet:
    """A fleet repository: read-only for codemods, which return Changesets instead of writing."""

    def __init__(self, root: Path, policy: Policy, files: FileView) -> None:
        self.root = root
        self.policy = policy
        self.files = files

    @classmethod
    def open(cls, root: Path) -> Fleet:
        root = root.resolve()
        if not root.is_dir():
            raise InputError("fleet root is not a directory", root)
        return cls(root, load_policy(root), FileView(root))

    def with_contents(self, contents: Mapping[str, bytes | None]) -> Fleet:
        return Fleet(self.root, self.policy, self.files.with_contents(contents))

    # -------------------------------------------------------------- files
    def exists(self, rel: str) -> bool:
        return self.files.exists(rel)

    def read_bytes(self, rel: str) -> bytes:
        return self.files.read_bytes(rel)

    def yaml(self, rel: str) -> YamlEditor:
        """A fresh editor over the file's current content (parse errors are InputErrors)."""
        return YamlEditor(self.read_bytes(rel), rel)

    # -------------------------------------------------------------- what the layout describes
    @cached_property
    def cluster_entries(self) -> tuple[ClusterEntry, ...]:
        """Environments and their cluster types, from the cluster config files."""
        prefix = self.policy.layout.cluster_configs.rstrip("/") + "/"
        entries: list[ClusterEntry] = []
        for rel in self.files.glob(prefix + "*.yaml"):
            editor = self.yaml(rel)
            data = editor.data()
            if data is None:
                continue
            if not isinstance(data, list):
                raise InputError("expected a list of {cluster, clusterType, env, ...} entries", rel, 1)
            for index, item in enumerate(data):
                line = editor.line_of((index,))
                if not isinstance(item, dict) or not isinstance(item.get("env"), str):
                    raise InputError("cluster entry needs a string `env`", rel, line)
                cluster_type = item.get("clusterType")
                if not isinstance(cluster_type, str):
                    raise InputError(f"cluster entry for env `{item['env']}` needs a string `clusterType`", rel, line)
                entries.append(
                    ClusterEntry(
                        env=item["env"],
                        cluster_type=cluster_type,
                        cluster=_opt_str(item.get("cluster")),
                        namespace=_opt_str(item.get("namespace")),
                        source=rel,
                        line=line,
                    )
                )
        return tuple(entries)

    @cached_property
    def cluster_types(self) -> tuple[str, ...]:
        """Cluster types named by the policy, the cluster configs, or a cluster globals file."""
        names = set(self.policy.cluster_types) | {e.cluster_type for e in self.cluster_entries}
        template = self.policy.layout.cluster_globals
        for rel in self.files.glob(template.replace("{clusterType}", "*")):
            names.add(_placeholder_value(template, "{clusterType}", rel))
        return tuple(sorted(names))

    @cached_property
    def environments(self) -> Mapping[str, str | None]:
        """env → its cluster type (None when no cluster config names the env)."""
        envs: dict[str, str | None] = {}
        template = self.policy.layout.env_globals
        for rel in self.files.glob(template.replace("{env}", "*")):
            envs[_placeholder_value(template, "{env}", rel)] = None
        for entry in self.cluster_entries:
            known = envs.get(entry.env)
            if known is not None and known != entry.cluster_type:
                raise InputError(
                    f"env `{entry.env}` is on cluster type `{known}` in one cluster config and "
                    f"`{entry.cluster_type}` here",
                    entry.source,
                    entry.line,
                )
            envs[entry.env] = entry.cluster_type
        return dict(sorted(envs.items()))

    def globals_layers(self) -> list[GlobalsLayer]:
        """The globals files that exist, in layering order: base, then cluster types, then envs."""
        layout = self.policy.layout
        layers = [GlobalsLayer("base", "base", layout.base_globals, None)]
        layers += [GlobalsLayer("cluster", t, layout.cluster_globals_for(t), t) for t in self.cluster_types]
        layers += [
            GlobalsLayer("env", env, layout.env_globals_for(env), cluster_type)
            for env, cluster_type in self.environments.items()
        ]
        for layer in layers:
            if self.files.is_dir(layer.path):
                raise InputError("expected a globals file, found a directory", layer.path)
        return [layer for layer in layers if self.exists(layer.path)]


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _placeholder_value(template: str, placeholder: str, rel: str) -> str:
    before, _, after = template.partition(placeholder)
    return rel[len(before) : len(rel) - len(after)]
