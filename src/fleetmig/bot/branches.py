"""One repository's phase branches: regenerate each from its parent, then decide what to push.

A phase branch is never rebased: it is rebuilt from the current base (or the previous phase's branch)
and compared by tree with what the remote has. Commits are the bot's own; a commit by anyone else on
the branch means a human took it over (Renovate's rule), and the bot leaves it alone unless forced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import git

from fleetmig.engine import journal, runner
from fleetmig.engine.codemod import Codemod
from fleetmig.engine.runner import CodemodRun, RunResult
from fleetmig.fleet.model import Fleet

BRANCH_PREFIX = "fleetmig/phase-"


@dataclass(frozen=True)
class Identity:
    name: str
    email: str

    @classmethod
    def parse(cls, text: str) -> Identity:
        name, _, rest = text.partition("<")
        if not rest.endswith(">") or not name.strip() or "@" not in rest:
            raise ValueError(f"expected `Name <email>`, got `{text}`")
        return cls(name.strip(), rest[:-1].strip())

    def environment(self) -> dict[str, str]:
        return {
            "GIT_AUTHOR_NAME": self.name,
            "GIT_AUTHOR_EMAIL": self.email,
            "GIT_COMMITTER_NAME": self.name,
            "GIT_COMMITTER_EMAIL": self.email,
        }


@dataclass
class Generated:
    """A phase rebuilt on `parent`: one commit per codemod that changed something."""

    parent: str
    head: str
    commits: list[tuple[type[Codemod], list[str]]] = field(default_factory=list)  # codemod, files
    runs: list[CodemodRun] = field(default_factory=list)  # the phase as planned on `parent`

    @property
    def changed(self) -> bool:
        return self.head != self.parent


def branch_name(phase: str) -> str:
    return f"{BRANCH_PREFIX}{phase.lower()}"


def workspace(location: str, path: Path, remote: str) -> git.Repo:
    """A clone of `location` at `path` with `remote` fetched fresh (local branches may be stale)."""
    if (path / ".git").is_dir():
        repo = git.Repo(path)
        if remote not in [r.name for r in repo.remotes]:
            repo.create_remote(remote, location)
        repo.remote(remote).set_url(location)
        repo.git.fetch(remote, "--prune", "--force", "--quiet")
    else:
        repo = git.Repo.clone_from(location, path, origin=remote, no_checkout=True)
    return repo


def remote_head(repo: git.Repo, remote: str, branch: str) -> str | None:
    ref = f"refs/remotes/{remote}/{branch}"
    try:
        return str(repo.git.rev_parse("--verify", "--quiet", ref))
    except git.GitCommandError:
        return None


def generate(
    repo: git.Repo,
    parent: str,
    codemods: Sequence[type[Codemod]],
    identity: Identity,
    earlier: Sequence[type[Codemod]] = (),
) -> Generated:
    """Check out `parent` (detached), apply the phase codemod by codemod, commit each one's changes.

    What the phase adds can give earlier phases' codemods new work (a phase-E wrapper chart needs the
    phase-A schema): those follow-ups are committed on this branch too, until nothing is left."""
    root = Path(repo.working_tree_dir or ".")
    journal.recover(root)  # a previous bot run killed mid-write; the checkout below resets the tree anyway
    repo.git.checkout("--detach", "--force", "--quiet", parent)
    repo.git.clean("-ffdx", "--quiet")
    generated = Generated(parent, parent)
    for cls in codemods:
        generated.runs += _commit(repo, root, cls, identity, generated).runs
    for _ in range(runner.MAX_PASSES if generated.commits else 0):
        before = len(generated.commits)
        for cls in [*earlier, *codemods]:
            result = _commit(repo, root, cls, identity, generated)
            if result.pending and all(run.codemod is not cls for run in generated.runs):
                generated.runs += result.runs
        if len(generated.commits) == before:
            break
    generated.head = repo.head.commit.hexsha
    return generated


def _commit(repo: git.Repo, root: Path, cls: type[Codemod], identity: Identity, generated: Generated) -> RunResult:
    """Apply one codemod; what it changed becomes one commit."""
    result = runner.apply(Fleet.open(root), [cls], write=True, allow_dirty=False)
    if not result.pending:
        return result
    files = sorted({p for c in result.changes for p in (c.path, c.new_path) if p})
    body = "\n".join(f"- {c.path}{f' -> {c.new_path}' if c.new_path else ''}: {c.reason}" for c in result.changes)
    repo.git.add("--all")
    with repo.git.custom_environment(**identity.environment()):
        repo.git.commit("--quiet", "--no-verify", "--no-gpg-sign", "-m", f"fleetmig({cls.id}): {cls.title}\n\n{body}\n")
    generated.commits.append((cls, files))
    return result


def human_commits(repo: git.Repo, head: str, exclude: Sequence[str], identity: Identity) -> list[str]:
    """Commits on `head` that are neither the bot's nor reachable from `exclude` (base, earlier phases)."""
    listed = repo.git.rev_list("--format=%H%x09%ae%x09%ce%x09%s", "--no-commit-header", head, "--not", *exclude)
    out = []
    for line in listed.splitlines():
        sha, author, committer, subject = [*line.split("\t"), "", "", ""][:4]
        if author != identity.email or committer != identity.email:
            out.append(f"{sha[:12]} {subject} ({author})")
    return out


def same_tree(repo: git.Repo, one: str, other: str) -> bool:
    return bool(repo.git.rev_parse(f"{one}^{{tree}}") == repo.git.rev_parse(f"{other}^{{tree}}"))


def contains(repo: git.Repo, ancestor: str, head: str) -> bool:
    try:
        repo.git.merge_base("--is-ancestor", ancestor, head)
    except git.GitCommandError:
        return False
    return True


def push(repo: git.Repo, remote: str, head: str, branch: str, expected: str | None) -> None:
    """Push `head` to the branch, but only if the remote still has what we saw (`expected`, or nothing)."""
    lease = f"--force-with-lease=refs/heads/{branch}:{expected or ''}"
    repo.git.push("--quiet", "--no-verify", lease, remote, f"{head}:refs/heads/{branch}")
