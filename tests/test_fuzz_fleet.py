"""Issue 15: generated fleets (random values layers with comments, quoting, flow and block styles)
through every codemod: apply is idempotent, every comment survives, and files no codemod changed keep
every byte. CI runs the bounded profile; `HYPOTHESIS_PROFILE=long pytest tests/test_fuzz_fleet.py`
runs the long one (600 examples)."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleetmig.engine import registry, runner
from fleetmig.fleet.model import Fleet

from .fleets import POLICY, write_fleet

settings.register_profile(
    "ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.register_profile("long", max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

RESERVED = {"on", "off", "yes", "no", "y", "n", "null", "true", "false", "global", "cluster", "namespace", "name",
            "type", "spec", "enabled"}  # fmt: skip
keys = st.from_regex(r"[a-z][a-zA-Z0-9]{0,7}", fullmatch=True).filter(lambda k: k.lower() not in RESERVED)
words = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True).filter(lambda w: w not in RESERVED)
comments = st.from_regex(r"[A-Za-z][A-Za-z0-9 ,.()-]{0,30}", fullmatch=True)


@st.composite
def scalar(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["plain", "single", "double", "int", "bool"]))
    word = draw(words)
    return {
        "plain": word,
        "single": f"'{word}'",
        "double": f'"{word}"',
        "int": str(draw(st.integers(0, 10_000))),
        "bool": draw(st.sampled_from(["true", "false"])),
    }[kind]


@st.composite
def mapping(draw: st.DrawFn, indent: int = 0, depth: int = 0, prefix: str = "") -> str:
    """Block-style YAML text with comments above keys and after values, flow and block lists
    (`prefix` keeps the keys of two mappings written at one level apart)."""
    pad = " " * indent
    lines = []
    for key in draw(st.lists(keys.map(lambda k: prefix + k), min_size=1, max_size=4, unique=True)):
        if draw(st.booleans()):
            lines.append(f"{pad}# {draw(comments)}")
        kind = draw(st.sampled_from(["scalar", "map", "flow", "block"] if depth < 2 else ["scalar", "flow"]))
        trailing = f"  # {draw(comments)}" if draw(st.booleans()) else ""
        if kind == "scalar":
            lines.append(f"{pad}{key}: {draw(scalar())}{trailing}")
        elif kind == "flow":
            items = draw(st.lists(scalar(), max_size=3))
            lines.append(f"{pad}{key}: [{', '.join(items)}]{trailing}")
        elif kind == "block":
            lines.append(f"{pad}{key}:{trailing}")
            lines += [f"{pad}  - {item}" for item in draw(st.lists(scalar(), min_size=1, max_size=3))]
        else:
            lines.append(f"{pad}{key}:{trailing}")
            lines.append(draw(mapping(indent + 2, depth + 1)).rstrip("\n"))
    return "\n".join(lines) + "\n"


@st.composite
def fleets(draw: st.DrawFn) -> dict[str, str | bytes]:
    cluster_comment = f"# {draw(comments)}\n" if draw(st.booleans()) else ""
    cluster_extra = draw(mapping(indent=2, depth=1)) if draw(st.booleans()) else ""
    local = (
        draw(mapping(prefix="p"))
        + cluster_comment
        + f"cluster:\n  type: k3d  # {draw(comments)}\n  name: k3d-ameide\n"
        + cluster_extra
        + draw(mapping(prefix="q"))
    )
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    files: dict[str, str | bytes] = {
        "fleetmig.yaml": POLICY,
        "sources/values/base/globals.yaml": draw(mapping()),
        "sources/values/cluster/local/globals.yaml": local.replace("\n", newline).encode(),
    }
    if draw(st.booleans()):
        files["sources/values/_shared/apps/extra.yaml"] = draw(mapping())
    return files


def comment_texts(data: bytes) -> list[str]:
    return [match.strip() for match in re.findall(rb"#([^\r\n]*)", data) for match in [match.decode()]]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=fleets())
def test_every_codemod_on_a_generated_fleet_is_idempotent_and_keeps_comments_and_bytes(
    files: dict[str, str | bytes],
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = write_fleet(Path(scratch), files)
        before = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
        result = runner.apply(Fleet.open(root), registry.all_codemods(), write=True, allow_dirty=True)
        changed = {c.path for c in result.changes} | {c.new_path for c in result.changes if c.new_path}
        after = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
        for rel, data in before.items():
            if rel not in changed:
                assert after.get(rel) == data, f"{rel} changed without a change record"
            else:
                # a6 drops the bridge `cluster:` block "together with the comments that describe it"
                bridge = re.search(rb"(?:^#[^\r\n]*\r?\n)?^cluster:.*\n(?:^[ ].*\n)*", data, re.MULTILINE)
                kept = re.search(rb"^cluster:", after.get(rel, b""), re.MULTILINE)
                dropped = set(comment_texts(bridge.group())) if bridge and not kept else set()
                missing = set(comment_texts(data)) - set(comment_texts(after.get(rel, b""))) - dropped
                assert not missing, f"{rel} lost comments {missing}"
        again = runner.simulate(Fleet.open(root), registry.all_codemods())
        assert not again.pending, [(c.codemod, c.path) for c in again.changes]
