"""FileView against plain readings: its globs (`**` spans folders, `*` and `?` do not), the reads a
glob notes, and views derived change by change."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from fleetmig.fleet import files as files_module
from fleetmig.fleet import reads
from fleetmig.fleet.files import FileView

NOTHING_ON_DISK = Path("/nonexistent")  # every file comes from the overlay
_segment = st.text(alphabet="ab.-", min_size=1, max_size=3)
_paths = st.lists(st.lists(_segment, min_size=1, max_size=4).map("/".join), max_size=25)
_pattern_segment = st.one_of(_segment, st.sampled_from(["*", "?", "a*", "*.a", "**"]))
_patterns = st.lists(_pattern_segment, min_size=1, max_size=4).map("/".join)


def _matches(pattern: list[str], path: list[str]) -> bool:
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        if not rest:
            return bool(path)  # a final `**` is everything below the folder
        return any(_matches(rest, path[skip:]) for skip in range(len(path) + 1))
    return bool(path) and fnmatch.fnmatchcase(path[0], head) and _matches(rest, path[1:])


@given(_paths, _patterns)
def test_glob_matches_what_the_glob_says(paths: list[str], pattern: str) -> None:
    # A path cannot also be a folder of another path on a real disk.
    files = sorted({p for p in paths if not any(other.startswith(p + "/") for other in paths)})
    view = FileView(NOTHING_ON_DISK, dict.fromkeys(files, b""))
    expected = [p for p in files if _matches(pattern.split("/"), p.split("/"))]
    assert view.glob(pattern) == expected


def test_a_folders_double_star_is_everything_below_it() -> None:
    view = FileView(NOTHING_ON_DISK, dict.fromkeys(["c/templates/a.yaml", "c/templates/x/b.tpl", "c/v.yaml"], b""))
    assert view.glob("c/templates/**") == ["c/templates/a.yaml", "c/templates/x/b.tpl"]
    assert view.glob("c/t**") == []
    assert view.glob("**") == ["c/templates/a.yaml", "c/templates/x/b.tpl", "c/v.yaml"]


@given(_paths, st.lists(_patterns, min_size=1, max_size=3))
def test_a_listing_read_is_touched_by_what_its_globs_match(paths: list[str], patterns: list[str]) -> None:
    seen = reads.Reads()
    for pattern in patterns:
        seen.listing(pattern)
    for path in paths:
        expected = any(_matches(pattern.split("/"), path.split("/")) for pattern in patterns)
        assert seen.touched_by({path: True}) == expected


_change = st.tuples(st.lists(_segment, min_size=1, max_size=3).map("/".join), st.sampled_from([b"", b"x", None]))


@given(_paths, st.lists(st.lists(_change, max_size=4), max_size=8), st.integers(min_value=0, max_value=4))
def test_a_derived_view_reads_as_one_made_with_every_change(
    paths: list[str], steps: list[list[tuple[str, bytes | None]]], fold_at: int
) -> None:
    files = sorted({p for p in paths if not any(other.startswith(p + "/") for other in paths)})
    original = files_module._FOLD_AT
    files_module._FOLD_AT = fold_at  # fold pending changes into a new base often, as a long run does
    try:
        view = FileView(NOTHING_ON_DISK, dict.fromkeys(files, b"disk"))
        view.files()  # derived views then patch the listing instead of building it
        merged: dict[str, bytes | None] = dict.fromkeys(files, b"disk")
        for step in steps:
            view = view.with_contents(dict(step))
            merged.update(step)
    finally:
        files_module._FOLD_AT = original
    fresh = FileView(NOTHING_ON_DISK, merged)
    assert view.files() == fresh.files()
    for rel in merged:
        assert view.exists(rel) == fresh.exists(rel)
        if fresh.exists(rel):
            assert view.read_bytes(rel) == fresh.read_bytes(rel)
    assert view.glob("**") == fresh.glob("**")
