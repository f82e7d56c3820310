"""Edit fidelity on real-world YAML: fleetmig's editor against plain ruamel.yaml round-trip, side by side.

Over every parseable YAML file of `../shared/corpus` (real Helm values, Argo CD and ESO manifests)
both tools perform, each from the original bytes:
  (a) a no-op load/save,
  (b) moving the first top-level key K under `global.ameide.K`,
  (c) inserting `enabled: true` as the first key of the first top-level mapping,
  (d) deleting the last top-level key.
Each result is judged by the same tool-independent rules: the data must be what the edit means;
"noise" is any changed line beyond the minimal hunk (for a move: removed lines that do not come
back re-indented, or added lines that are neither those nor the new `global:`/`ameide:` parents);
a comment is lost when it is gone from the file and was not owned by a deleted key. fleetmig may
refuse an edit (with a reason); ruamel.yaml never refuses but may be noisy.

Usage: `python3 bench/fidelity.py [--corpus DIR] [--limit N] [--json FILE]`.
"""

from __future__ import annotations

import argparse
import difflib
import io
import json
import os
import re
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.util import load_yaml_guess_indent

from fleetmig.edit.yaml import YamlEditor
from fleetmig.edit.yaml.data import canonical, plain
from fleetmig.edit.yaml.source import comment_texts, is_document_marker, split_lines
from fleetmig.errors import EditRefused, InputError

OPS = ("noop", "move", "insert", "delete")
DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


@dataclass
class Tally:
    files: int = 0
    edited: int = 0
    identical: int = 0
    noisy_files: int = 0
    noise_lines: int = 0
    lost_comments: int = 0
    wrong_data: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


@dataclass(frozen=True)
class Case:
    path: Path
    data: bytes
    docs: list[Any]  # plain data of every document
    first_key: str | None
    last_key: str | None
    last_key_line: int  # 0-based line of the last top-level key of document 0
    doc_end: int  # one past the last line of document 0


def load_case(path: Path) -> Case | None:
    data = path.read_bytes()
    try:
        editor = YamlEditor(data, str(path))
    except InputError:
        return None
    root = editor.docs[0]
    keys = [str(k) for k in root] if isinstance(root, CommentedMap) else []
    last_line = int(root.lc.key(keys[-1])[0]) if keys else 0
    doc_end = next(
        (i for i in range(last_line + 1, len(editor.lines)) if is_document_marker(editor.lines[i])), len(editor.lines)
    )
    return Case(
        path,
        data,
        [plain(d) for d in editor.docs],
        keys[0] if keys else None,
        keys[-1] if keys else None,
        last_line,
        doc_end,
    )


# ---------------------------------------------------------------- the two tools
def fleetmig_edit(case: Case, op: str) -> bytes:
    editor = YamlEditor(case.data, str(case.path))
    if op == "noop":
        return editor.to_bytes()
    if op == "move":
        assert case.first_key is not None
        editor.move((case.first_key,), ("global", "ameide", case.first_key))
    elif op == "insert":
        editor.insert((), "enabled", True, before=case.first_key)
    elif op == "delete":
        assert case.last_key is not None
        editor.delete((case.last_key,))
    return editor.to_bytes()


def ruamel_edit(case: Case, op: str) -> bytes:
    text = case.data.decode("utf-8-sig")
    _, indent, block_seq_indent = load_yaml_guess_indent(text)
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=indent or 2, sequence=indent or 2, offset=block_seq_indent or 0)
    yaml.explicit_start = text.lstrip().startswith("---")
    docs = list(yaml.load_all(text))
    root = docs[0]
    if op == "move" and case.first_key == "global":
        root["global"] = CommentedMap({"ameide": CommentedMap({"global": root["global"]})})
    elif op == "move":
        value = root.pop(case.first_key)
        if not isinstance(root.get("global"), dict):
            root["global"] = CommentedMap()
        if not isinstance(root["global"].get("ameide"), dict):
            root["global"]["ameide"] = CommentedMap()
        root["global"]["ameide"][case.first_key] = value
    elif op == "insert":
        root.insert(0, "enabled", True)
    elif op == "delete":
        del root[case.last_key]
    out = io.StringIO()
    yaml.dump_all(docs, out)
    return (("\ufeff" if case.data.startswith(b"\xef\xbb\xbf") else "") + out.getvalue()).encode("utf-8")


