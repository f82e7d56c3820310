"""Issue 12: `fleetmig check` keeps a migrated fleet migrated. The demo fleet after `apply all` is the
fleet under guard; each test reintroduces one thing a phase removed and expects the rule that names it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetmig.check.rules import BY_ID, RULES
from fleetmig.fleet.demo import write_demo

from .conftest import ROOT
from .fleets import small_fleet
from .test_cli import fleetmig

THIRD_PARTY = "sources/charts/third_party"
CNPG_VALUES = f"{THIRD_PARTY}/cnpg/cloudnative-pg/0.26.1/values.yaml"
BACKSTAGE_SHARED = "sources/values/_shared/platform/platform-backstage.yaml"
BACKSTAGE_LOCAL = "sources/values/env/local/platform/platform-backstage.yaml"
# What `apply all` leaves for a human: readers it could not move, hostnames, images, the `namespace` key.
LEFT_FOR_HUMANS = {
    "deprecated-key-reader",
    "ambiguous-root-key",
    "env-hostname-leak",
    "image-digest-pairing",
    "image-policy-mismatch",
}


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("check") / "demo"
    write_demo(root)
    return root


@pytest.fixture(scope="module")
def migrated_once(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("check") / "migrated"
    shutil.copytree(demo, root, symlinks=True)
    assert fleetmig("apply", "all", "--repo", root).returncode == 0
    git(root, "add", "--all")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qm", "apply all")
    return root


@pytest.fixture
def migrated(migrated_once: Path, tmp_path: Path) -> Path:
    root = tmp_path / "fleet"
    shutil.copytree(migrated_once, root, symlinks=True)
    return root


def check(root: Path, *args: str | Path) -> tuple[int, dict[str, Any]]:
    result = fleetmig("check", "--repo", root, "--format", "json", *args)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def hits(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(v["rule"], v["path"]) for v in report["violations"]}


def test_the_pre_migration_demo_breaks_rules_of_every_phase(demo: Path) -> None:
    code, report = check(demo)
    assert code == 1
    assert {rule.phase for rule in RULES if rule.id in {v["rule"] for v in report["violations"]}} == set("ABCDEFG")
    smoke = "environments/local/components/foundation/smokes/operators-smoke/component.yaml"
    assert ("symlinked-descriptor", smoke) in hits(report)
    assert ("appset-strict-templating", "argocd/applicationsets/cluster.yaml") in hits(report)
    for violation in report["violations"]:
        assert violation["fix"] == BY_ID[violation["rule"]].fix
        exists = (demo / violation["path"]).exists() or (demo / violation["path"]).is_symlink()
        assert exists or violation["message"].endswith("(the fix creates this file)"), violation


def test_after_apply_all_only_the_hand_work_is_left_and_suppressions_are_reported(migrated: Path) -> None:
    code, report = check(migrated)
    assert code == 1 and {v["rule"] for v in report["violations"]} == LEFT_FOR_HUMANS
    assert ("env-hostname-leak", BACKSTAGE_SHARED) in hits(report)

    leaks = [v["line"] for v in report["violations"] if v["rule"] == "env-hostname-leak"]
    pairing = [v["line"] for v in report["violations"] if v["rule"] == "image-digest-pairing"]
    suppress(migrated / BACKSTAGE_SHARED, leaks, "env-hostname-leak", "dev's catalog is the shared catalog")
    suppress(migrated / BACKSTAGE_LOCAL, pairing, "image-digest-pairing", "local pulls by tag")
    code, report = check(migrated, "--rules", "env-hostname-leak", "--rules", "image-digest-pairing")
    assert code == 0 and report["violations"] == []
    assert {(s["rule"], s["reason"]) for s in report["suppressed"]} == {
        ("env-hostname-leak", "dev's catalog is the shared catalog"),
        ("image-digest-pairing", "local pulls by tag"),
    }
    text = fleetmig("check", "--repo", migrated, "--rules", "env-hostname-leak,image-digest-pairing")
    assert text.returncode == 0
    assert "clean (2 rules of phases BE; 3 suppressed)" in text.stdout
    suppressed = f"suppressed {BACKSTAGE_LOCAL}:{pairing[0] + 1} [image-digest-pairing] because local pulls by tag"
    assert suppressed in text.stdout


def suppress(path: Path, lines: list[int], rule: str, reason: str) -> None:
    """Put the suppression comment above each flagged line (bottom up, so numbers stay valid)."""
    text = path.read_text().splitlines(keepends=True)
    for line in sorted(set(lines), reverse=True):
        indent = text[line - 1][: len(text[line - 1]) - len(text[line - 1].lstrip())]
        text.insert(line - 1, f"{indent}# fleetmig: ignore[{rule}] because {reason}\n")
    path.write_text("".join(text))


def test_a_fleet_adopts_the_guard_phase_by_phase(migrated: Path) -> None:
    policy = migrated / "fleetmig.yaml"
    policy.write_text(policy.read_text() + "\nenforce: [C, D, F, G]\n")
    code, report = check(migrated)
    assert code == 0, report["violations"]
    assert {BY_ID[rule].phase for rule in report["rules"]} == set("CDFG")
    policy.write_text(policy.read_text().replace("enforce: [C, D, F, G]", "enforce: [A]"))
    code, report = check(migrated)
    assert code == 1 and {v["rule"] for v in report["violations"]} == {"deprecated-key-reader", "ambiguous-root-key"}


def _root_key(root: Path) -> None:
    with (root / "sources/values/env/dev/globals.yaml").open("a") as file:
        file.write("cluster:\n  name: aks-dev-2\n")


def _symlink(root: Path) -> None:
    link = root / "environments/local/components/observability/otel-collector/component.yaml"
    link.unlink()
    link.symlink_to("../../../../_shared/components/observability/otel-collector/component.yaml")


def _symlink_outside(root: Path) -> None:
    values = root / "sources/values/env/local/apps/apps-graph.yaml"
    outside = root.parent / "graph-values.yaml"
    outside.write_bytes(values.read_bytes())
    values.unlink()
    values.symlink_to(os.path.relpath(outside, values.parent))


def _script_reader(root: Path) -> None:
    (root / "scripts/cluster_name.py").write_text(
        "import sys\n\nimport yaml\n\n"
        "values = yaml.safe_load(open(sys.argv[1], encoding='utf-8'))\n"
        "print(values['cluster']['name'])\n"
    )


def _lax_appset(root: Path) -> None:
    path = root / "argocd/applicationsets/ameide.yaml"
    path.write_text(path.read_text().replace('  goTemplateOptions: ["missingkey=error"]\n', ""))


def _random_secret(root: Path) -> None:
    (root / "sources/charts/apps/www-ameide/templates/secret.yaml").write_text(
        "{{- if .Values.enabled }}\napiVersion: v1\nkind: Secret\nmetadata:\n  name: www-session\n"
        "stringData:\n  key: {{ randAlphaNum 32 | quote }}\n{{- end }}\n"
    )


def _ungated_template(root: Path) -> None:
    (root / "sources/charts/apps/www-ameide/templates/configmap.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: www-extra\ndata:\n  a: b\n"
    )


def _vendored_edit(root: Path) -> None:
    path = root / CNPG_VALUES
    path.write_text(path.read_text().replace("replicaCount: 1", "replicaCount: 2", 1))


def _vendored_direct(root: Path) -> None:
    """A new component deploying the vendored chart directly; its wrapper folder is taken, so e1 can
    only report it, and the guard must still flag it."""
    source = root / "environments/_shared/components/cluster/operators/cloudnative-pg/component.yaml"
    text = source.read_text().replace("name: cloudnative-pg", "name: cloudnative-pg-canary")
    text = text.split("ignoreDifferences:")[0]  # a second copy of its scoped ignore would be phase G's
    text = text.replace(
        "path: sources/charts/platform/cloudnative-pg", f"path: {THIRD_PARTY}/cnpg/cloudnative-pg/0.26.1"
    )
    target = root / "environments/_shared/components/cluster/operators/cloudnative-pg-canary/component.yaml"
    target.parent.mkdir()
    target.write_text(text)


def _component_ignore(root: Path) -> None:
    path = root / "environments/_shared/components/observability/otel-collector/component.yaml"
    path.write_text(
        path.read_text()
        + "ignoreDifferences:\n  - group: admissionregistration.k8s.io\n    kind: MutatingWebhookConfiguration\n"
        + "    jqPathExpressions: ['.webhooks[]?.clientConfig.caBundle']\n"
    )


@pytest.mark.parametrize(
    ("reintroduce", "rule", "path"),
    [
        (_root_key, "contract-root-keys", "sources/values/env/dev/globals.yaml"),
        (_symlink, "symlinked-descriptor", "environments/local/components/observability/otel-collector/component.yaml"),
        (_symlink_outside, "symlinked-descriptor", "sources/values/env/local/apps/apps-graph.yaml"),
        (_script_reader, "deprecated-key-reader", "scripts/cluster_name.py"),
        (_lax_appset, "appset-strict-templating", "argocd/applicationsets/ameide.yaml"),
        (_random_secret, "helm-random-secret", "sources/charts/apps/www-ameide/templates/secret.yaml"),
        (_ungated_template, "missing-enabled-gate", "sources/charts/apps/www-ameide/templates/configmap.yaml"),
        (_vendored_edit, "vendored-tree-changed", CNPG_VALUES),
        (_component_ignore, "generic-ignore-outside-argocd-cm", None),
        (_vendored_direct, "vendored-chart-deployed", None),
    ],
    ids=lambda value: getattr(value, "__name__", None) and value.__name__.strip("_"),
)
def test_what_a_phase_removed_is_flagged_when_it_comes_back(
    migrated: Path, reintroduce: Callable[[Path], None], rule: str, path: str | None
) -> None:
    _, before = check(migrated)
    reintroduce(migrated)
    code, report = check(migrated)
    assert code == 1
    new = hits(report) - hits(before)
    assert {r for r, _ in new} == {rule}, report["violations"]
    if path is not None:
        assert (rule, path) in new


def test_a_symlink_outside_the_repository_says_so(migrated: Path) -> None:
    _symlink_outside(migrated)
    _, report = check(migrated, "--rules", "symlinked-descriptor")
    assert any("points outside the repository" in v["message"] for v in report["violations"])


def test_base_flags_a_committed_vendored_edit_but_not_a_version_bump(migrated: Path) -> None:
    base = git(migrated, "rev-parse", "HEAD")
    bump = migrated / THIRD_PARTY / "cnpg/cloudnative-pg/0.27.0"
    shutil.copytree(migrated / THIRD_PARTY / "cnpg/cloudnative-pg/0.26.1", bump)
    lock = migrated / THIRD_PARTY / "charts.lock.yaml"
    lock.write_text(lock.read_text().replace('vendoredAt: "2025-12-04"', 'vendoredAt: "2026-11-01"'))
    git(migrated, "add", "--all")
    git(migrated, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qm", "bump")
    code, report = check(migrated, "--base", base, "--rules", "vendored-tree-changed")
    assert code == 0, report["violations"]

    _vendored_edit(migrated)
    git(migrated, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qam", "patch upstream")
    code, report = check(migrated, "--base", base, "--rules", "vendored-tree-changed")
    assert code == 1
    assert {v["path"] for v in report["violations"]} == {CNPG_VALUES}
    assert any(f"(since {base})" in v["message"] for v in report["violations"])


def test_github_and_sarif_output(demo: Path) -> None:
    _, report = check(demo)
    github = fleetmig("check", "--repo", demo, "--format", "github")
    assert github.returncode == 1
    annotations = [line for line in github.stdout.splitlines() if line.startswith("::error ")]
    assert len(annotations) == len(report["violations"])
    assert "::error file=argocd/applicationsets/cluster.yaml,line=12,title=appset-strict-templating::" in github.stdout

    result = fleetmig("check", "--repo", demo, "--format", "sarif")
    assert result.returncode == 1
    sarif = json.loads(result.stdout)
    assert_sarif(sarif)
    run = sarif["runs"][0]
    assert len(run["results"]) == len(report["violations"])
    assert {r["ruleId"] for r in run["results"]} == {v["rule"] for v in report["violations"]}


def assert_sarif(sarif: dict[str, Any]) -> None:
    """The SARIF 2.1.0 schema's required properties, enums and cross-references for what we emit
    (the OASIS schema itself is not reachable offline, see the README)."""
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    (run,) = sarif["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "fleetmig" and driver["version"]
    ids = [rule["id"] for rule in driver["rules"]]
    assert len(ids) == len(set(ids))
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in {"none", "note", "warning", "error"}
        assert result["message"]["text"]
        (location,) = result["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        assert not artifact["uri"].startswith("/") and artifact["uriBaseId"] == "%SRCROOT%"
        if "region" in location["physicalLocation"]:
            assert location["physicalLocation"]["region"]["startLine"] >= 1
        for suppression in result.get("suppressions", []):
            assert suppression["kind"] in {"inSource", "external"} and suppression["justification"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--rules", "no-such-rule"), "unknown rule no-such-rule"),
        (("--base", "no-such-ref"), "cannot compare with `no-such-ref`"),
    ],
)
def test_input_errors_exit_2(demo: Path, args: tuple[str, ...], message: str) -> None:
    result = fleetmig("check", "--repo", demo, *args)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_an_unknown_phase_in_enforce_is_an_input_error(tmp_path: Path, demo: Path) -> None:
    root = tmp_path / "fleet"
    shutil.copytree(demo, root, symlinks=True)
    (root / "fleetmig.yaml").write_text((root / "fleetmig.yaml").read_text() + "enforce: [A, Z]\n")
    result = fleetmig("check", "--repo", root)
    assert result.returncode == 2 and "fleetmig.yaml" in result.stderr and "enforce" in result.stderr


def test_base_needs_a_git_repository(tmp_path: Path, demo: Path) -> None:
    root = tmp_path / "fleet"
    shutil.copytree(demo, root, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    result = fleetmig("check", "--repo", root, "--base", "HEAD")
    assert result.returncode == 2 and "--base needs the fleet to be a git repository" in result.stderr


def test_rules_are_explained_and_listed() -> None:
    explained = fleetmig("explain", "rollingsync-coverage")
    assert explained.returncode == 0
    assert "# rollingsync-coverage (phase B)" in explained.stdout and "b4-rollingsync-coverage" in explained.stdout
    listed = fleetmig("check", "--list-rules").stdout.splitlines()
    assert [line.split("\t")[0] for line in listed] == [rule.id for rule in RULES]


def test_the_pre_commit_hook_runs_the_guard_on_the_whole_fleet() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "fleetmig-check" and hook["entry"] == "fleetmig check"
    assert hook["pass_filenames"] is False and hook["language"] == "python"


def test_a_small_unmigrated_fleet_is_flagged_where_its_root_key_lives(tmp_path: Path) -> None:
    root = small_fleet(tmp_path / "small")
    code, report = check(root, "--rules", "contract-root-keys")
    assert code == 1 and report["violations"][0]["path"] == "sources/values/cluster/local/globals.yaml"
