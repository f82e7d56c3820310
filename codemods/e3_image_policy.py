"""E3: image overrides are checked against the central image policy."""

from __future__ import annotations

from typing import Any

from fleetmig.engine import Changeset, Codemod
from fleetmig.fleet.components import Release
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.values import MISSING, coalesce, lookup

IMAGE = "image"


class ImagePolicy(Codemod):
    """Report image overrides that break the image policy or the repository/digest pairing.

    ## What it changes
    Nothing; it reports, per values file and line:

    - an overlay that sets `image.repository` while a lower layer pinned `image.digest` and this
      layer does not reset it: the digest of one repository would be applied to another (lint L3);
    - for releases of wrapped vendored charts, an image repository that contradicts
      `global.ameide.images.policy` of the release's cluster type: a mirror image where the policy
      says upstream, or an upstream image where it says `preferMirror` (the mirror path is
      `<mirrorRegistry>/<upstream name>`, the upstream one is the vendored chart's default).

    Rewriting the repositories is left to a human on purpose: Helm values are static and the
    ApplicationSets layer component values per environment, not per cluster type, so there is no
    single place a wrapper can derive the per-cluster-type image from the policy; an automatic fix
    would only move the ad-hoc per-environment pins around.

    ## Why
    The mirror-or-upstream decision and the multi-arch requirement belong to one policy per cluster
    type (plan 519 §2 goal 6, Phase E), and a repository override must never inherit another
    repository's digest.

    ## Before
        # _shared: repository: ghcr.io/ameideio/mirror/backstage, digest: sha256:…
        # env/local:
        image:
          repository: ghcr.io/backstage/backstage

    ## After
        (unchanged; reported: set or reset `image.digest` in the same layer)
    """

    id = "e3-image-policy"
    phase = "E"
    title = "Image overrides follow the image policy and never inherit another repository's digest"

    def apply(self, fleet: Fleet) -> Changeset:
        changeset = self.changeset()
        seen: set[tuple[str, tuple[str, ...]]] = set()
        # A layer's image blocks, found once: globals and shared files are layered into many releases.
        blocks: dict[str, list[tuple[str, ...]]] = {}
        for release in fleet.releases:
            self._digest_pairing(fleet, release, seen, blocks, changeset)
            self._policy(fleet, release, seen, changeset)
        return changeset

    def _policy(
        self, fleet: Fleet, release: Release, seen: set[tuple[str, tuple[str, ...]]], changeset: Changeset
    ) -> None:
        rules = fleet.policy.cluster_types.get(release.cluster_type)
        mirror = fleet.policy.mirror_registry
        if rules is None or rules.prefer_mirror is None or not mirror or not _wraps_vendored(fleet, release):
            return
        merged = fleet.release_values(release)
        for path in _image_blocks(merged):
            repository = lookup(merged, (*path, "repository"))
            if not isinstance(repository, str) or not repository:
                continue
            mirrored = repository.startswith(mirror.rstrip("/") + "/")
            if mirrored == rules.prefer_mirror:
                continue
            where = next(
                (
                    f
                    for f in reversed(release.value_files)
                    if fleet.exists(f) and lookup(fleet.values(f), (*path, "repository")) == repository
                ),
                None,
            )
            if where is None or (where, path) in seen:
                continue
            seen.add((where, path))
            wanted = "the mirror" if rules.prefer_mirror else "upstream images"
            setting = f"clusterTypes.{release.cluster_type}.images.preferMirror: {str(rules.prefer_mirror).lower()}"
            changeset.manual(
                where,
                fleet.yaml(where).line_of((*path, "repository")),
                f"`{repository}` for {release.label}, but the image policy of `{release.cluster_type}` prefers "
                f"{wanted} ({setting})",
            )

    def _digest_pairing(
        self,
        fleet: Fleet,
        release: Release,
        seen: set[tuple[str, tuple[str, ...]]],
        blocks: dict[str, list[tuple[str, ...]]],
        changeset: Changeset,
    ) -> None:
        files = [f for f in release.value_files if fleet.exists(f)]
        defaults = f"{release.component.chart_path}/values.yaml"
        layers: list[tuple[str, Any]] = [(defaults, fleet.values(defaults))] if fleet.exists(defaults) else []
        layers += [(rel, fleet.values(rel)) for rel in files]
        for index, (rel, data) in enumerate(layers):
            if index == 0 or not isinstance(data, dict):
                continue
            lower: dict[str, Any] | None = None
            if rel not in blocks:
                blocks[rel] = _image_blocks(data)
            for path in blocks[rel]:
                block = lookup(data, path)
                if "repository" not in block or "digest" in block or (rel, path) in seen:
                    continue
                if lower is None:  # merged only for a layer that overrides a repository
                    lower = coalesce([d for _, d in layers[:index] if isinstance(d, dict)])
                pinned = lookup(lower, (*path, "digest"))
                if pinned is MISSING or not pinned or lookup(lower, (*path, "repository")) == block["repository"]:
                    continue
                seen.add((rel, path))
                changeset.manual(
                    rel,
                    fleet.yaml(rel).line_of((*path, "repository")),
                    f"`{'.'.join(path)}.repository` is overridden here but `{'.'.join(path)}.digest` from a lower "
                    f"layer is kept, so the digest of `{lookup(lower, (*path, 'repository'))}` would be pulled from "
                    f"`{block['repository']}`; set or reset `digest` in this layer",
                )


def _wraps_vendored(fleet: Fleet, release: Release) -> bool:
    """The release deploys a vendored chart, directly or through a wrapper's `file://` dependency."""
    chart = release.component.chart_path or ""
    third_party = fleet.policy.layout.third_party.rstrip("/")
    if chart.startswith(third_party + "/"):
        return True
    meta = fleet.values(f"{chart}/Chart.yaml") if fleet.exists(f"{chart}/Chart.yaml") else None
    return any(
        "/" + third_party.rsplit("/", 1)[-1] + "/" in str(d.get("repository", ""))
        for d in (meta or {}).get("dependencies") or []
        if isinstance(d, dict)
    )


def _image_blocks(data: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths of every mapping named `image` (at any depth)."""
    found: list[tuple[str, ...]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key == IMAGE and isinstance(value, dict):
                found.append((*path, key))
            elif isinstance(value, dict):
                found += _image_blocks(value, (*path, str(key)))
    return found
