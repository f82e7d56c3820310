"""The fleet a codemod sees: its policy, its files (with pending changes) and what they describe."""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from fleetmig.edit.yaml import YamlEditor
from fleetmig.errors import InputError
from fleetmig.fleet import reads
from fleetmig.fleet.components import LOCAL_CLUSTER_TYPE, Component, Release, parse_component
from fleetmig.fleet.files import FileView, under
from fleetmig.fleet.inherited import Inherited
from fleetmig.fleet.policy import CLUSTER_TYPE_PLACEHOLDER, ENV_PLACEHOLDER, Policy, load_policy
from fleetmig.fleet.values import coalesce, load_values

LayerKind = Literal["base", "cluster", "env"]


@dataclass(frozen=True)
class ClusterEntry:
    """One entry of `config/clusters/*.yaml`: an environment on a cluster of some type."""

    env: str
    cluster_type: str
    cluster: str | None
    namespace: str | None
    node_profile: str | None
    source: str
    line: int


@dataclass(frozen=True)
class GlobalsLayer:
    """A fleet-wide globals file at one layer of the values stack."""

    kind: LayerKind
    name: str  # "base", the cluster type, or the environment
    path: str
    cluster_type: str | None  # the cluster type every release reading this file runs on, if one


_SHAPE = ("_cluster_entries", "_cluster_types", "_environments", "_releases", "_release_index")  # cached properties


