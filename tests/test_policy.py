"""fleetmig.yaml: the v1 format as DESIGN.md writes it, defaults, every error class, and `init` detection."""

from __future__ import annotations

import dataclasses
import json
import re
import string
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from fleetmig.errors import InputError
from fleetmig.fleet.detect import detect_policy_yaml, write_policy
from fleetmig.fleet.policy import (
    LAYOUT_DEFAULTS,
    LAYOUT_FIELDS,
    POLICY_FILE,
    Layout,
    default_policy,
    layout_path_problem,
    load_policy,
    parse_policy,
    policy_schema,
)

POLICY_PATH = Path("fleet/fleetmig.yaml")

# Verbatim from DESIGN.md, "The policy file (v1)". Do not reformat: it must load exactly as written.
DESIGN_V1 = """\
version: 1
contract:
  root: global.ameide            # where the fleet contract lives
  move: {cluster: cluster}       # root key in fleet globals -> path under the contract root
  ambiguousKeys: [cluster, name, type, spec, namespace]
clusterTypes:
  local:
    cluster: {name: k3d-ameide, arch: arm64}      # type = the map key
    capabilities:
      operators: {agentOperator: false}
      workloads: {devcontainerService: false, langfuseWorker: false}
    images: {preferMirror: false, requireMultiArch: true}
    omit: [platform-azure-dns-issuer]   # components (descriptor `name`) never generated here
    off: [apps-keda-scaledobjects]      # generated, but with enabled: false
  azure:
    cluster: {name: aks-ameide-weu-01, arch: amd64}
    capabilities:
      operators: {agentOperator: true}
      workloads: {devcontainerService: true, langfuseWorker: true}
    images: {preferMirror: true, requireMultiArch: false}
capabilityGates:                  # component -> capability that must be true for it to exist
  agent-operator: operators.agentOperator
  platform-devcontainer-service: workloads.devcontainerService
images: {mirrorRegistry: ghcr.io/ameideio/mirror}
secrets:
  store: {kind: SecretStore, name: ameide-vault}
  key: "{release}-{secret}"       # Vault KV key template; property below
  property: value
diff:
  promoteThreshold: 2             # same generic ignore in >= N components -> argocd-cm
"""

# The layout defaults as the brief for this module lists them.
DOCUMENTED_LAYOUT = {
    "baseGlobals": "sources/values/base/globals.yaml",
    "clusterGlobals": "sources/values/cluster/{clusterType}/globals.yaml",
    "envGlobals": "sources/values/env/{env}/globals.yaml",
    "sharedValues": "sources/values/_shared",
    "envValues": "sources/values/env",
    "clusterConfigs": "config/clusters",
    "sharedComponents": "environments/_shared/components",
    "localComponents": "environments/local/components",
    "optionalComponents": "environments/_optional",
    "ownedCharts": (
        "sources/charts/apps",
        "sources/charts/data",
        "sources/charts/foundation",
        "sources/charts/platform",
        "sources/charts/observability",
        "sources/charts/cluster",
    ),
    "thirdParty": "sources/charts/third_party",
    "wrappers": "sources/charts/platform",
    "applicationSets": "argocd/applicationsets",
    "overlays": "argocd/overlays",
    "argocdValues": "sources/values/common/argocd.yaml",
}


def _error(text: str) -> InputError:
    with pytest.raises(InputError) as caught:
        parse_policy(text, POLICY_PATH)
    return caught.value


# --- the v1 format as written ------------------------------------------------------------------


