"""Issue 15: a value held under a secret-looking key in a values file never reaches a dry-run diff,
a report, a CI log or a PR body; it is shown as <redacted>."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest

from fleetmig.fleet.demo import write_demo
from fleetmig.report.redact import RedactingStream, looks_secret, redact_text, secret_values

from .test_cli import fleetmig

SECRETS = ("hunter2-local-registry", "tok_3f9a8b7c6d5e4f", "MIIEpAIBAAKCAQEAsecretkeymaterial", "s3cr3t-Session-Key")
LOCAL_GLOBALS = "sources/values/cluster/local/globals.yaml"
PLANTED = """\
tls:
  key: |
    -----BEGIN RSA PRIVATE KEY-----
    MIIEpAIBAAKCAQEAsecretkeymaterial
    -----END RSA PRIVATE KEY-----
# Break-glass credentials for the local registry mirror.
registryAuth:
  username: ameide
  password: hunter2-local-registry
  token: "tok_3f9a8b7c6d5e4f"
"""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo with credentials right above the `cluster` key phase A edits (so they are diff context)."""
    root = tmp_path_factory.mktemp("secrets") / "fleet"
    write_demo(root)
    path = root / LOCAL_GLOBALS
    path.write_text(path.read_text().replace("# Cluster identity.", PLANTED + "# Cluster identity.", 1))
    backstage = root / "sources/values/_shared/platform/platform-backstage.yaml"
    backstage.write_text(backstage.read_text() + "auth:\n  sessionSecret: s3cr3t-Session-Key\n")
    subprocess.run(["git", "-C", str(root), "commit", "-qam", "credentials"], check=True)
    return root


def assert_clean(text: str) -> None:
    leaked = [secret for secret in SECRETS if secret in text]
    assert not leaked, f"leaked {leaked}"


def test_dry_run_diffs_and_json_are_redacted(fleet: Path) -> None:
    diff = fleetmig("apply", "phase-a", "--repo", fleet, "--dry-run")
    assert diff.returncode == 0, diff.stderr
    assert "   password: <redacted>" in diff.stdout and "   token: <redacted>" in diff.stdout
    assert_clean(diff.stdout + diff.stderr)
    as_json = fleetmig("apply", "phase-a", "--repo", fleet, "--dry-run", "--format", "json")
    assert_clean(as_json.stdout + as_json.stderr)
    assert any("<redacted>" in change["diff"] for change in json.loads(as_json.stdout)["changes"])


def test_reports_are_redacted(fleet: Path, tmp_path: Path) -> None:
    for args in (("plan", "all"), ("plan", "all", "--format", "markdown"), ("check",), ("check", "--format", "sarif")):
        result = fleetmig(*args, "--repo", fleet)
        assert result.returncode in (0, 1), result.stderr
        assert_clean(result.stdout + result.stderr)
    verify = fleetmig("verify", "--repo", fleet, "--base", "HEAD~1", "--no-schemas", "--format", "markdown")
    assert_clean(verify.stdout + verify.stderr)


def test_pr_bodies_are_redacted(fleet: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(fleet), str(remote)], check=True)
    result = fleetmig(
        "bot", "run", "--repos", remote, "--phases", "a", "--workdir", tmp_path / "work", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    (outcome,) = json.loads(result.stdout)["outcomes"]
    assert_clean(Path(outcome["body"]).read_text())


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True), ("dbPassword", True), ("apiKey", True), ("token", True), ("clientSecret", True),
        ("key", True), ("secretName", False), ("passwordRef", False), ("existingSecret", False),
        ("secretKeyRef", False), ("username", False), ("name", False),
    ],
)  # fmt: skip
def test_which_keys_look_secret(key: str, secret: bool) -> None:
    assert looks_secret(key) is secret


def test_private_key_blocks_and_block_scalars_are_redacted_in_diffs() -> None:
    diff = (
        " tls:\n   key: |\n     -----BEGIN EC PRIVATE KEY-----\n-    MHcCAQEEIOld\n+    MHcCAQEEINew\n"
        "     -----END EC PRIVATE KEY-----\n   caBundle: abc\n+  password: |\n+    line one\n   user: me\n"
    )
    assert redact_text(diff) == (
        " tls:\n   key: |\n     <redacted>\n-    <redacted>\n+    <redacted>\n"
        "     <redacted>\n   caBundle: abc\n+  password: |\n+    <redacted>\n   user: me\n"
    )
    pem = "ca: |\n  -----BEGIN PRIVATE KEY-----\n  MIIEvQIBADANBgkq\n  -----END PRIVATE KEY-----\nname: x\n"
    redacted = "ca: |\n  -----BEGIN PRIVATE KEY-----\n  <redacted>\n  -----END PRIVATE KEY-----\nname: x\n"
    assert redact_text(pem) == redacted


def test_names_under_a_bare_key_stay_readable() -> None:
    text = "- key: k8s.cluster.name\n- key: app/db-password\n  key: AKIAQWERTYUIOP1234567890abcd\n"
    assert redact_text(text) == "- key: k8s.cluster.name\n- key: app/db-password\n  key: <redacted>\n"


def test_values_under_secret_keys_are_collected_at_any_depth() -> None:
    data = {"a": {"password": "p@ss-word-1"}, "list": [{"token": 12345678}], "secretName": "not-a-secret"}
    assert secret_values(data) == {"p@ss-word-1", "12345678"}


def test_a_json_document_is_redacted_as_its_encoded_text_would_be() -> None:
    document = {"changes": [{"diff": "@@ -1 +1 @@\n-password: hunter2-local-registry\n+token: x\n"}], "n": [1, 2.5]}
    literals = {"hunter2-local-registry"}
    as_text, as_document = io.StringIO(), io.StringIO()
    RedactingStream(as_text, literals).write(json.dumps(document, indent=2) + "\n")
    RedactingStream(as_document, literals).write_json(document)
    assert as_document.getvalue() == as_text.getvalue()
    assert "hunter2" not in as_document.getvalue() and "<redacted>" in as_document.getvalue()