# ---------------------------------------------------------------- judging
def expected_docs(case: Case, op: str) -> list[Any]:
    docs = [dict(d) if isinstance(d, dict) else d for d in case.docs]
    root = docs[0]
    if op == "move":
        key = case.first_key
        if key == "global" or "global" not in root:
            # A new `global:` takes K's place (K is the first key); an existing one is nested in place.
            value = root[key] if key != "global" else {"global": root["global"]}
            wrapped = {"ameide": {key: value}} if key != "global" else {"ameide": value}
            root = {"global": wrapped, **{k: v for k, v in root.items() if k not in (key, "global")}}
        else:
            value = root.pop(key)
            glob = dict(root["global"] or {})
            glob["ameide"] = {**dict(glob.get("ameide") or {}), key: value}
            root["global"] = glob
    elif op == "insert":
        root = {"enabled": True, **root}
    elif op == "delete":
        root.pop(case.last_key)
    docs[0] = root
    return docs


def same_data(left: list[Any], right: list[Any], ordered: bool) -> bool:
    if ordered:
        return bool(canonical(left) == canonical(right))
    return bool(json.dumps(left, sort_keys=True, default=str) == json.dumps(right, sort_keys=True, default=str))


def changed_lines(old: list[str], new: list[str]) -> tuple[list[int], list[str], list[str]]:
    """(indices of removed old lines, removed lines, added lines) of a line diff."""
    removed_at: list[int] = []
    added: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag != "equal":
            removed_at += range(i1, i2)
            added += new[j1:j2]
    return removed_at, [old[i] for i in removed_at], added


def noise(case: Case, op: str, old: list[str], new: list[str]) -> int:
    if op in ("noop", "insert", "delete"):
        # One contiguous change: strip the longest common prefix and suffix (this resolves the
        # ambiguity of identical blank lines around a hunk in the tool's favour, as git does).
        prefix = 0
        while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
            prefix += 1
        suffix = 0
        while suffix < min(len(old), len(new)) - prefix and old[-1 - suffix] == new[-1 - suffix]:
            suffix += 1
        removed_at = range(prefix, len(old) - suffix)
        added = new[prefix : len(new) - suffix]
        if op == "noop":
            return len(removed_at) + len(added)
        if op == "insert":
            wanted = [line for line in added if line.strip() == "enabled: true"]
            return len(removed_at) + len(added) - min(1, len(wanted))
        # Removed lines must come from the last key's block (its head comments through the end of
        # the document); nothing may be added but the `{}` of a document that lost its only key.
        owned = range(_head_start(old, case.last_key_line), case.doc_end)
        outside = sum(1 for index in removed_at if index not in owned)
        extra = [line for line in added if not (line.strip() == "{}" and len(case.docs[0]) == 1)]
        return outside + len(extra)
    _, removed, added = changed_lines(old, new)
    back = Counter(line.strip() for line in added)
    unmatched_removed = 0
    for line in removed:
        if back[line.strip()] > 0:
            back[line.strip()] -= 1
        else:
            unmatched_removed += 1
    allowances = Counter({"global:": 1, "ameide:": 1, f"{case.first_key}:": 1})
    if back["global:"] and unmatched_removed:
        # `global: {}` (or `global: ~`) has to become `global:` to take the new block.
        rewritten = [line for line in removed if line.strip().startswith("global:") and line.strip() != "global:"]
        unmatched_removed -= min(1, len(rewritten))
    extra_added = sum(max(0, count - allowances.get(text, 0)) for text, count in back.items())
    return unmatched_removed + extra_added


def lost_comments(case: Case, op: str, old: list[str], new: list[str]) -> int:
    gone = Counter(comment_texts(old)) - Counter(comment_texts(new))
    if op == "delete":
        # A deleted key owns its head comments, every comment inside its block, and the comments
        # indented under it after its last line (commented-out options); not the section
        # comments at the top level that follow it.
        start = _head_start(old, case.last_key_line)
        last = _last_content(old, case)
        owned = [
            line
            for index, line in enumerate(old[start : case.doc_end], start)
            if index <= last or line[: len(line) - len(line.lstrip())]
        ]
        gone -= Counter(comment_texts(owned))
    return sum(gone.values())


def _last_content(lines: list[str], case: Case) -> int:
    content = [
        i for i in range(case.last_key_line, case.doc_end) if lines[i].strip() and not lines[i].lstrip().startswith("#")
    ]
    return max(content, default=case.last_key_line)


def _head_start(lines: list[str], line: int) -> int:
    start = line
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return start


def reason_class(message: str) -> str:
    return re.sub(r"`[^`]*`", "`…`", message.split(": ", 1)[-1]).split(";")[0]


