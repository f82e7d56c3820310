"""Where the shipped `codemods/` and `templates/` live: inside the installed package, or in the source tree."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    """`codemods` or `templates`: force-included into the wheel, top-level folders in a checkout."""
    installed = _PACKAGE / name
    if installed.is_dir():
        return installed
    source_tree = _PACKAGE.parent.parent / name
    if source_tree.is_dir():
        return source_tree
    raise FileNotFoundError(f"fleetmig is installed without its `{name}/` folder (looked in {installed})")