def test_design_v1_example_loads_and_means_what_it_says() -> None:
    policy = parse_policy(DESIGN_V1, POLICY_PATH)

    assert policy.version == 1
    assert policy.source == POLICY_PATH
    assert policy.contract_root == "global.ameide"
    assert dict(policy.contract_move) == {"cluster": "cluster"}
    assert policy.ambiguous_keys == ("cluster", "name", "type", "spec", "namespace")

    assert list(policy.cluster_types) == ["local", "azure"]
    local = policy.cluster_types["local"]
    assert local.name == "local"
    assert local.cluster_name == "k3d-ameide"
    assert local.arch == "arm64"
    assert local.capabilities == {
        "operators": {"agentOperator": False},
        "workloads": {"devcontainerService": False, "langfuseWorker": False},
    }
    assert local.prefer_mirror is False
    assert local.require_multi_arch is True
    assert local.omit == ("platform-azure-dns-issuer",)
    assert local.off == ("apps-keda-scaledobjects",)

    azure = policy.cluster_types["azure"]
    assert azure.name == "azure"
    assert azure.cluster_name == "aks-ameide-weu-01"
    assert azure.arch == "amd64"
    assert azure.capabilities == {
        "operators": {"agentOperator": True},
        "workloads": {"devcontainerService": True, "langfuseWorker": True},
    }
    assert azure.prefer_mirror is True
    assert azure.require_multi_arch is False
    assert azure.omit == ()
    assert azure.off == ()

    assert dict(policy.capability_gates) == {
        "agent-operator": "operators.agentOperator",
        "platform-devcontainer-service": "workloads.devcontainerService",
    }
    # A gate names a capability that each cluster type answers for itself.
    gate = policy.capability_gates["agent-operator"]
    assert local.capability(gate) is False
    assert azure.capability(gate) is True
    assert local.capability("operators.unknown") is None

    assert policy.mirror_registry == "ghcr.io/ameideio/mirror"
    assert policy.secrets_store_kind == "SecretStore"
    assert policy.secrets_store_name == "ameide-vault"
    assert policy.secrets_key == "{release}-{secret}"
    assert policy.secrets_property == "value"
    assert policy.diff_promote_threshold == 2
    assert policy.layout == Layout()
    assert policy.raw["clusterTypes"]["local"]["omit"] == ["platform-azure-dns-issuer"]


def test_design_v1_example_passes_the_published_schema_directly() -> None:
    # Editors validate with the schema alone (no fleetmig code), so it must accept the example too.
    data = YAML(typ="safe", pure=True).load(DESIGN_V1)
    jsonschema.Draft202012Validator(policy_schema()).validate(data)


def test_load_policy_reads_the_file_at_the_fleet_root(tmp_path: Path) -> None:
    (tmp_path / POLICY_FILE).write_text(DESIGN_V1, encoding="utf-8")
    policy = load_policy(tmp_path)
    assert policy.source == tmp_path / POLICY_FILE
    assert policy.cluster_types["azure"].cluster_name == "aks-ameide-weu-01"


def test_load_policy_accepts_a_bom_and_crlf(tmp_path: Path) -> None:
    (tmp_path / POLICY_FILE).write_bytes(b"\xef\xbb\xbf" + DESIGN_V1.replace("\n", "\r\n").encode())
    assert load_policy(tmp_path).cluster_types["local"].arch == "arm64"


# --- defaults ----------------------------------------------------------------------------------


def test_without_a_policy_file_the_defaults_apply(tmp_path: Path) -> None:
    policy = load_policy(tmp_path)
    assert policy == default_policy()
    assert policy.source is None
    assert policy.version == 1
    assert policy.contract_root == "global.ameide"
    assert dict(policy.contract_move) == {"cluster": "cluster"}
    assert policy.ambiguous_keys == ("cluster", "name", "type", "spec", "namespace")
    assert dict(policy.cluster_types) == {}  # nothing is assumed about cluster types
    assert dict(policy.capability_gates) == {}
    assert policy.mirror_registry is None
    assert (policy.secrets_store_kind, policy.secrets_store_name) == ("SecretStore", "ameide-vault")
    assert (policy.secrets_key, policy.secrets_property) == ("{release}-{secret}", "value")
    assert policy.diff_promote_threshold == 2
    assert dict(policy.raw) == {}


def test_a_minimal_file_takes_every_default() -> None:
    policy = parse_policy("version: 1\n", POLICY_PATH)
    assert dataclasses.replace(policy, source=None, raw={}) == default_policy()


def test_layout_defaults_are_the_documented_ones() -> None:
    assert dict(LAYOUT_DEFAULTS) == DOCUMENTED_LAYOUT
    assert list(LAYOUT_DEFAULTS) == list(DOCUMENTED_LAYOUT)
    assert dict(Layout().as_mapping()) == DOCUMENTED_LAYOUT
    assert LAYOUT_FIELDS["argocdValues"] == "argocd_values"
    assert LAYOUT_FIELDS["applicationSets"] == "application_sets"


