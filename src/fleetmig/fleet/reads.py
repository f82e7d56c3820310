"""What a codemod read: lets a settling pass skip a codemod none of whose inputs changed.

While `recording()` is active, every read through a fleet view is noted: a file's content or
existence (`path`), a listing of the files matching a glob (`listing`: only creating or deleting a
matching file changes it), or the contents of every file matching a glob (`contents`, for facts a
view keeps between derived views, such as its releases). A codemod is a function of what it read,
so a codemod that found nothing to do still finds nothing while no change touches its reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache


class Reads:
    """One codemod run's reads. Globs are bucketed by the folder before their first wildcard, so
    matching a changed path costs its depth, not the number of globs read."""

    def __init__(self) -> None:
        self.paths: set[str] = set()
        self._listings: dict[str, dict[str, re.Pattern[str] | None]] = {}
        self._contents: dict[str, dict[str, re.Pattern[str] | None]] = {}

    def listing(self, pattern: str) -> None:
        _bucket(self._listings, pattern)

    def contents(self, pattern: str) -> None:
        _bucket(self._contents, pattern)

    def touched_by(self, changes: Mapping[str, bool]) -> bool:
        """Whether any change (path → created or deleted, rather than edited) affects these reads."""
        return any(
            rel in self.paths or _matches(self._contents, rel) or (created_or_deleted and _matches(self._listings, rel))
            for rel, created_or_deleted in changes.items()
        )


_current: Reads | None = None


@contextmanager
def recording() -> Iterator[Reads]:
    global _current
    outer, _current = _current, Reads()
    try:
        yield _current
    finally:
        _current = outer


def path(rel: str) -> None:
    if _current is not None:
        _current.paths.add(rel)


def listing(pattern: str) -> None:
    if _current is not None:
        _current.listing(pattern)


def contents(pattern: str) -> None:
    if _current is not None:
        _current.contents(pattern)


_WILDCARD = re.compile(r"[*?\[]")


@lru_cache(maxsize=16384)  # asked again for every glob a codemod reads
def literal_prefix(pattern: str) -> str:
    """What every path a glob matches starts with: the pattern up to its first wildcard."""
    return _WILDCARD.split(pattern, maxsplit=1)[0]


def _bucket(buckets: dict[str, dict[str, re.Pattern[str] | None]], pattern: str) -> None:
    literal = literal_prefix(pattern)
    folder = literal[: literal.rfind("/") + 1]
    # Compiled when a changed path is first tested against it: most reads are never tested, and a
    # large fleet's codemods read thousands of distinct globs (a few per chart).
    buckets.setdefault(folder, {}).setdefault(pattern, None)


def _matches(buckets: dict[str, dict[str, re.Pattern[str] | None]], rel: str) -> bool:
    if not buckets:
        return False
    folder = 0
    while True:
        bucket = buckets.get(rel[:folder])
        if bucket:
            everything = rel[:folder] + "**"  # a folder's `**`: every path in this bucket's folder
            for pattern, regex in bucket.items():
                if pattern == everything:
                    return True
                if regex is None:
                    regex = bucket[pattern] = glob_regex(pattern)
                if regex.match(rel):
                    return True
        folder = rel.find("/", folder) + 1
        if folder == 0:
            return False


@lru_cache(maxsize=4096)
def glob_regex(pattern: str) -> re.Pattern[str]:
    out = []
    segments = pattern.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            out.append(".*" if last else "(?:[^/]+/)*")
            continue
        out.append(re.sub(r"\\\*|\\\?", lambda m: "[^/]*" if m.group() == "\\*" else "[^/]", re.escape(segment)))
        if not last:
            out.append("/")
    return re.compile("".join(out) + r"\Z", re.DOTALL)
