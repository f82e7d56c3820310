"""Who reads the bridged root keys, and which of those reads can move to the contract unchanged.

A read may move only when, for every release that renders it, the contract path gives the same
result the root key gives today (same value, same truth, same key presence). That is judged on the
layered values of the fleet as it stands — with the contract already published — so a rewrite never
changes a rendered manifest; a read that would is reported with the values that differ.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fleetmig.edit.gotemplate import Read, TemplateSyntaxError, Token, find_reads
from fleetmig.fleet.charts import Chart, charts, template_files
from fleetmig.fleet.contract import Bridge, bridges
from fleetmig.fleet.files import under
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.values import MISSING, coalesce, lookup


@dataclass(frozen=True)
class Evidence:
    """What one release sees: a label for messages, and its layered `.Values`."""

    label: str
    values: Mapping[str, Any]


@dataclass
class Verdict:
    """A read, whether it can move, the splices that move it, or why it cannot."""

    read: Read
    bridge: Bridge | None
    splices: list[tuple[int, int, str]] = field(default_factory=list)
    problem: str | None = None
    owned_by_chart: bool = False  # the chart's own key that happens to share the bridged name


def values_files(fleet: Fleet) -> list[str]:
    """Values files the releases layer, and everything under the shared and per-env values roots."""
    layout = fleet.policy.layout
    roots = under(layout.shared_values, layout.env_values)
    listed = {rel for release in fleet.releases for rel in release.value_files}
    return [
        rel
        for rel in fleet.files.files()
        if rel.endswith((".yaml", ".yml")) and (rel in listed or rel.startswith(roots)) and fleet.exists(rel)
    ]


def text_of(fleet: Fleet, rel: str) -> str | None:
    """The file as text, None when it is not UTF-8."""
    try:
        return fleet.read_bytes(rel).decode("utf-8")
    except UnicodeDecodeError:
        return None


def in_yaml_comment(text: str, verdict: Verdict) -> bool:
    """A `{{ … }}` inside a YAML comment of a values file is prose, not a template."""
    token = verdict.read.chain or verdict.read.values_token
    if token is None:
        return False
    line_start = text.rfind("\n", 0, token.start) + 1
    return re.search(r"(^|\s)#", text[line_start : token.start]) is not None


def chart_defaults(fleet: Fleet, chart: str) -> Any:
    """The chart's own `values.yaml` as data (None when it has none)."""
    rel = f"{chart}/values.yaml"
    return fleet.values(rel) if fleet.exists(rel) else None


def evidence_for_chart(fleet: Fleet, chart: str) -> list[Evidence]:
    """Every release of the chart; a chart no component deploys is judged against each environment."""
    found = [Evidence(release.label, fleet.release_values(release)) for release in fleet.releases_of_chart(chart)]
    if found:
        return found
    defaults = fleet.values(f"{chart}/values.yaml") if fleet.exists(f"{chart}/values.yaml") else None
    return [
        Evidence(f"{chart.rsplit('/', 1)[-1]}@{env}", coalesce([defaults, *layers]))
        for env, layers in _env_globals(fleet)
    ]


def evidence_for_values_file(fleet: Fleet, rel: str) -> list[Evidence]:
    """The releases whose values include `rel` (its `tpl` text renders with theirs)."""
    found = [Evidence(release.label, fleet.release_values(release)) for release in fleet.releases_reading(rel)]
    return found or [Evidence(env, coalesce(layers)) for env, layers in _env_globals(fleet)]


def _env_globals(fleet: Fleet) -> Iterator[tuple[str, list[Any]]]:
    layout = fleet.policy.layout
    for env, cluster_type in fleet.environments.items():
        paths = [layout.base_globals, *([layout.cluster_globals_for(cluster_type)] if cluster_type else [])]
        paths.append(layout.env_globals_for(env))
        yield env, [fleet.values(p) for p in paths if fleet.exists(p)]


