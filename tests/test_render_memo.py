"""The render memo: bounded by the distinct text it holds, least recently used out first."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fleetmig.fleet.rendermemo import RenderMemo

CRD = "kind: CustomResourceDefinition\n" * 100


def test_a_text_many_renders_share_is_held_and_counted_once() -> None:
    memo = RenderMemo(budget=10_000)
    for release in range(20):
        memo.put(f"r{release}", {"crds.yaml": CRD, "cm.yaml": f"name: r{release}\n"})
    assert len(memo) == 20
    names = len("crds.yaml") + len("cm.yaml")
    assert memo.size == names + len(CRD) + sum(len(f"name: r{n}\n") for n in range(20))
    first, second = memo.get("r0"), memo.get("r1")
    assert first is not None and second is not None
    assert first["crds.yaml"] is second["crds.yaml"]


def test_least_recently_used_renders_go_first_once_over_budget() -> None:
    memo = RenderMemo(budget=31)  # the name "t" counts once
    memo.put("a", {"t": "a" * 10})
    memo.put("b", {"t": "b" * 10})
    assert memo.get("a") == {"t": "a" * 10}  # now b is the least recently used
    memo.put("c", {"t": "c" * 15})
    assert memo.get("b") is None
    assert memo.get("a") is not None and memo.get("c") is not None
    assert memo.size == 1 + 25


def test_a_render_larger_than_the_budget_is_still_kept_alone() -> None:
    memo = RenderMemo(budget=5)
    memo.put("a", {"t": "a"})
    memo.put("big", {"t": "x" * 50})
    assert len(memo) == 1 and memo.get("big") == {"t": "x" * 50}


def test_callers_get_copies() -> None:
    memo = RenderMemo(budget=100)
    rendered = {"t": "text"}
    memo.put("k", rendered)
    rendered["t"] = "changed by the caller"
    got = memo.get("k")
    assert got == {"t": "text"}
    got["extra"] = "x"
    assert memo.get("k") == {"t": "text"}


_texts = st.sampled_from(["", "a", "bb", "ccc", CRD, "kind: Secret\n"])
_ops = st.lists(
    st.tuples(st.sampled_from(["k1", "k2", "k3", "k4", "k5"]), st.dictionaries(st.sampled_from("xyz"), _texts)),
    max_size=40,
)


@given(_ops, st.integers(min_value=0, max_value=3000))
def test_size_is_the_distinct_text_held_and_stays_in_budget(ops: list[tuple[str, dict[str, str]]], budget: int) -> None:
    memo = RenderMemo(budget)
    latest: dict[str, dict[str, str]] = {}
    for key, rendered in ops:
        memo.put(key, rendered)
        latest[key] = rendered
    held = {key: got for key in latest if (got := memo.get(key)) is not None}
    assert all(got == latest[key] for key, got in held.items())
    held_texts = {text for got in held.values() for pair in got.items() for text in pair}
    assert memo.size == sum(len(text) for text in held_texts)
    assert memo.size <= budget or len(memo) == 1
    if ops:
        assert ops[-1][0] in held  # the last render put is always kept