def test_schema_defaults_match_the_code() -> None:
    schema = policy_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    layout = schema["properties"]["layout"]["properties"]
    assert list(layout) == list(LAYOUT_DEFAULTS)
    for key, default in LAYOUT_DEFAULTS.items():
        expected = list(default) if isinstance(default, tuple) else default
        assert layout[key]["default"] == expected, key
    contract = schema["properties"]["contract"]["properties"]
    policy = default_policy()
    assert contract["root"]["default"] == policy.contract_root
    assert contract["move"]["default"] == dict(policy.contract_move)
    assert contract["ambiguousKeys"]["default"] == list(policy.ambiguous_keys)
    secrets = schema["properties"]["secrets"]["properties"]
    assert secrets["key"]["default"] == policy.secrets_key
    assert secrets["property"]["default"] == policy.secrets_property
    assert secrets["store"]["properties"]["kind"]["default"] == policy.secrets_store_kind
    assert secrets["store"]["properties"]["name"]["default"] == policy.secrets_store_name
    diff = schema["properties"]["diff"]["properties"]
    assert diff["promoteThreshold"]["default"] == policy.diff_promote_threshold


def test_policy_schema_returns_a_copy() -> None:
    policy_schema()["properties"].clear()
    assert "version" in policy_schema()["properties"]


def test_layout_overrides_and_templates() -> None:
    policy = parse_policy(
        "version: 1\n"
        "layout:\n"
        "  clusterGlobals: values/types/{clusterType}.yaml\n"
        "  envGlobals: values/{env}/{env}-globals.yaml\n"
        "  ownedCharts: [charts/a, charts/b]\n"
        "  argocdValues: argo/values.yaml\n",
        POLICY_PATH,
    )
    layout = policy.layout
    assert layout.cluster_globals_for("local") == "values/types/local.yaml"
    assert layout.env_globals_for("dev") == "values/dev/dev-globals.yaml"
    assert layout.owned_charts == ("charts/a", "charts/b")
    assert layout.argocd_values == "argo/values.yaml"
    assert layout.base_globals == DOCUMENTED_LAYOUT["baseGlobals"]  # untouched keys keep defaults
    assert Layout().cluster_globals_for("azure") == "sources/values/cluster/azure/globals.yaml"
    assert Layout().env_globals_for("production") == "sources/values/env/production/globals.yaml"


@pytest.mark.parametrize("name", ["../x", "a/b", "", ".", "-x"])
def test_template_names_that_would_leave_their_directory_are_refused(name: str) -> None:
    with pytest.raises(InputError, match="cannot be used in a path"):
        Layout().cluster_globals_for(name)
    with pytest.raises(InputError, match="cannot be used in a path"):
        Layout().env_globals_for(name)


def test_policy_is_immutable() -> None:
    policy = parse_policy(DESIGN_V1, POLICY_PATH)
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.version = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        policy.cluster_types["local"].capabilities["operators"]["agentOperator"] = True  # type: ignore[index]


# --- errors ------------------------------------------------------------------------------------