@dataclass
class Outcome:
    tool: str
    op: str
    edited: bool = False
    identical: bool = False
    noise: int = 0
    lost: int = 0
    wrong: bool = False
    refusal: str | None = None
    seconds: float = 0.0


def judge(case: Case, op: str, tool: str) -> Outcome:
    outcome = Outcome(tool, op)
    edit = EDITORS[tool]
    start = time.perf_counter()
    try:
        output = edit(case, op)
    except EditRefused as refusal:
        outcome.refusal = reason_class(refusal.message)
        return outcome
    except Exception as error:  # the baseline can crash on odd input; count it as a refusal
        outcome.refusal = f"crashed: {type(error).__name__}"
        return outcome
    finally:
        outcome.seconds = time.perf_counter() - start
    outcome.edited = True
    outcome.identical = output == case.data
    old = split_lines(case.data.decode("utf-8-sig"))
    new = split_lines(output.decode("utf-8-sig"))
    outcome.noise = noise(case, op, old, new)
    outcome.lost = lost_comments(case, op, old, new)
    try:
        docs: list[Any] | None = [plain(d) for d in YAML(typ="rt").load_all(output.decode("utf-8-sig"))] or [None]
    except Exception:
        docs = None
    want = case.docs if op == "noop" else expected_docs(case, op)
    outcome.wrong = docs is None or not same_data(docs, want, ordered=tool == "fleetmig")
    return outcome


def measure(path: Path) -> list[Outcome] | None:
    case = load_case(path)
    if case is None:
        return None
    return [judge(case, op, tool) for op in OPS if applicable(case, op) for tool in EDITORS]


def applicable(case: Case, op: str) -> bool:
    root = case.docs[0]
    if op == "noop":
        return True
    if not isinstance(root, dict) or not root:
        return False
    if op == "insert":
        return "enabled" not in root
    if op == "move":
        return case.first_key == "global" or "global" not in root or isinstance(root.get("global"), dict)
    return True


EDITORS: dict[str, Callable[[Case, str], bytes]] = {"fleetmig": fleetmig_edit, "ruamel": ruamel_edit}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=0, help="only the first N files (0: all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    paths = sorted(p for p in args.corpus.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    if args.limit:
        paths = paths[: args.limit]
    results = {tool: {op: Tally() for op in OPS} for tool in EDITORS}
    rejected = 0
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for outcomes in pool.map(measure, paths, chunksize=8):
            if outcomes is None:
                rejected += 1
                continue
            for outcome in outcomes:
                tally = results[outcome.tool][outcome.op]
                tally.files += 1
                tally.seconds += outcome.seconds
                if outcome.refusal is not None:
                    tally.refusals[outcome.refusal] += 1
                    continue
                tally.edited += 1
                tally.identical += outcome.identical
                tally.noisy_files += outcome.noise > 0
                tally.noise_lines += outcome.noise
                tally.lost_comments += outcome.lost
                tally.wrong_data += outcome.wrong
    report(results, len(paths), rejected)
    if args.json:
        payload = {
            tool: {op: {**vars(t), "refusals": dict(t.refusals)} for op, t in per_op.items()}
            for tool, per_op in results.items()
        }
        args.json.write_text(json.dumps(payload, indent=2))


def report(results: dict[str, dict[str, Tally]], files: int, rejected: int) -> None:
    print(f"corpus: {files} YAML files, {files - rejected} parseable ({rejected} rejected as input errors)")
    print(
        f"{'op':7} {'tool':9} {'files':>6} {'edited':>7} {'clean %':>8} {'noisy':>6} {'noise ln':>9} "
        f"{'lost #':>7} {'bad data':>9} {'refused':>8} {'ms/file':>8}"
    )
    for op in OPS:
        for tool, per_op in results.items():
            t = per_op[op]
            good = t.identical if op == "noop" else t.edited - t.noisy_files
            clean = good / t.files * 100 if t.files else 0.0
            print(
                f"{op:7} {tool:9} {t.files:6d} {t.edited:7d} {clean:8.1f} {t.noisy_files:6d} {t.noise_lines:9d} "
                f"{t.lost_comments:7d} {t.wrong_data:9d} {sum(t.refusals.values()):8d} "
                f"{t.seconds / max(t.files, 1) * 1000:8.2f}"
            )
    print("clean %: byte-identical (noop) or edited with no noise line, of all files the op applies to")
    for tool, per_op in results.items():
        for op in OPS:
            for reason, count in per_op[op].refusals.most_common():
                print(f"{tool} refused {op}: {count:4d}  {reason}")


if __name__ == "__main__":
    main()
