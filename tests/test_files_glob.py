"""FileView.glob against a plain reading of its globs: `**` spans folders, `*` and `?` do not."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

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
