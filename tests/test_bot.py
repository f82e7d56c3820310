"""Issue 13: `fleetmig bot run` over several fleet repositories with real git and local bare remotes:
stacked phase branches, idempotent re-runs, a moved base, a human's commit, nothing left to do,
failures that stay local to one repository, sharding, and the PR bodies."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from fleetmig.bot.prbody import state_of
from fleetmig.bot.repos import RepoSpec, shard
from fleetmig.engine import registry
from fleetmig.fleet.demo import write_demo

from .test_cli import fleetmig

BOT = "Fleet Bot <bot@fleetmig.invalid>"
HUMAN = ("-c", "user.name=Human", "-c", "user.email=human@example.com")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def make_remote(tmp: Path, name: str) -> Path:
    """A bare repository holding the demo fleet on `main`, as a hosting service would."""
    source = tmp / "sources" / name
    write_demo(source)
    remote = tmp / "remotes" / f"{name}.git"
    remote.parent.mkdir(parents=True, exist_ok=True)
    git(tmp, "clone", "--quiet", "--bare", str(source), str(remote))
    return remote


def bot(workdir: Path, *args: str | Path) -> tuple[int, dict[str, Any]]:
    result = fleetmig("bot", "run", "--workdir", workdir, "--author", BOT, "--format", "json", *args)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def statuses(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(o["repo"], o["phase"]): o["status"] for o in report["outcomes"]}


def heads(remote: Path) -> dict[str, str]:
    listed = git(remote, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads")
    return dict(line.split() for line in listed.splitlines())


def push_commit(remote: Path, branch: str, scratch: Path, path: str, text: str) -> None:
    """Someone other than the bot commits to `branch` of `remote`."""
    clone = scratch / f"clone-{branch.replace('/', '-')}"
    shutil.rmtree(clone, ignore_errors=True)
    git(scratch, "clone", "--quiet", "--branch", branch, str(remote), str(clone))
    (clone / path).write_text(text)
    git(clone, "add", "--all")
    git(clone, *HUMAN, "commit", "--quiet", "-m", f"human: {path}")
    git(clone, "push", "--quiet", "origin", branch)


@pytest.fixture(scope="module")
def fleet_remotes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two demo fleets migrated through every phase by one bot run (two repos in parallel)."""
    tmp = tmp_path_factory.mktemp("bot")
    for name in ("fleet-one", "fleet-two"):
        make_remote(tmp, name)
    code, report = bot(tmp / "work", "--repos", tmp / "remotes", "--push", "--jobs", "2", "--no-verify")
    assert code == 0, report
    return tmp, report


def test_every_phase_gets_a_branch_stacked_on_the_previous_one(fleet_remotes: tuple[Path, Any]) -> None:
    tmp, report = fleet_remotes
    assert set(statuses(report).values()) == {"created"}
    assert {phase for _, phase in statuses(report)} == set("ABCDEFG")
    remote = tmp / "remotes/fleet-one.git"
    refs = heads(remote)
    assert set(refs) == {"main", *(f"fleetmig/phase-{p}" for p in "abcdefg")}
    previous = refs["main"]
    by_id = {cls.id: cls for cls in registry.all_codemods()}
    for phase in "abcdefg":
        branch = f"fleetmig/phase-{phase}"
        commits = git(remote, "log", "--format=%H %ae %ce %s", f"{previous}..{branch}").splitlines()
        assert commits, branch
        assert git(remote, "rev-parse", f"{branch}~{len(commits)}") == previous  # stacked, nothing in between
        for line in commits:
            sha, author, committer, subject = line.split(" ", 3)
            assert author == committer == "bot@fleetmig.invalid"
            codemod = subject.removeprefix("fleetmig(").split(")")[0]
            # an earlier phase's codemod only follows up on what this phase added (wrappers need the schema)
            assert by_id[codemod].phase <= phase.upper()
            assert subject == f"fleetmig({codemod}): {by_id[codemod].title}"
            body = git(remote, "log", "-1", "--format=%b", sha)
            changed = git(remote, "diff-tree", "--no-commit-id", "--name-only", "-r", sha).splitlines()
            assert all(f"- {path}" in body for path in changed if "->" not in body), (subject, body)
        own = [line for line in commits if by_id[line.split("fleetmig(")[1].split(")")[0]].phase == phase.upper()]
        assert own, f"{branch} has only follow-ups"
        previous = refs[branch]
    # The last branch holds the whole migration: nothing is left for `apply all` to do.
    clone = tmp / "check-final"
    git(tmp, "clone", "--quiet", "--branch", "fleetmig/phase-g", str(remote), str(clone))
    assert fleetmig("apply", "all", "--repo", clone, "--check").returncode == 0