def judge_text(fleet: Fleet, text: str, evidence: Sequence[Evidence], own_defaults: Any = None) -> list[Verdict]:
    """Every bridged read in template `text`, judged against `evidence`. Raises TemplateSyntaxError."""
    by_root = {bridge.root: bridge for bridge in bridges(fleet.policy)}
    reads = find_reads(text, frozenset(by_root))
    provided = {root: _provided_fields(fleet, bridge) for root, bridge in by_root.items()}
    verdicts = []
    for read in reads:
        bridge = by_root.get(read.root) if read.root is not None else None
        verdict = Verdict(read, bridge)
        if bridge is None:
            verdict.problem = (
                "reads a root key chosen at render time; fleetmig cannot tell whether it is a bridged key "
                f"({', '.join(f'`{r}`' for r in by_root)}). Point it at the contract by hand"
            )
        elif read.fields and read.kind in ("field", "haskey") and read.fields[0] not in provided[bridge.root]:
            verdict.owned_by_chart = True
        elif read.kind == "whole" and _chart_owns(own_defaults, bridge, provided[bridge.root]):
            verdict.owned_by_chart = True
            verdict.problem = _collision(bridge, evidence, provided[bridge.root])
        else:
            _judge(verdict, bridge, evidence)
        verdicts.append(verdict)
    return verdicts


def _provided_fields(fleet: Fleet, bridge: Bridge) -> set[str]:
    """Fields the fleet globals publish under the bridge or the contract: the fleet's, not a chart's."""
    fields: set[str] = set()
    for _, layers in _env_globals(fleet):
        for layer in layers:
            for keys in ((bridge.root,), bridge.target_keys):
                node = lookup(layer, keys)
                if isinstance(node, Mapping):
                    fields.update(node)
    return fields


def _chart_owns(defaults: Any, bridge: Bridge, provided: set[str]) -> bool:
    node = lookup(defaults, (bridge.root,))
    return isinstance(node, Mapping) and any(key not in provided for key in node)


def _collision(bridge: Bridge, evidence: Sequence[Evidence], provided: set[str]) -> str:
    by_keys: dict[tuple[str, ...], list[str]] = {}
    for item in evidence:
        merged = lookup(item.values, (bridge.root,))
        leaked = tuple(key for key in merged if key in provided) if isinstance(merged, Mapping) else ()
        if leaked:
            by_keys.setdefault(leaked, []).append(item.label.rsplit("@", 1)[-1])
    where = "; ".join(f"{', '.join(keys)} on {', '.join(dict.fromkeys(envs))}" for keys, envs in by_keys.items())
    return (
        f"collision: the chart passes its own root `{bridge.root}` map on whole, and the fleet's bridge merges "
        f"into it ({where or 'nothing today'}); it ends when the bridge is dropped (plan 519 §6)"
    )


def _judge(verdict: Verdict, bridge: Bridge, evidence: Sequence[Evidence]) -> None:
    read = verdict.read
    old_keys = (bridge.root, *read.fields)
    new_keys = (*bridge.target_keys, *read.fields)
    olds = [lookup(item.values, old_keys) for item in evidence]
    news = [lookup(item.values, new_keys) for item in evidence]
    name = _spelled(bridge.root, read.fields)
    if read.kind == "haskey":
        same = all((old is MISSING) == (new is MISSING) for old, new in zip(olds, news, strict=True))
        what = "key presence"
    elif read.kind == "truthy":
        same = all(_truthy(old) == _truthy(new) for old, new in zip(olds, news, strict=True))
        what = "truth"
    elif read.kind == "with":
        same = all(_truthy(old) == _truthy(new) for old, new in zip(olds, news, strict=True))
        what = "truth"
        if same and read.body_uses_dot:
            verdict.problem = f"uses `{name}` whole inside its `with` block; the contract map is not the same map"
            return
        for inner in read.body:
            problem = _value_problem(bridge, inner.fields, evidence)
            if problem:
                verdict.problem = f"inside `with {name}` (line {read.line}): {problem}"
                return
    elif read.compared_with is not None:
        translated = _translate(read.compared_with, olds, news)
        if translated is None:
            same, what = False, "value"
        else:
            same, what = True, "value"
            if translated != read.compared_with.text:
                verdict.splices.append((read.compared_with.start, read.compared_with.end, translated))
    else:
        same = olds == news
        what = "value"
    if not same:
        verdict.problem = _differs(bridge, read.fields, olds, news, evidence, what)
        verdict.splices.clear()
        return
    verdict.splices.extend(_rewrite_splices(read, bridge))


def _value_problem(bridge: Bridge, fields: tuple[str, ...], evidence: Sequence[Evidence]) -> str | None:
    olds = [lookup(item.values, (bridge.root, *fields)) for item in evidence]
    news = [lookup(item.values, (*bridge.target_keys, *fields)) for item in evidence]
    return None if olds == news else _differs(bridge, fields, olds, news, evidence, "value")