ERROR_CASES = [
    pytest.param("version: 1\ncontract:\n  root: [a\n", 4, ["invalid YAML"], id="yaml-syntax"),
    pytest.param("version: 1\ncontract:\n  root: a: b\n", 3, ["invalid YAML"], id="yaml-mapping-in-plain"),
    pytest.param("version: 1\nversion: 1\n", 2, ["duplicate key 'version'", "top level"], id="dup-top"),
    pytest.param(
        "version: 1\nclusterTypes:\n  local:\n    omit: [a]\n    omit: [b]\n",
        5,
        ["duplicate key 'omit'", "clusterTypes.local"],
        id="dup-nested",
    ),
    pytest.param("version: 1\nfoo: 1\n", 2, ["unknown key 'foo' at the top level"], id="unknown-top"),
    pytest.param(
        "version: 1\nclusterTypes:\n  local:\n    cluster: {name: k}\n    foo: 1\n",
        5,
        ["unknown key 'foo' in clusterTypes.local"],
        id="unknown-nested",
    ),
    pytest.param(
        "version: 1\nclusterTypes:\n  local:\n    cluster: {name: k, flavour: x}\n",
        4,
        ["unknown key 'flavour' in clusterTypes.local.cluster"],
        id="unknown-in-flow-mapping",
    ),
    pytest.param("version: 1\nclusterType: {}\n", 2, ["did you mean 'clusterTypes'?"], id="unknown-suggest"),
    pytest.param(
        "version: 1\nclusterTypes:\n  local:\n    capabilities:\n      operators:\n        agentOperator: yes\n",
        6,
        ["clusterTypes.local.capabilities.operators.agentOperator", "boolean", "'yes'"],
        id="wrong-type-bool",
    ),
    pytest.param("version: 1\ndiff:\n  promoteThreshold: two\n", 3, ["diff.promoteThreshold"], id="wrong-type"),
    pytest.param("version: 1\nlayout:\n", 2, ["layout: expected a mapping, got null"], id="null-section"),
    pytest.param(
        "version: 1\nclusterTypes:\n  local:\n    cluster: {name: k3d, arch: x86}\n",
        4,
        ["clusterTypes.local.cluster.arch: 'x86' is not one of ['amd64', 'arm64']"],
        id="bad-enum",
    ),
    pytest.param("version: 2\n", 1, ["version: 2 is not supported"], id="version-2"),
    pytest.param("# policy\nversion: '1'\n", 2, ["version: expected an integer"], id="version-string"),
    pytest.param("clusterTypes: {}\n", 1, ["missing required key 'version'"], id="version-missing"),
    pytest.param(
        "version: 1\nlayout:\n  baseGlobals: /etc/globals.yaml\n",
        3,
        ["layout.baseGlobals", "absolute path"],
        id="absolute",
    ),
    pytest.param("version: 1\nlayout:\n  overlays: C:/argocd\n", 3, ["layout.overlays", "absolute"], id="drive"),
    pytest.param(
        "version: 1\nlayout:\n  sharedValues: sources/../../etc\n",
        3,
        ["layout.sharedValues", "'..'"],
        id="dotdot",
    ),
    pytest.param(
        "version: 1\nlayout:\n  ownedCharts:\n    - charts/a\n    - ../charts/b\n",
        5,
        ["layout.ownedCharts[1]", "'..'"],
        id="dotdot-in-list",
    ),
    pytest.param(
        'version: 1\nlayout:\n  thirdParty: "sources\\\\charts"\n',
        3,
        ["layout.thirdParty", "backslash"],
        id="backslash",
    ),
    pytest.param(
        "version: 1\nlayout:\n  clusterGlobals: sources/values/cluster/globals.yaml\n",
        3,
        ["layout.clusterGlobals", "{clusterType}"],
        id="missing-cluster-placeholder",
    ),
    pytest.param(
        "version: 1\nlayout:\n  envGlobals: sources/values/env/globals.yaml\n",
        3,
        ["layout.envGlobals", "{env}"],
        id="missing-env-placeholder",
    ),
    pytest.param(
        "version: 1\nlayout:\n  envGlobals: sources/{env}/{clustertype}.yaml\n",
        3,
        ["layout.envGlobals", "unknown placeholder"],
        id="unknown-placeholder",
    ),
    pytest.param("version: 1\nlayout:\n  baseGlobals: ''\n", 3, ["layout.baseGlobals", "empty"], id="empty-path"),
    pytest.param("- version: 1\n", 1, ["top level must be a mapping", "list"], id="top-list"),
    pytest.param("just a string\n", 1, ["top level must be a mapping", "string"], id="top-scalar"),
    pytest.param("", 1, ["empty"], id="empty-file"),
    pytest.param("# only a comment\n", 1, ["empty"], id="comment-only"),
    pytest.param(
        "version: 1\nclusterTypes:\n  local/../x: {}\n",
        3,
        ["clusterTypes: key 'local/../x'"],
        id="bad-type-name",
    ),
    pytest.param(
        "version: 1\ncapabilityGates:\n  agent-operator: agentOperator\n",
        3,
        ["capabilityGates.agent-operator", "group.name"],
        id="bad-gate",
    ),
    pytest.param(
        "version: 1\nclusterTypes:\n  local:\n    omit: [a, a]\n",
        4,
        ["omit[1]", "more than once"],
        id="dup-item",
    ),
    pytest.param(
        "version: 1\nclusterTypes:\n  local:\n    omit: [apps-x]\n    off: [apps-x]\n",
        5,
        ["clusterTypes.local.off[0]", "also in clusterTypes.local.omit"],
        id="omit-and-off",
    ),
    pytest.param(
        "version: 1\nimages: {mirrorRegistry: 'https://ghcr.io/x'}\n",
        2,
        ["images.mirrorRegistry", "without a scheme"],
        id="registry-scheme",
    ),
    pytest.param("version: 1\nsecrets:\n  store: {kind: Vault}\n", 3, ["secrets.store.kind"], id="store-kind"),
    pytest.param("version: 1\ndiff: {promoteThreshold: 0}\n", 2, ["at least 1"], id="threshold-zero"),
    pytest.param("version: 1\ncontract:\n  root: 2024-01-01\n", 3, ["contract.root", "date"], id="date"),
]


