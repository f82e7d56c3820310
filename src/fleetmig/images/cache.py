"""Platform answers cached by manifest digest, in `$XDG_CACHE_HOME/fleetmig/images.json`.

A digest names immutable content, so what it says about platforms never changes: a reference pinned
with `@sha256:…` is answered from the cache without touching the network, and a tag costs one `HEAD`
(tags move, so they are always resolved) before the per-digest answer is reused. Only successful
answers are stored; failures are retried on the next run. The file is a cache: if it is unreadable
or from another version it is ignored and rebuilt, and if it cannot be written the check still
stands.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from fleetmig.images.refs import ImageRef
from fleetmig.images.registry import Inspection, Platform, RegistryClient

CACHE_VERSION = 1
CACHE_FILE = "images.json"


def default_cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fleetmig" / CACHE_FILE


class PlatformCache:
    """digest -> (media type, platforms); safe to use from several lookup threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries = _load(path)
        self._dirty = False
        self._lock = threading.Lock()

    def get(self, digest: str) -> Inspection | None:
        with self._lock:
            entry = self._entries.get(digest)
        if entry is None:
            return None
        media_type, platforms = entry
        return Inspection("ok", digest, media_type, platforms, cached=True)

    def put(self, inspection: Inspection) -> None:
        if inspection.state != "ok" or inspection.digest is None or inspection.media_type is None:
            return
        with self._lock:
            self._entries[inspection.digest] = (inspection.media_type, inspection.platforms)
            self._dirty = True

    def save(self) -> None:
        """Write the file if anything was added (atomically: concurrent runs never see half a file)."""
        with self._lock:
            if not self._dirty:
                return
            payload = {
                "version": CACHE_VERSION,
                "digests": {
                    digest: {"mediaType": media_type, "platforms": [str(p) for p in platforms]}
                    for digest, (media_type, platforms) in sorted(self._entries.items())
                },
            }
            staged: Path | None = None
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with tempfile.NamedTemporaryFile(
                    "w", encoding="utf-8", dir=self.path.parent, prefix=".images-", delete=False
                ) as handle:
                    staged = Path(handle.name)
                    json.dump(payload, handle, indent=1)
                os.replace(staged, self.path)
            except OSError:
                # A read-only or full cache directory costs only speed on the next run.
                if staged is not None:
                    staged.unlink(missing_ok=True)
                return
            self._dirty = False


def inspect(ref: ImageRef, client: RegistryClient, cache: PlatformCache) -> Inspection:
    """The registry's answer for `ref`, through the digest cache."""
    digest = ref.digest if ref.pinned else client.digest(ref)
    cached = cache.get(digest) if digest is not None else None
    if cached is not None:
        return cached
    inspection = client.inspect(ref)
    cache.put(inspection)
    return inspection


def _load(path: Path) -> dict[str, tuple[str, tuple[Platform, ...]]]:
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(document, dict) or document.get("version") != CACHE_VERSION:
        return {}
    digests = document.get("digests")
    entries = {}
    for digest, entry in (digests if isinstance(digests, dict) else {}).items():
        media_type = entry.get("mediaType") if isinstance(entry, dict) else None
        platforms = entry.get("platforms") if isinstance(entry, dict) else None
        if isinstance(media_type, str) and isinstance(platforms, list) and all(isinstance(p, str) for p in platforms):
            entries[digest] = (media_type, tuple(Platform.parse(p) for p in platforms))
    return entries