def test_pr_bodies_carry_the_table_explanations_checklist_and_state(fleet_remotes: tuple[Path, Any]) -> None:
    tmp, report = fleet_remotes
    outcome = next(o for o in report["outcomes"] if o["repo"] == "fleet-two" and o["phase"] == "C")
    body = Path(outcome["body"]).read_text()
    assert body.startswith("## fleetmig: phase C")
    assert "| `c1-enabled-gate` |" in body and "<summary><code>c1-enabled-gate</code>" in body
    assert "stacked on `fleetmig/phase-b`" in body
    assert "- [x] Phase B:" in body and "- [x] Phase C:" in body and "- [ ] Phase D:" in body
    state = state_of(body)
    assert state is not None and state["phase"] == "C" and "c1-enabled-gate" in state["codemods"]
    assert state["base"] == heads(tmp / "remotes/fleet-two.git")["main"]


def test_a_rerun_with_nothing_new_changes_nothing(fleet_remotes: tuple[Path, Any]) -> None:
    tmp, report = fleet_remotes
    before = {name: heads(tmp / f"remotes/{name}.git") for name in ("fleet-one", "fleet-two")}
    bodies = {o["body"]: Path(o["body"]).stat().st_mtime_ns for o in report["outcomes"]}
    code, again = bot(tmp / "work", "--repos", tmp / "remotes", "--push", "--no-verify")
    assert code == 0 and set(statuses(again).values()) == {"unchanged"}
    assert {name: heads(tmp / f"remotes/{name}.git") for name in before} == before
    assert {path: Path(path).stat().st_mtime_ns for path in bodies} == bodies


@pytest.fixture
def small_remote(tmp_path: Path) -> Path:
    make_remote(tmp_path, "fleet")
    code, report = bot(tmp_path / "work", "--repos", tmp_path / "remotes/fleet.git", "--phases", "a..c", "--push")
    assert code == 0 and set(statuses(report).values()) == {"created"}
    return tmp_path


def test_a_moved_base_regenerates_every_branch_from_it(small_remote: Path) -> None:
    remote = small_remote / "remotes/fleet.git"
    old = heads(remote)
    push_commit(remote, "main", small_remote, "NOTES.md", "a change on main\n")
    code, report = bot(small_remote / "work", "--repos", remote, "--phases", "a..c", "--push", "--no-verify")
    assert code == 0 and set(statuses(report).values()) == {"updated"}
    new = heads(remote)
    assert git(remote, "rev-parse", "fleetmig/phase-a~4") == new["main"]  # a1, a3, a4, a5 on the new base
    for phase in "abc":
        branch = f"fleetmig/phase-{phase}"
        assert new[branch] != old[branch]
        # regenerated, not rebased: the old bot commits are not in the new history
        assert subprocess.run(["git", "merge-base", "--is-ancestor", old[branch], new[branch]], cwd=remote).returncode
    assert git(remote, "merge-base", "fleetmig/phase-b", "fleetmig/phase-c") == new["fleetmig/phase-b"]