@pytest.mark.parametrize(("text", "line", "fragments"), ERROR_CASES)
def test_errors_name_the_key_and_the_line(text: str, line: int, fragments: list[str]) -> None:
    error = _error(text)
    assert error.path == str(POLICY_PATH)
    assert error.line == line, str(error)
    assert error.column is not None and error.column >= 1
    for fragment in fragments:
        assert fragment in error.message, str(error)
    assert str(error).startswith(f"{POLICY_PATH}:{line}:")


def test_unknown_key_points_at_the_key_itself() -> None:
    error = _error("version: 1\nclusterTypes:\n  local:\n    cluster: {name: k, flavour: x}\n")
    assert (error.line, error.column) == (4, 24)
    error = _error("version: 1\nclusterTypes:\n  local:\n      foo: 1\n")
    assert (error.line, error.column) == (4, 7)


def test_value_errors_point_at_their_key() -> None:
    error = _error("version: 1\nclusterTypes:\n  local:\n    cluster:\n      name: k\n      arch: x86\n")
    assert (error.line, error.column) == (6, 7)
    assert str(error) == (f"{POLICY_PATH}:6:7: clusterTypes.local.cluster.arch: 'x86' is not one of ['amd64', 'arm64']")


def test_duplicate_key_points_at_the_second_occurrence() -> None:
    error = _error("version: 1\nclusterTypes:\n  local: {}\n  azure: {}\n  local: {}\n")
    assert (error.line, error.column) == (5, 3)
    assert "duplicate key 'local' in clusterTypes" in error.message


def test_the_first_error_in_document_order_is_reported() -> None:
    text = (
        "version: 1\n"
        "layout:\n"
        "  baseGlobals: /abs\n"  # line 3
        "clusterTypes:\n"
        "  local:\n"
        "    cluster: {arch: x86}\n"  # line 6
        "zzz: 1\n"  # line 7
    )
    for _ in range(3):  # deterministic, not set or dict order
        error = _error(text)
        assert error.line == 3
        assert "layout.baseGlobals" in error.message


def test_wrong_type_wins_over_other_complaints_at_the_same_key() -> None:
    error = _error("version: '2'\n")
    assert "expected an integer" in error.message


def test_load_policy_errors(tmp_path: Path) -> None:
    (tmp_path / POLICY_FILE).write_bytes(b"version: 1\nx: \xff\n")
    with pytest.raises(InputError, match="not UTF-8"):
        load_policy(tmp_path)
    (tmp_path / POLICY_FILE).unlink()
    (tmp_path / POLICY_FILE).mkdir()
    with pytest.raises(InputError, match="must be a file"):
        load_policy(tmp_path)


# --- layout path rules (property tests) --------------------------------------------------------

_SEGMENT = st.text(alphabet=string.ascii_letters + string.digits + "._-", min_size=1, max_size=8).filter(
    lambda segment: segment != ".."
)
_PLAIN_LAYOUT_KEYS = [key for key, default in LAYOUT_DEFAULTS.items() if isinstance(default, str)]


@settings(max_examples=200, deadline=None)
@given(
    key=st.sampled_from([*_PLAIN_LAYOUT_KEYS, "ownedCharts"]),
    segments=st.lists(_SEGMENT, max_size=4),
    position=st.integers(min_value=0, max_value=4),
    trailing_slash=st.booleans(),
)
def test_any_layout_path_with_a_dotdot_segment_is_rejected(
    key: str, segments: list[str], position: int, trailing_slash: bool
) -> None:
    segments.insert(min(position, len(segments)), "..")
    if key == "clusterGlobals":
        segments.append("{clusterType}")
    elif key == "envGlobals":
        segments.append("{env}")
    value = "/".join(segments) + ("/" if trailing_slash else "")
    yaml_value = f"[{value!r}]" if key == "ownedCharts" else repr(value)
    error = _error(f"version: 1\nlayout:\n  {key}: {yaml_value}\n")
    assert error.message.startswith(f"layout.{key}")
    assert "'..'" in error.message
    assert error.line == 3