class Fleet:
    """A fleet repository: read-only for codemods, which return Changesets instead of writing."""

    def __init__(self, root: Path, policy: Policy, files: FileView) -> None:
        self.root = root
        self.policy = policy
        self.files = files
        self._plain: Inherited[str, Any] = Inherited()
        self._release_values: Inherited[Release, dict[str, Any]] = Inherited()

    @classmethod
    def open(cls, root: Path) -> Fleet:
        root = root.resolve()
        if not root.is_dir():
            raise InputError("fleet root is not a directory", root)
        return cls(root, load_policy(root), FileView(root))

    def with_contents(self, contents: Mapping[str, bytes | None]) -> Fleet:
        view = Fleet(self.root, self.policy, self.files.with_contents(contents))
        # Files the change leaves alone keep their parsed data (a run parses each content once), and
        # releases whose values files it leaves alone keep their merged values.
        view._plain = Inherited(self._plain, lambda rel: rel not in contents)
        view._release_values = Inherited(
            self._release_values, lambda release: not any(rel in contents for rel in _layer_files(release))
        )
        # So does the fleet's shape (releases, environments, cluster types) when the change neither
        # touches a cluster config nor creates or deletes a file: codemods derive a view per chart or
        # release they check, and recomputing it each time is quadratic. An edited descriptor that
        # only points its component at another chart (a wrapper) patches the releases in place.
        layout = self.policy.layout
        roots = under(layout.shared_components, layout.local_components)
        descriptors = [rel for rel in contents if rel.startswith(roots) and rel.endswith("/component.yaml")]
        for rel, content in contents.items():
            created_or_deleted = (content is None) == self.files.exists(rel)
            if rel.startswith(layout.cluster_configs.rstrip("/") + "/") or (
                created_or_deleted
                and (rel in descriptors or any(reads.glob_regex(g).match(rel) for g in layout.globals_globs))
            ):
                return view
        for name in _SHAPE:
            if name in self.__dict__:
                view.__dict__[name] = self.__dict__[name]
        if descriptors and "_releases" in self.__dict__:
            view.__dict__.pop("_releases")
            view.__dict__.pop("_release_index", None)
            patched = _repointed(view, self._releases, self._release_index, descriptors, roots)
            if patched is not None:
                view.__dict__["_releases"], view.__dict__["_release_index"] = patched
        return view

    # -------------------------------------------------------------- files
    def exists(self, rel: str) -> bool:
        return self.files.exists(rel)

    def read_bytes(self, rel: str) -> bytes:
        return self.files.read_bytes(rel)

    def yaml(self, rel: str) -> YamlEditor:
        """A fresh editor over the file's current content (parse errors are InputErrors)."""
        return YamlEditor(self.read_bytes(rel), rel)

    def values(self, rel: str) -> Any:
        """A values (or any single-document YAML) file as plain data, parsed once per fleet view."""
        reads.path(rel)  # also when parsed already: the caller depends on it all the same
        try:
            return self._plain[rel]
        except KeyError:
            data = self._plain[rel] = load_values(self.read_bytes(rel), rel)
            return data

    def adopt(self, parsed: Mapping[str, Any]) -> None:
        """Take values files parsed elsewhere (another process, from the same files) as parsed here."""
        for rel, data in parsed.items():
            self._plain[rel] = data

    def data_files(self) -> list[str]:
        """The YAML files fleetmig reads as data: values at every layer, descriptors, chart
        metadata and defaults (not templates)."""
        layout = self.policy.layout
        roots = under(*layout.descriptors_and_values, *layout.owned_charts)
        return [
            rel
            for rel in self.files.files()
            if rel.startswith(roots) and rel.endswith((".yaml", ".yml")) and "/templates/" not in rel
        ]

    # -------------------------------------------------------------- what the layout describes
    # The shape is computed once and handed on to derived views, so reading it notes all of its
    # inputs each time: the cluster configs, the descriptors and which globals files exist.
    @property
    def cluster_entries(self) -> tuple[ClusterEntry, ...]:
        self._note_shape()
        return self._cluster_entries

    @property
    def cluster_types(self) -> tuple[str, ...]:
        self._note_shape()
        return self._cluster_types

    @property
    def environments(self) -> Mapping[str, str | None]:
        self._note_shape()
        return self._environments

    @property
    def releases(self) -> tuple[Release, ...]:
        self._note_shape()
        return self._releases

    def releases_of_chart(self, chart: str) -> tuple[Release, ...]:
        """The releases deploying `chart`; this and the next two are indexes, as codemods ask per
        chart, component or file, and scanning every release each time is quadratic."""
        return self._indexed(self._release_index.by_chart.get(chart, ()))

    def releases_named(self, *names: str) -> tuple[Release, ...]:
        """The releases of the components called `names` (one per environment or cluster type)."""
        by_name = self._release_index.by_name
        return self._indexed(sorted(n for name in names for n in by_name.get(name, ())))

    def releases_reading(self, rel: str) -> tuple[Release, ...]:
        """The releases that layer the values file `rel`."""
        return self._indexed(self._release_index.by_values_file.get(rel, ()))

    def _indexed(self, positions: Iterable[int]) -> tuple[Release, ...]:
        releases = self.releases  # notes the shape
        return tuple(releases[n] for n in positions)

    @cached_property
    def _release_index(self) -> _ReleaseIndex:
        index = _ReleaseIndex({}, {}, {})
        for n, release in enumerate(self._releases):
            if release.component.chart_path:
                index.by_chart.setdefault(release.component.chart_path, []).append(n)
            index.by_name.setdefault(release.component.name, []).append(n)
            for rel in release.value_files:
                index.by_values_file.setdefault(rel, []).append(n)
        return index

    def _note_shape(self) -> None:
        layout = self.policy.layout
        reads.contents(layout.cluster_configs.rstrip("/") + "/*.yaml")
        for root in (layout.shared_components, layout.local_components):
            reads.contents(root.rstrip("/") + "/**/component.yaml")
        for glob in layout.globals_globs:
            reads.listing(glob)

    @cached_property
    def _cluster_entries(self) -> tuple[ClusterEntry, ...]:
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
                        node_profile=_opt_str(item.get("nodeProfile")),
                        source=rel,
                        line=line,
                    )
                )
        return tuple(entries)

    @cached_property
    def _cluster_types(self) -> tuple[str, ...]:
        """Cluster types named by the policy, the cluster configs, or a cluster globals file."""
        names = set(self.policy.cluster_types) | {e.cluster_type for e in self.cluster_entries}
        template = self.policy.layout.cluster_globals
        for rel in self.files.glob(self.policy.layout.cluster_globals_glob):
            names.add(_placeholder_value(template, CLUSTER_TYPE_PLACEHOLDER, rel))
        return tuple(sorted(names))

    @cached_property
    def _environments(self) -> Mapping[str, str | None]:
        """env → its cluster type (None when no cluster config names the env)."""
        envs: dict[str, str | None] = {}
        template = self.policy.layout.env_globals
        for rel in self.files.glob(self.policy.layout.env_globals_glob):
            envs[_placeholder_value(template, ENV_PLACEHOLDER, rel)] = None
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

    # -------------------------------------------------------------- components and releases
    def components_under(self, root: str) -> tuple[Component, ...]:
        """Descriptors under `root` that can be read (a broken symlink is phase B's finding)."""
        prefix = root.rstrip("/") + "/"
        components: dict[str, Component] = {}
        for rel in self.files.glob(prefix + "**/component.yaml"):
            if not self.exists(rel):
                continue
            component = parse_component(rel, self.values(rel), root)
            first = components.setdefault(component.name, component)
            if first is not component:
                line = next(
                    (n for n, text in enumerate(self.read_bytes(rel).splitlines(), 1) if text.startswith(b"name:")), 1
                )
                raise InputError(
                    f"component `{component.name}` is also defined by {first.path}: Argo CD would generate "
                    "two Applications with one name and fail the whole ApplicationSet",
                    rel,
                    line,
                )
        return tuple(components.values())

    @cached_property
    def _releases(self) -> tuple[Release, ...]:
        """Every Application the ApplicationSets generate, with its values files in layering order."""
        layout = self.policy.layout
        shared = self.components_under(layout.shared_components)
        local = self.components_under(layout.local_components)
        profiles = posixpath.join(posixpath.dirname(layout.cluster_configs.rstrip("/")), "node-profiles")
        out: list[Release] = []
        for cluster_type in self.cluster_types:
            for component in shared:
                if component.scope == "cluster":
                    files = [
                        layout.cluster_globals_for(cluster_type),
                        f"{layout.shared_values}/{CLUSTER_BAND_VALUES}/{component.name}.yaml",
                        *component.extra_value_files,
                    ]
                    out.append(Release(component, None, cluster_type, tuple(files)))
        for entry in self.cluster_entries:
            chosen = local if entry.cluster_type == LOCAL_CLUSTER_TYPE and local else shared
            for component in chosen:
                if component.scope != "env":
                    continue
                files = [
                    layout.base_globals,
                    layout.cluster_globals_for(entry.cluster_type),
                    layout.env_globals_for(entry.env),
                    *([f"{profiles}/{entry.node_profile}.yaml"] if entry.node_profile else []),
                    f"{layout.shared_values}/{component.domain}/{component.name}.yaml",
                    layout.env_values_for(entry.env, component.domain, component.name),
                    *(v.replace("{{ .env }}", entry.env) for v in component.extra_value_files),
                ]
                out.append(Release(component, entry.env, entry.cluster_type, tuple(files)))
        return tuple(out)

    def release_values(self, release: Release) -> dict[str, Any]:
        """What the release's chart sees as `.Values` (chart defaults, then every values file).

        Computed once per fleet view and shared: copy it before changing it."""
        for rel in _layer_files(release):
            reads.path(rel)
        try:
            return self._release_values[release]
        except KeyError:
            merged = self._release_values[release] = coalesce(self._mapping(rel) for rel in _layer_files(release))
            return merged

    def _mapping(self, rel: str) -> dict[str, Any] | None:
        if not self.exists(rel):
            return None
        data = self.values(rel)
        if data is not None and not isinstance(data, dict):
            raise InputError("a values file must be a mapping at the top level", rel, 1)
        return data