def test_a_human_commit_keeps_the_bot_off_the_branch_unless_forced(small_remote: Path) -> None:
    remote = small_remote / "remotes/fleet.git"
    push_commit(remote, "fleetmig/phase-b", small_remote, "HUMAN.md", "reviewer's fix\n")
    taken = heads(remote)["fleetmig/phase-b"]
    code, report = bot(small_remote / "work", "--repos", remote, "--phases", "a..c", "--push", "--no-verify")
    assert code == 0
    assert statuses(report) == {
        ("fleet", "A"): "unchanged",
        ("fleet", "B"): "skipped-human-edit",
        ("fleet", "C"): "updated",
    }
    skipped = next(o for o in report["outcomes"] if o["phase"] == "B")
    assert "human: HUMAN.md (human@example.com)" in skipped["message"]
    assert heads(remote)["fleetmig/phase-b"] == taken
    assert git(remote, "merge-base", "fleetmig/phase-b", "fleetmig/phase-c") == taken  # C stacks on the human's B

    code, report = bot(small_remote / "work", "--repos", remote, "--phases", "a..c", "--push", "--no-verify", "--force")
    assert statuses(report)[("fleet", "B")] == "updated"
    assert "HUMAN.md" not in git(remote, "ls-tree", "--name-only", "fleetmig/phase-b")


def test_a_phase_with_nothing_to_do_gets_no_branch(tmp_path: Path) -> None:
    remote = make_remote(tmp_path, "fleet")
    clone = tmp_path / "migrated-by-hand"
    git(tmp_path, "clone", "--quiet", str(remote), str(clone))
    assert fleetmig("apply", "phase-a", "--repo", clone).returncode == 0
    git(clone, "add", "--all")
    git(clone, *HUMAN, "commit", "--quiet", "-m", "phase A by hand")
    git(clone, "push", "--quiet", "origin", "main")
    code, report = bot(tmp_path / "work", "--repos", remote, "--phases", "a..b", "--push")
    assert code == 0 and statuses(report) == {("fleet", "A"): "nothing-to-do", ("fleet", "B"): "created"}
    assert "fleetmig/phase-a" not in heads(remote)
    assert git(remote, "merge-base", "main", "fleetmig/phase-b") == heads(remote)["main"]
    body = Path(next(o["body"] for o in report["outcomes"] if o["phase"] == "B")).read_text()
    assert "- [x] Phase A: " in body and "nothing to do on this repository" in body
    assert "**fleetmig verify** passes" in body and "**Render equivalence** (real Helm)" in body


def test_one_failing_repository_does_not_stop_the_others(tmp_path: Path) -> None:
    good = make_remote(tmp_path, "good")
    no_main = tmp_path / "remotes/no-main.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch", "trunk", str(no_main))
    listing = tmp_path / "repos.txt"
    listing.write_text(f"# fleets\n{good}\n{no_main}\nfile:///nonexistent/fleet.git\n")
    code, report = bot(tmp_path / "work", "--repos", listing, "--phases", "a", "--no-verify", "--jobs", "2")
    assert code == 1 and report["ok"] is False
    assert statuses(report) == {("good", "A"): "created", ("no-main", "-"): "failed", ("fleet", "-"): "failed"}
    messages = {o["repo"]: o["message"] for o in report["outcomes"]}
    assert "the remote has no branch `main`" in messages["no-main"]
    assert "git clone failed" in messages["fleet"]
    assert "fleetmig/phase-a" not in heads(good)  # without --push nothing leaves the workspace


def test_shards_split_the_list_deterministically() -> None:
    specs = [RepoSpec(f"https://git.example/fleet-{n}.git", f"fleet-{n}") for n in range(7)]
    shards = [shard(specs, index, 3) for index in (1, 2, 3)]
    assert sorted(s.name for part in shards for s in part) == sorted(s.name for s in specs)
    assert [len(part) for part in shards] == [3, 2, 2]
    assert shard(list(reversed(specs)), 2, 3) == shards[1]


def test_usage_errors_exit_2_before_any_work(tmp_path: Path) -> None:
    remote = make_remote(tmp_path, "fleet")
    cases = [
        (("--repos", remote, "--phases", "a..z"), "--phases `a..z`"),
        (("--repos", remote, "--shard", "3/2"), "--shard `3/2`"),
        (("--repos", tmp_path / "missing"), "no such file or folder"),
        (("--repos", remote, "--author", "nobody"), "--author: expected `Name <email>`"),
    ]
    if shutil.which("gh") is None:
        cases.append((("--repos", remote, "--open-pr"), "--open-pr needs the GitHub CLI `gh`"))
    for args, message in cases:
        result = fleetmig("bot", "run", "--workdir", tmp_path / "work", *args)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "work").exists()