_PATH_ALPHABET = st.sampled_from(
    ["a", "b", "/", ".", "..", "\\", "{", "}", "{clusterType}", "{env}", ":", "C", "\n", " "]
)


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(_PATH_ALPHABET, max_size=8),
    key=st.sampled_from(["baseGlobals", "clusterGlobals", "envGlobals"]),
)
def test_schema_patterns_and_the_path_check_agree(parts: list[str], key: str) -> None:
    # Editors only have the schema; fleetmig explains with layout_path_problem. They must never disagree.
    value = "".join(parts)
    placeholder = {"clusterGlobals": "{clusterType}", "envGlobals": "{env}"}.get(key)
    schema = policy_schema()
    subschema = schema["properties"]["layout"]["properties"][key]
    pattern = schema["$defs"][subschema["$ref"].rsplit("/", 1)[1]]["pattern"]
    ecma_like = re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern))
    assert (ecma_like.search(value) is not None) == (layout_path_problem(value, placeholder) is None), value


# --- detection for `fleetmig init` -------------------------------------------------------------


def _reference_fleet(root: Path) -> None:
    for directory in [
        "sources/values/base",
        "sources/values/cluster/local",
        "sources/values/cluster/azure",
        "sources/values/env/local",
        "sources/values/env/dev",
        "sources/values/_shared",
        "sources/values/common",
        "sources/charts/apps",
        "sources/charts/platform",
        "sources/charts/third_party",
        "config/clusters",
        "environments/_shared/components",
        "environments/local/components",
        "argocd/applicationsets",
        "argocd/overlays/local",
    ]:
        (root / directory).mkdir(parents=True)
    for file in [
        "sources/values/base/globals.yaml",
        "sources/values/cluster/globals.yaml",  # legacy single file, not a cluster type
        "sources/values/cluster/local/globals.yaml",
        "sources/values/cluster/azure/globals.yaml",
        "sources/values/env/local/globals.yaml",
        "sources/values/env/dev/globals.yaml",
        "sources/values/common/argocd.yaml",
    ]:
        (root / file).write_text("{}\n", encoding="utf-8")
    (root / "config/clusters/local.yaml").write_text(
        "- cluster: k3d-ameide\n  clusterType: local\n  env: local\n  namespace: ameide-local\n"
        "  nodeProfile: none\n  dnsZone: local.ameide.io\n",
        encoding="utf-8",
    )
    (root / "config/clusters/azure.yaml").write_text(
        "- cluster: aks-main\n  clusterType: azure\n  env: dev\n  namespace: ameide-dev\n"
        "  nodeProfile: dev-pool\n  dnsZone: dev.ameide.io\n"
        "- cluster: aks-main\n  clusterType: azure\n  env: staging\n  namespace: ameide-staging\n"
        "  nodeProfile: general-pool\n  dnsZone: staging.ameide.io\n",
        encoding="utf-8",
    )


def test_detect_round_trips_through_parse_policy(tmp_path: Path) -> None:
    _reference_fleet(tmp_path)
    text = detect_policy_yaml(tmp_path)
    policy = parse_policy(text, tmp_path / POLICY_FILE)

    assert text.startswith("# ")  # the header explains the file
    assert policy.version == 1
    assert set(policy.cluster_types) == {"azure", "local"}
    assert policy.cluster_types["local"].cluster_name == "k3d-ameide"
    assert policy.cluster_types["azure"].cluster_name == "aks-main"
    for cluster_type in policy.cluster_types.values():
        assert cluster_type.arch is None  # not determinable, so not invented
        assert dict(cluster_type.capabilities) == {}
    assert "cluster arch: not determinable from the repository" in text

    written = policy.raw["layout"]
    assert written["baseGlobals"] == "sources/values/base/globals.yaml"
    assert written["clusterGlobals"] == "sources/values/cluster/{clusterType}/globals.yaml"
    assert written["argocdValues"] == "sources/values/common/argocd.yaml"
    assert "optionalComponents" not in written  # absent in this fleet: commented, not written
    assert "# optionalComponents: environments/_optional  # not found" in text
    assert policy.layout == Layout()  # what was written is the default, spelled out
    # Contract, secrets and diff are not detectable: defaults stay in force, shown as comments.
    assert "contract" not in policy.raw and "secrets" not in policy.raw
    assert "# contract:" in text and '#   key: "{release}-{secret}"' in text