CLUSTER_BAND_VALUES = "cluster"


@dataclass(frozen=True)
class _ReleaseIndex:
    """Positions in `Fleet.releases` (lists in release order) by chart, component name, values file."""

    by_chart: dict[str, list[int]]
    by_name: dict[str, list[int]]
    by_values_file: dict[str, list[int]]


def _repointed(
    view: Fleet, releases: tuple[Release, ...], index: _ReleaseIndex, descriptors: list[str], roots: tuple[str, ...]
) -> tuple[tuple[Release, ...], _ReleaseIndex] | None:
    """`releases` and their index with the edited descriptors' components re-read, when nothing but
    their chart changed (None otherwise: the name, scope, domain or values files decide which
    releases exist)."""
    out = list(releases)
    by_chart = index.by_chart.copy()
    for rel in descriptors:
        root = next(root for root in roots if rel.startswith(root))
        component = parse_component(rel, view.values(rel), root)
        for n in index.by_name.get(component.name, ()):
            old = releases[n].component
            if old.path != rel:
                continue
            if dataclasses.replace(component, chart_path=old.chart_path) != old:
                return None
            out[n] = dataclasses.replace(releases[n], component=component)
            if old.chart_path:
                by_chart[old.chart_path] = [m for m in by_chart[old.chart_path] if m != n]
            if component.chart_path:
                by_chart[component.chart_path] = sorted([*by_chart.get(component.chart_path, ()), n])
    return tuple(out), dataclasses.replace(index, by_chart=by_chart)


def _layer_files(release: Release) -> tuple[str, ...]:
    """The files a release's values are merged from: the chart's defaults, then its values files."""
    chart = release.component.chart_path
    return (f"{chart}/values.yaml", *release.value_files) if chart else release.value_files


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _placeholder_value(template: str, placeholder: str, rel: str) -> str:
    before, _, after = template.partition(placeholder)
    return rel[len(before) : len(rel) - len(after)]
