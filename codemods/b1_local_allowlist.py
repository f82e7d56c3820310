"""B1: curate `environments/local/components/**` into the local allowlist the policy describes."""

from __future__ import annotations

from fleetmig.engine import Changeset, Codemod
from fleetmig.fleet.components import LOCAL_CLUSTER_TYPE, Component, omitted_components, parse_component
from fleetmig.fleet.model import Fleet

DESCRIPTOR = "component.yaml"


class LocalAllowlist(Codemod):
    """Make the local component set a real allowlist: real files, only what local may run.

    ## What it changes
    Works on `environments/local/components/**` (layout `localComponents`) against the canonical
    `environments/_shared/components/**`, for the cluster type `local`:

    - a descriptor the policy keeps off local (`clusterTypes.local.omit`, or a `capabilityGates`
      capability that is false on local) is deleted, so the ApplicationSet never generates it;
    - a symlinked descriptor becomes a real file with the content it points to;
    - a broken symlink is deleted when it stands for a component local must not run, and reported
      otherwise (its content is gone, fleetmig will not guess it);
    - a `_shared` component local may run but lacks is copied in, byte for byte, so wiring the
      local overlay to this folder (`b2-appset-wiring`) keeps every Application local has today;
    - a local copy that differs from `_shared` is left as it is and reported with the keys that differ.

    Azure keeps using `_shared`; nothing there changes.

    ## Why
    Local must install only the intended set of apps: unsupported components are not generated at
    all rather than installed and pruned (plan 519 §2 goal 2, §4.2, Phase B). Argo CD's git files
    generator does not handle symlinked descriptors reliably and a broken one fails the whole
    ApplicationSet (lint L2).

    ## Before
        environments/local/components/foundation/smokes/operators-smoke/component.yaml
            -> ../../../../../_shared/components/foundation/smokes/operators-smoke/component.yaml
        environments/local/components/platform/infrastructure/azure-dns-issuer/component.yaml

    ## After
        environments/local/components/foundation/smokes/operators-smoke/component.yaml   (a real file)
        (azure-dns-issuer removed: clusterTypes.local.omit lists it)
    """

    id = "b1-local-allowlist"
    phase = "B"
    title = "Curate environments/local/components into the local allowlist (real files only)"

    def apply(self, fleet: Fleet) -> Changeset:
        changeset = self.changeset()
        if LOCAL_CLUSTER_TYPE not in fleet.cluster_types:
            return changeset
        layout = fleet.policy.layout
        local_root = layout.local_components.rstrip("/")
        omitted = omitted_components(fleet.policy, LOCAL_CLUSTER_TYPE)
        shared = _by_suffix(fleet, layout.shared_components)
        optional = _by_suffix(fleet, layout.optional_components)
        local_names: set[str] = set()
        for rel in fleet.files.glob(f"{local_root}/**/{DESCRIPTOR}"):
            suffix = rel[len(local_root) + 1 :]
            link = fleet.files.link_target(rel)
            component = _read(fleet, rel, local_root) if fleet.exists(rel) else None
            known = component or shared.get(suffix) or _ending_with(optional, suffix)
            name = known.name if known else None
            if name is not None:
                local_names.add(name)
            if name in omitted:
                before = fleet.read_bytes(rel) if link is None else link.encode()
                changeset.delete(rel, before, f"local must not run `{name}`: {omitted[name]}")
            elif link is not None and component is not None:
                changeset.materialize(
                    rel, link, fleet.read_bytes(rel), "a real file instead of a symlink (Argo CD git files generator)"
                )
            elif link is not None:
                changeset.manual(
                    rel,
                    None,
                    f"broken symlink (-> {link}): Argo CD fails the whole ApplicationSet on it, and what it "
                    "should contain is gone; copy the right descriptor here or delete the link",
                )
            elif component is not None and suffix in shared:
                self._report_drift(fleet, rel, shared[suffix], changeset)
        for suffix, component in sorted(shared.items()):
            if component.name in omitted or component.name in local_names:
                continue
            changeset.create(
                f"{local_root}/{suffix}",
                fleet.read_bytes(component.path),
                f"local runs `{component.name}` today (through `_shared`); keep it once local reads its own set",
            )
        return changeset

    def _report_drift(self, fleet: Fleet, rel: str, canonical: Component, changeset: Changeset) -> None:
        mine, theirs = fleet.values(rel), fleet.values(canonical.path)
        if not isinstance(mine, dict) or not isinstance(theirs, dict) or mine == theirs:
            return
        keys = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
        changeset.manual(
            rel,
            1,
            f"differs from {canonical.path} in {', '.join(f'`{k}`' for k in keys)}; "
            "kept as is (local may differ on purpose: check it)",
        )


def _by_suffix(fleet: Fleet, root: str) -> dict[str, Component]:
    root = root.rstrip("/")
    out: dict[str, Component] = {}
    for rel in fleet.files.glob(f"{root}/**/{DESCRIPTOR}"):
        component = _read(fleet, rel, root) if fleet.exists(rel) else None
        if component is not None:
            out[rel[len(root) + 1 :]] = component
    return out


def _ending_with(components: dict[str, Component], suffix: str) -> Component | None:
    """The component at `suffix` below its root, wherever that root nests it (`_optional/components/…`)."""
    return next((c for key, c in components.items() if key == suffix or key.endswith("/" + suffix)), None)


def _read(fleet: Fleet, rel: str, root: str) -> Component:
    return parse_component(rel, fleet.values(rel), root)
