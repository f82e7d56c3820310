"""`fleetmig seeds` output: the Vault KV keys to create per environment (names only, never values)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from fleetmig.fleet.secrets import Seed

HEADERS = ("env", "namespace", "store", "key", "property", "Secret", "Secret key", "release")


def _row(seed: Seed) -> tuple[str, ...]:
    return (
        seed.env,
        seed.namespace,
        seed.store,
        seed.key,
        seed.property or "",
        seed.secret,
        seed.secret_key,
        seed.release,
    )


def as_json(seeds: Sequence[Seed], failed: Sequence[str]) -> str:
    return json.dumps(
        {"seeds": [dict(zip(HEADERS, _row(seed), strict=True)) for seed in seeds], "unrendered": list(failed)},
        indent=2,
    )


def as_markdown(seeds: Sequence[Seed], failed: Sequence[str]) -> str:
    lines = ["## Vault KV keys to seed before the migrated charts sync", ""]
    for env in sorted({seed.env for seed in seeds}):
        namespaces = sorted({seed.namespace for seed in seeds if seed.env == env})
        lines += [
            f"### {env} ({', '.join(namespaces)})",
            "",
            "| " + " | ".join(HEADERS[2:]) + " |",
            "|" + "---|" * (len(HEADERS) - 2),
        ]
        lines += ["| " + " | ".join(f"`{c}`" if c else "" for c in _row(s)[2:]) + " |" for s in seeds if s.env == env]
        lines.append("")
    lines += [f"- not rendered, seeds unknown: {item}" for item in failed]
    return "\n".join(lines) + "\n"


def print_table(console: Console, seeds: Sequence[Seed], failed: Sequence[str]) -> None:
    table = Table(*HEADERS, title="Vault KV keys to seed (values are never shown)")
    for seed in seeds:
        table.add_row(*_row(seed))
    console.print(table)
    for item in failed:
        console.print(f"not rendered, seeds unknown: {item}")