def _differs(
    bridge: Bridge, fields: tuple[str, ...], olds: list[Any], news: list[Any], evidence: Sequence[Evidence], what: str
) -> str:
    return (
        f"`{_spelled(bridge.root, fields)}` is {_describe(olds, evidence)} today but "
        f"`{_spelled_target(bridge, fields)}` is {_describe(news, evidence)}; moving this read would change "
        f"the rendered {what}. Rewrite it by hand"
    )


def _translate(literal: Token, olds: list[Any], news: list[Any]) -> str | None:
    """The literal to compare the contract value with so that every comparison keeps its result
    (None when no literal does: the old values do not map one-to-one onto the new ones)."""
    quote, value = literal.text[0], literal.text[1:-1]
    mapping: dict[Any, Any] = {}
    try:
        for old, new in zip(olds, news, strict=True):
            if mapping.setdefault(old, new) != new:
                return None
        if len(set(mapping.values())) != len(mapping):
            return None
    except TypeError:  # maps or lists: not something a string comparison can be about
        return None
    if value in mapping:
        new_value = mapping[value]
        plain = isinstance(new_value, str) and re.fullmatch(r"[A-Za-z0-9_.:/@+-]*", new_value)
        return f"{quote}{new_value}{quote}" if plain else None
    return literal.text if value not in mapping.values() else None


def _rewrite_splices(read: Read, bridge: Bridge) -> list[tuple[int, int, str]]:
    target = bridge.target_keys
    if read.chain is not None:
        base, _, rest = read.chain.text.partition(".Values.")
        tail = rest.split(".", 1)[1] if "." in rest else ""
        text = f"{base}.Values.{'.'.join(target)}" + (f".{tail}" if tail else "")
        return [(read.chain.start, read.chain.end, text)]
    assert read.values_token is not None and read.key_literal is not None
    quote = read.key_literal.text[0]
    if read.kind == "haskey":
        parent = ".".join(target[:-1])
        return [
            (read.values_token.start, read.values_token.end, f"{read.values_token.text}.{parent}"),
            (read.key_literal.start, read.key_literal.end, f"{quote}{target[-1]}{quote}"),
        ]
    return [(read.key_literal.start, read.key_literal.end, " ".join(f"{quote}{key}{quote}" for key in target))]


def _truthy(value: Any) -> bool:
    return value is not MISSING and bool(value)


def _describe(values: list[Any], evidence: Sequence[Evidence]) -> str:
    groups: dict[str, list[str]] = {}
    for value, item in zip(values, evidence, strict=True):
        shown = "missing" if value is MISSING else f"`{_short(value)}`" if value != "" else '`""`'
        groups.setdefault(shown, []).append(item.label.rsplit("@", 1)[-1])
    return ", ".join(f"{shown} ({', '.join(dict.fromkeys(where))})" for shown, where in groups.items())


def _short(value: Any) -> str:
    text = str(value) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:37] + "..."


def _spelled(root: str, fields: Sequence[str]) -> str:
    return ".".join((".Values", root, *fields))


def _spelled_target(bridge: Bridge, fields: Sequence[str]) -> str:
    return ".".join((bridge.target, *fields))


def apply_splices(text: str, splices: Sequence[tuple[int, int, str]]) -> str:
    for start, end, replacement in sorted(splices, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


# Python readers that survive the script rewrite: a quoted root key not reached through the contract.
def python_reader_lines(text: str, bridge: Bridge) -> list[int]:
    parent = bridge.target_keys[-2] if len(bridge.target_keys) > 1 else ""
    pattern = re.compile(rf"""(["']){re.escape(bridge.root)}\1""")
    lines = []
    for match in pattern.finditer(text):
        before = text[max(0, match.start() - 24) : match.start()]
        if parent and re.search(rf"""["']{re.escape(parent)}["'](\]\[|,\s*\{{\}}\)\.get\()\s*$""", before):
            continue
        lines.append(text.count("\n", 0, match.start()) + 1)
    return lines


__all__ = [
    "Chart",
    "Evidence",
    "TemplateSyntaxError",
    "Verdict",
    "apply_splices",
    "chart_defaults",
    "charts",
    "evidence_for_chart",
    "evidence_for_values_file",
    "in_yaml_comment",
    "judge_text",
    "python_reader_lines",
    "template_files",
    "text_of",
    "values_files",
]
