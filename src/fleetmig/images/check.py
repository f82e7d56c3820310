"""`fleetmig check images`: is every container image multi-arch where the policy requires it?

The images are the ones Argo CD would deploy, so they come from real Helm renders of every release
(owned and vendored charts) on the selected cluster types, not from values files: a chart may build
the reference from several keys, pin a digest, or add init containers. Releases the policy keeps off
a cluster type (`omit`, capability gates) deploy nothing there and are skipped. An image is checked
when a cluster type it runs on sets `images.requireMultiArch: true`; it is multi-arch when the
registry serves an index (OCI) or manifest list (Docker) with both linux/amd64 and linux/arm64, the
rule of gitops-facts §6 (fleets run arm64 dev clusters beside amd64 cloud clusters).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from fleetmig.errors import InputError
from fleetmig.fleet.components import omitted_components
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.render import RenderFailed, manifests, render_release
from fleetmig.images.cache import PlatformCache, inspect
from fleetmig.images.refs import ImageRef, InvalidReference, parse_ref
from fleetmig.images.registry import Inspection, Platform, RegistryClient

Verdict = Literal["multi-arch", "single-arch", "unknown", "not-checked"]
REQUIRED_PLATFORMS = (Platform("linux", "amd64"), Platform("linux", "arm64"))
CONTAINER_FIELDS = ("initContainers", "containers", "ephemeralContainers")
# Where workload kinds keep their pod template: Deployment, StatefulSet, DaemonSet, ReplicaSet, Job
# (and CRDs such as Argo Rollouts that follow the convention); CronJob one level deeper.
POD_TEMPLATE_PATHS = (("spec", "template", "spec"), ("spec", "jobTemplate", "spec", "template", "spec"))
# Lookups wait on the network, not the CPU; a few in flight keep a fleet of images quick.
LOOKUP_THREADS = 8


@dataclass(frozen=True, order=True)
class ImageUse:
    release: str  # component@env (or @clusterType for cluster-scoped components)
    cluster_type: str


@dataclass(frozen=True)
class ImageResult:
    image: str  # fully qualified when it parses, else as written
    uses: tuple[ImageUse, ...]
    verdict: Verdict
    reason: str | None  # why the verdict, for every verdict but multi-arch
    platforms: tuple[str, ...] = ()
    media_type: str | None = None
    digest: str | None = None
    cached: bool = False

    @property
    def problem(self) -> bool:
        return self.verdict in ("single-arch", "unknown")


@dataclass(frozen=True)
class Unrendered:
    release: str
    cluster_type: str
    error: str
    required: bool  # on a cluster type that requires multi-arch: its images are unverified


@dataclass(frozen=True)
class ImagesReport:
    cluster_types: tuple[str, ...]
    required: tuple[str, ...]  # the selected cluster types with images.requireMultiArch: true
    images: tuple[ImageResult, ...]
    unrendered: tuple[Unrendered, ...]

    @property
    def ok(self) -> bool:
        return not any(image.problem for image in self.images) and not any(u.required for u in self.unrendered)


def check_images(fleet: Fleet, only: str | None, client: RegistryClient, cache: PlatformCache) -> ImagesReport:
    """Render, collect, and check the fleet's images on `only` (or every cluster type)."""
    selected = _cluster_types(fleet, only)
    required = tuple(t for t in selected if _requires_multi_arch(fleet, t))
    uses: dict[str, set[ImageUse]] = {}
    refs: dict[str, ImageRef | InvalidReference] = {}
    unrendered: list[Unrendered] = []
    for release in fleet.releases:
        if release.cluster_type not in selected or release.component.chart_path is None:
            continue
        if release.component.name in omitted_components(fleet.policy, release.cluster_type):
            continue
        try:
            objects = manifests(render_release(fleet, release))
        except (RenderFailed, yaml.YAMLError) as error:
            blocking = release.cluster_type in required
            unrendered.append(Unrendered(release.label, release.cluster_type, str(error), blocking))
            continue
        for text in {image for obj in objects for image in container_images(obj)}:
            try:
                ref: ImageRef | InvalidReference = parse_ref(text)
            except InvalidReference as error:
                ref = error
            key = text if isinstance(ref, InvalidReference) else str(ref)
            refs[key] = ref
            uses.setdefault(key, set()).add(ImageUse(release.label, release.cluster_type))

    wanted = {key for key, used in uses.items() if any(use.cluster_type in required for use in used)}
    lookups = {key: ref for key, ref in refs.items() if key in wanted and isinstance(ref, ImageRef)}
    with ThreadPoolExecutor(max_workers=LOOKUP_THREADS) as pool:
        answers = dict(zip(lookups, pool.map(lambda ref: inspect(ref, client, cache), lookups.values()), strict=True))
    cache.save()

    results = []
    for key in sorted(uses):
        used = tuple(sorted(uses[key]))
        ref = refs[key]
        if key not in wanted:
            results.append(ImageResult(key, used, "not-checked", "no cluster type it runs on requires multi-arch"))
        elif isinstance(ref, InvalidReference):
            results.append(ImageResult(key, used, "unknown", str(ref)))
        else:
            results.append(_judged(key, used, answers[key]))
    return ImagesReport(tuple(selected), required, tuple(results), tuple(unrendered))


def container_images(obj: Any) -> Iterator[str]:
    """The `image` of every container, init and ephemeral container of a Pod or a pod template."""
    if not isinstance(obj, dict):
        return
    specs = [obj.get("spec")] if obj.get("kind") == "Pod" else [_dig(obj, path) for path in POD_TEMPLATE_PATHS]
    for spec in specs:
        if not isinstance(spec, dict):
            continue
        for name in CONTAINER_FIELDS:
            containers = spec.get(name)
            for container in containers if isinstance(containers, list) else []:
                image = container.get("image") if isinstance(container, dict) else None
                if isinstance(image, str):
                    yield image.strip()


def _judged(image: str, uses: tuple[ImageUse, ...], answer: Inspection) -> ImageResult:
    if answer.state != "ok":
        return ImageResult(image, uses, "unknown", f"{answer.state}: {answer.reason}")
    platforms = tuple(str(p) for p in answer.platforms)
    found = {(p.os, p.architecture) for p in answer.platforms}
    missing = [str(p) for p in REQUIRED_PLATFORMS if (p.os, p.architecture) not in found]
    verdict: Verdict = "single-arch"
    reason: str | None
    if not answer.is_index:
        reason = f"a single-platform manifest ({', '.join(platforms)}), not an index or manifest list"
    elif missing:
        reason = f"the index has no {' or '.join(missing)}"
    else:
        verdict, reason = "multi-arch", None
    return ImageResult(image, uses, verdict, reason, platforms, answer.media_type, answer.digest, answer.cached)


def _cluster_types(fleet: Fleet, only: str | None) -> list[str]:
    if only is None:
        return list(fleet.cluster_types)
    if only not in fleet.cluster_types:
        raise InputError(f"unknown cluster type `{only}`; the fleet has {', '.join(fleet.cluster_types)}")
    return [only]


def _requires_multi_arch(fleet: Fleet, cluster_type: str) -> bool:
    rules = fleet.policy.cluster_types.get(cluster_type)
    return rules is not None and rules.require_multi_arch is True


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data
