"""a4-script-consumers: which receivers count as Helm values, and what is reported instead of rewritten.

The golden cases cover whole files (formatting, CRLF, vendored and hidden folders); these pin the
decisions one construct at a time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetmig.engine import Changeset, registry
from fleetmig.fleet.model import Fleet

from .fleets import POLICY, write_fleet

SCRIPT = "scripts/tool.py"
(CODEMOD,) = registry.select("a4-script-consumers")


def run(root: Path, source: str | bytes, policy: str = POLICY) -> tuple[Changeset, bytes]:
    """Apply the codemod to a fleet holding one script; the script's new bytes (old when unchanged)."""
    write_fleet(root, {"fleetmig.yaml": policy, SCRIPT: source})
    changeset = CODEMOD().apply(Fleet.open(root))
    after = changeset.contents().get(SCRIPT)
    return changeset, after if after is not None else (root / SCRIPT).read_bytes()


def manual(changeset: Changeset) -> list[str]:
    return [f"{f.line}: {f.message}" for f in changeset.findings]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "cfg = load_values(path)\nx = cfg['cluster']\n",
            "cfg = load_values(path)\nx = cfg['global']['ameide']['cluster']\n",
        ),
        (
            "def f(cfg: HelmValues):\n    return cfg.get('cluster')\n",
            "def f(cfg: HelmValues):\n    return cfg.get('global', {}).get('ameide', {}).get('cluster')\n",
        ),
        (
            "def f(clusterValues):\n    return 'cluster' in clusterValues\n",
            "def f(clusterValues):\n    return 'cluster' in clusterValues.get('global', {}).get('ameide', {})\n",
        ),
        (
            "x = yamlutil.load_globals(path)['cluster']\n",
            "x = yamlutil.load_globals(path)['global']['ameide']['cluster']\n",
        ),
        (
            "x = self.env_values['cluster']\n",
            "x = self.env_values['global']['ameide']['cluster']\n",
        ),
    ],
    ids=["loader-bound-name", "annotated-param", "camel-case-param", "loader-call", "attribute"],
)
def test_receivers_that_hold_values_are_rewritten(tmp_path: Path, source: str, expected: str) -> None:
    changeset, after = run(tmp_path, source)
    assert after.decode() == expected
    assert manual(changeset) == []


def test_a_name_also_bound_from_elsewhere_is_reported_not_rewritten(tmp_path: Path) -> None:
    source = "cfg = load_values(path) if path else descriptor()\ncfg = load_values(path)\nx = cfg['cluster']\n"
    changeset, after = run(tmp_path, source)
    assert after.decode() == source
    assert manual(changeset) == [
        "3: may read the deprecated root key `cluster` (now `global.ameide.cluster`); receiver `cfg` is not "
        "known to hold Helm values; rewrite by hand if it does"
    ]


def test_a_moved_key_under_a_deeper_contract_path(tmp_path: Path) -> None:
    policy = POLICY + "contract:\n  root: global.fleet\n  move: {clusterInfo: cluster.info}\n"
    source = "a = values['clusterInfo']['region']\nb = values.get('clusterInfo', {})\nc = values['cluster']\n"
    changeset, after = run(tmp_path, source, policy)
    assert after.decode() == (
        "a = values['global']['fleet']['cluster']['info']['region']\n"
        "b = values.get('global', {}).get('fleet', {}).get('cluster', {}).get('info', {})\n"
        "c = values['cluster']\n"
    )
    (change,) = changeset.changes
    assert change.reason == "read `global.fleet.cluster.info` instead of the deprecated root `clusterInfo` (2 places)"
    assert change.line == 1
    again, _ = run(tmp_path, after, policy)
    assert not again.changes


def test_reading_type_through_the_contract_is_flagged_for_a_human(tmp_path: Path) -> None:
    source = "def f(values):\n    return values.get('cluster', {}).get('type'), values['cluster']['name']\n"
    changeset, after = run(tmp_path, source)
    assert after.decode() == (
        "def f(values):\n"
        "    return values.get('global', {}).get('ameide', {}).get('cluster', {}).get('type'), "
        "values['global']['ameide']['cluster']['name']\n"
    )
    assert manual(changeset) == [
        "2: now reads `global.ameide.cluster.type`, which holds the cluster type (local) where root "
        "`cluster.type` held the distribution; check this script's output"
    ]


def test_writes_and_deletes_of_the_root_key_are_reported(tmp_path: Path) -> None:
    source = "values['cluster'] = {}\ndel values['cluster']\n"
    changeset, after = run(tmp_path, source)
    assert after.decode() == source
    assert manual(changeset) == [
        "1: assigns the deprecated root key `cluster`; fleetmig rewrites only reads, move this to "
        "`global.ameide.cluster` by hand",
        "2: deletes the deprecated root key `cluster`; fleetmig rewrites only reads, move this to "
        "`global.ameide.cluster` by hand",
    ]


def test_calls_not_shaped_like_dict_get_are_left_alone(tmp_path: Path) -> None:
    source = "a = values.get('cluster', {}, strict=True)\nb = values.get(key='cluster')\nc = values.pop('x')\n"
    changeset, after = run(tmp_path, source)
    assert after.decode() == source
    assert manual(changeset) == []


@pytest.mark.parametrize(
    ("source", "line", "reason"),
    [
        (b"x = values['cluster'] + '\xff'\n", None, "invalid or missing encoding declaration"),
        (b"x = values['cluster']\n\n\ny = '\xff'\n", 4, "not utf-8 text (invalid start byte)"),
        (b"x = values['cluster']\n\x00\n", 1, "source code string cannot contain null bytes"),
        (b"x = values['cluster']\n\ndef f(:\n    pass\n", 3, "invalid syntax"),
    ],
    ids=["undecodable-first-lines", "undecodable", "null-byte", "syntax-error"],
)
def test_files_that_do_not_parse_are_findings(tmp_path: Path, source: bytes, line: int | None, reason: str) -> None:
    changeset, after = run(tmp_path, source)
    assert after == source
    (finding,) = changeset.findings
    assert (finding.line, finding.message) == (line, f"not checked for reads of root `cluster`: {reason}")
