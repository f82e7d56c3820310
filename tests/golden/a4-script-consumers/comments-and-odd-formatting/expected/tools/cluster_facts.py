"""Odd formatting around the reads: every comment and line break here must survive."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

HelmValues = dict[str, Any]


def describe(values: dict) -> tuple[Any, ...]:
    kind = values['global']['ameide'][
        'cluster'  # the root block, for now
    ][
        "type"
    ]
    name = values.get("global", {}).get("ameide", {}).get(
        "cluster",   # older files have no block
        {},
    ).get("name")
    context = (values[r'global'][r'ameide']
               [r'cluster']  # raw string, same key
               .get('context'))
    missing = 'cluster' not in values.get('global', {}).get('ameide', {})  # membership test
    return kind, name, context, missing


def arch(cfg: HelmValues) -> str:
    return cfg.get("global", {}).get("ameide", {}).get("cluster", {}).get("arch", "amd64")  # annotated parameter


@dataclass
class Report:
    cluster_values: dict

    def title(self) -> str:
        # An attribute whose name says it holds values.
        return str(self.cluster_values["global"]["ameide"]["cluster"]  ["name"])
