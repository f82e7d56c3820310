"""The editor on real-world files: a deterministic sample of ../shared/corpus through the same
judge as bench/fidelity.py (which runs the whole corpus against ruamel.yaml)."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import ROOT

SAMPLE_EVERY = 7  # ~200 files: every op on each, in well under a minute on 2 cores


def fidelity() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_fidelity", ROOT / "bench" / "fidelity.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_fidelity"] = module
    spec.loader.exec_module(module)
    return module


def test_noise_free_edits_on_a_corpus_sample(corpus: Path) -> None:
    bench = fidelity()
    paths = sorted(p for p in corpus.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())[::SAMPLE_EVERY]
    assert len(paths) > 150
    tried: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    problems = []
    for path in paths:
        case = bench.load_case(path)
        if case is None:
            continue
        for op in bench.OPS:
            if not bench.applicable(case, op):
                continue
            outcome = bench.judge(case, op, "fleetmig")
            tried[op] += 1
            if outcome.refusal is not None:
                refused[op] += 1
                continue
            if (op == "noop" and not outcome.identical) or outcome.noise or outcome.lost or outcome.wrong:
                problems.append(f"{op} {path.relative_to(corpus)}: {outcome}")
    assert not problems, "\n".join(problems[:10])
    for op, count in refused.items():
        assert count / tried[op] < 0.01, f"{op}: {count} of {tried[op]} refused"


@pytest.mark.parametrize("op", ["move", "insert", "delete"])
def test_the_judge_catches_a_noisy_editor(corpus: Path, op: str) -> None:
    """The yardstick itself must fail a tool that rewrites the file (ruamel.yaml's round trip)."""
    bench = fidelity()
    big = sorted((p for p in corpus.rglob("values.yaml") if p.stat().st_size > 20_000), key=lambda p: str(p))[:10]
    cases = [case for case in map(bench.load_case, big) if case is not None and case.first_key != "global"]
    assert cases
    outcomes = [bench.judge(case, op, "ruamel") for case in cases]
    assert any(o.noise > 0 for o in outcomes if o.refusal is None)
    assert all(o.noise == 0 and not o.lost for o in (bench.judge(case, op, "fleetmig") for case in cases))