def test_detect_leaves_an_ambiguous_cluster_name_as_a_comment(tmp_path: Path) -> None:
    (tmp_path / "config/clusters").mkdir(parents=True)
    (tmp_path / "config/clusters/azure.yaml").write_text(
        "- {cluster: aks-dev, clusterType: azure, env: dev}\n"
        "- {cluster: aks-prod, clusterType: azure, env: production}\n",
        encoding="utf-8",
    )
    text = detect_policy_yaml(tmp_path)
    policy = parse_policy(text, tmp_path / POLICY_FILE)
    assert policy.cluster_types["azure"].cluster_name is None
    assert "several clusters have this type (aks-dev, aks-prod)" in text


def test_detect_on_an_empty_directory_still_parses(tmp_path: Path) -> None:
    text = detect_policy_yaml(tmp_path)
    policy = parse_policy(text, tmp_path / POLICY_FILE)
    assert policy == dataclasses.replace(default_policy(), source=tmp_path / POLICY_FILE, raw={"version": 1})
    assert "# clusterTypes:  none found" in text


def test_detect_quotes_names_yaml_would_read_as_something_else(tmp_path: Path) -> None:
    (tmp_path / "config/clusters").mkdir(parents=True)
    (tmp_path / "config/clusters/odd.yaml").write_text(
        "- {cluster: 'yes', clusterType: 'null', env: dev}\n"
        "- {cluster: 'k3d #1', clusterType: '2024', env: dev}\n"
        "- {cluster: x, clusterType: 'bad/type', env: dev}\n"
        "- {env: dev}\n",
        encoding="utf-8",
    )
    text = detect_policy_yaml(tmp_path)
    policy = parse_policy(text, tmp_path / POLICY_FILE)
    assert policy.cluster_types["null"].cluster_name == "yes"
    assert policy.cluster_types["2024"].cluster_name == "k3d #1"
    assert "bad/type" not in policy.cluster_types
    assert "skipped bad/type" in text
    assert "entry 4 has no clusterType" in text


@settings(max_examples=50, deadline=None)
@given(
    names=st.dictionaries(
        st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,6}[A-Za-z0-9])?", fullmatch=True),
        st.text(
            alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=12
        ),
        max_size=4,
    )
)
def test_detected_names_always_round_trip(tmp_path_factory: pytest.TempPathFactory, names: dict[str, str]) -> None:
    root = tmp_path_factory.mktemp("fleet")
    (root / "config/clusters").mkdir(parents=True)
    entries = [
        {"cluster": cluster, "clusterType": cluster_type, "env": "dev"} for cluster_type, cluster in names.items()
    ]
    # JSON is YAML, and unlike an emitter it cannot write a document that does not parse back.
    (root / "config/clusters/all.yaml").write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    policy = parse_policy(detect_policy_yaml(root), root / POLICY_FILE)
    assert {name: ct.cluster_name for name, ct in policy.cluster_types.items()} == names


def test_detect_reports_broken_cluster_config_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "config/clusters").mkdir(parents=True)
    (tmp_path / "config/clusters/local.yaml").write_text("- cluster: a\n  clusterType: [\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        detect_policy_yaml(tmp_path)
    assert caught.value.path == "config/clusters/local.yaml"
    assert caught.value.line is not None


def test_write_policy_writes_once_and_never_overwrites(tmp_path: Path) -> None:
    _reference_fleet(tmp_path)
    text = detect_policy_yaml(tmp_path)
    path = write_policy(tmp_path, text)
    assert path == tmp_path / POLICY_FILE
    assert path.read_text(encoding="utf-8") == text
    assert load_policy(tmp_path).cluster_types["local"].cluster_name == "k3d-ameide"
    with pytest.raises(InputError, match="already exists"):
        write_policy(tmp_path, "version: 1\n")
    assert path.read_text(encoding="utf-8") == text


def test_write_policy_refuses_an_invalid_policy(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown key"):
        write_policy(tmp_path, "version: 1\nfoo: bar\n")
    assert not (tmp_path / POLICY_FILE).exists()
