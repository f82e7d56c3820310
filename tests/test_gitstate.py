"""Which of the files a run would touch hold uncommitted changes, in a fleet that is a subfolder."""

from __future__ import annotations

from pathlib import Path

import git

from fleetmig.engine.gitstate import dirty_paths


def test_modified_staged_renamed_and_untracked_files_are_dirty_clean_ones_are_not(tmp_path: Path) -> None:
    repo = git.Repo.init(tmp_path)
    root = tmp_path / "fleets" / "one"
    for name in ("clean.yaml", "modified.yaml", "staged.yaml", "moved-from.yaml"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(f"{name}: 1\n")
    (tmp_path / "outside.yaml").write_text("a: 1\n")
    repo.index.add([str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.yaml")])
    repo.index.commit("fleet", author=git.Actor("t", "t@example.com"))
    (root / "modified.yaml").write_text("changed: 1\n")
    (root / "staged.yaml").write_text("changed: 1\n")
    repo.index.add(["fleets/one/staged.yaml"])
    repo.git.mv("fleets/one/moved-from.yaml", "fleets/one/moved-to.yaml")
    (root / "untracked.yaml").write_text("new: 1\n")
    (tmp_path / "outside.yaml").write_text("changed: 1\n")
    asked = ["clean.yaml", "modified.yaml", "staged.yaml", "moved-from.yaml", "moved-to.yaml", "untracked.yaml"]
    assert dirty_paths(root, asked) == [
        "modified.yaml",
        "moved-from.yaml",
        "moved-to.yaml",
        "staged.yaml",
        "untracked.yaml",
    ]
    assert dirty_paths(root, ["clean.yaml"]) == []
