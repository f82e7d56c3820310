"""What `fleetmig init` can tell about a fleet from its files, written as a `fleetmig.yaml`.

Detection only reports what the repository shows. Facts it cannot see (CPU architecture,
capabilities, image and secret conventions) are left as comments for a person to fill in, because a
guessed value in a policy file would later be applied as if someone had decided it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from fleetmig.errors import InputError
from fleetmig.fleet.policy import (
    CLUSTER_TYPE_PLACEHOLDER,
    DEFAULT_AMBIGUOUS_KEYS,
    DEFAULT_CONTRACT_MOVE,
    DEFAULT_CONTRACT_ROOT,
    DEFAULT_PROMOTE_THRESHOLD,
    DEFAULT_SECRETS_KEY,
    DEFAULT_SECRETS_PROPERTY,
    DEFAULT_SECRETS_STORE_KIND,
    DEFAULT_SECRETS_STORE_NAME,
    ENV_PLACEHOLDER,
    LAYOUT_DEFAULTS,
    POLICY_FILE,
    SUPPORTED_VERSION,
    is_path_name,
    parse_policy,
)

__all__ = ["detect_policy_yaml", "write_policy"]

_HEADER = f"""\
# {POLICY_FILE}: the fleet policy fleetmig reads on every run (format version {SUPPORTED_VERSION}).
#
# Written by `fleetmig init` from what it found in this repository. Review it and commit it.
# Keys that are absent take the defaults of the reference layout; the full format is the JSON Schema
# shipped with fleetmig (fleetmig/schemas/{POLICY_FILE.replace(".yaml", ".schema.json")}).
# Nothing below is guessed: what the repository cannot tell is left as a comment for you to fill in.
"""

_NOT_DETECTABLE = "not determinable from the repository"


@dataclass
class _ClusterType:
    clusters: dict[str, set[str]] = field(default_factory=dict)  # cluster name -> config files naming it
    envs: set[str] = field(default_factory=set)
    seen_in: list[str] = field(default_factory=list)


def detect_policy_yaml(root: Path) -> str:
    """Text of a `fleetmig.yaml` describing the fleet at `root`; it always passes `parse_policy`."""
    lines = [_HEADER.rstrip("\n"), "", f"version: {SUPPORTED_VERSION}", ""]
    lines += _layout_section(root)
    lines.append("")
    lines += _cluster_types_section(root)
    lines.append("")
    lines += _defaults_section()
    return "\n".join(lines) + "\n"


def write_policy(root: Path, text: str) -> Path:
    """Write `text` as `root/fleetmig.yaml`; refuses to replace an existing file or write an invalid one."""
    path = root / POLICY_FILE
    if not root.is_dir():
        raise InputError("the fleet root is not a directory", root)
    if path.exists() or path.is_symlink():
        raise InputError(f"{POLICY_FILE} already exists; edit it, or delete it and run `fleetmig init` again", path)
    # A policy that fleetmig would then refuse must not be written in the first place.
    parse_policy(text, path)
    try:
        # "x" so a file created between the check above and this write is never overwritten.
        with path.open("x", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except FileExistsError:
        raise InputError(f"{POLICY_FILE} already exists; it was created while init was running", path) from None
    except OSError as exc:
        raise InputError(f"cannot write {POLICY_FILE}: {exc.strerror}", path) from None
    return path


# --- layout -----------------------------------------------------------------------------------


def _layout_section(root: Path) -> list[str]:
    found: list[str] = []
    missing: list[str] = []
    for key, default in LAYOUT_DEFAULTS.items():
        if isinstance(default, tuple):
            present = [entry for entry in default if (root / entry).exists()]
            if not present:
                missing.append(f"  # {key}: {_flow_list(default)}  # not found")
                continue
            absent = [entry for entry in default if entry not in present]
            # The whole default list is written even when some entries are absent: a directory added
            # later is then picked up, which is what the default would have done.
            note = f"  # not found yet: {', '.join(_show(entry) for entry in absent)}" if absent else ""
            found.append(f"  {key}:{note}")
            found += [f"    - {_scalar(entry)}" for entry in default]
            continue
        names = _template_matches(root, default)
        exists = (root / default).exists() if names is None else bool(names)
        if not exists:
            missing.append(f"  # {key}: {_scalar(default)}  # not found")
            continue
        note = f"  # found for: {', '.join(_show(name) for name in names)}" if names else ""
        found.append(f"  {key}: {_scalar(default)}{note}")

    lines = [
        "# Where things live, relative to this file. Paths found in this repository are written out;",
        "# commented-out keys were not found (fleetmig still uses the default shown until you set one).",
    ]
    if found:
        lines.append("layout:")
    else:
        lines.append("# layout:  none of the default paths exist in this repository")
    return lines + found + missing


def _template_matches(root: Path, template: str) -> list[str] | None:
    """Names that fill the placeholder of a templated path and exist on disk; None if no placeholder."""
    for placeholder in (CLUSTER_TYPE_PLACEHOLDER, ENV_PLACEHOLDER):
        if placeholder in template:
            prefix, _, suffix = template.partition(placeholder)
            names = {
                match.relative_to(root).as_posix()[len(prefix) : -len(suffix) or None]
                for match in root.glob(prefix + "*" + suffix)
            }
            return sorted(name for name in names if name and "/" not in name)
    return None


# --- cluster types ----------------------------------------------------------------------------


def _cluster_types_section(root: Path) -> list[str]:
    types: dict[str, _ClusterType] = {}
    notes: list[str] = []
    configs_dir = str(LAYOUT_DEFAULTS["clusterConfigs"])
    for config in sorted((root / configs_dir).glob("*.yaml")):
        _read_cluster_config(root, config, types, notes)

    values_template = str(LAYOUT_DEFAULTS["clusterGlobals"])
    values_dir = values_template.partition(CLUSTER_TYPE_PLACEHOLDER)[0].rstrip("/")
    if (root / values_dir).is_dir():
        for entry in sorted((root / values_dir).iterdir()):
            if entry.is_dir():
                types.setdefault(entry.name, _ClusterType()).seen_in.append(f"{values_dir}/{entry.name}/")

    lines = [
        f"# Cluster types found in {configs_dir}/*.yaml and {values_dir}/<type>/. For each one, fleetmig",
        "# cannot tell the CPU architecture, capabilities, image policy or omitted/disabled components:",
        "# add them (see the schema) where they matter.",
    ]
    lines += [f"# {note}" for note in notes]
    valid = {name: facts for name, facts in sorted(types.items()) if is_path_name(name)}
    for name in sorted(set(types) - set(valid)):
        lines.append(f"# skipped {_show(name)}: not a valid cluster type name (letters, digits, '_', '-')")
    if not valid:
        lines.append("# clusterTypes:  none found")
        return lines
    lines.append("clusterTypes:")
    for name, facts in valid.items():
        lines += _cluster_type_lines(name, facts)
    return lines


def _read_cluster_config(root: Path, config: Path, types: dict[str, _ClusterType], notes: list[str]) -> None:
    relative = config.relative_to(root).as_posix()
    try:
        entries = YAML(typ="rt").load(config.read_text(encoding="utf-8-sig"))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise InputError(
            f"invalid YAML: {exc.problem}",
            relative,
            mark.line + 1 if mark is not None else None,
            mark.column + 1 if mark is not None else None,
        ) from None
    except (YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read cluster config: {exc}", relative) from None
    if entries is None:
        notes.append(f"{relative} is empty")
        return
    if not isinstance(entries, list):
        notes.append(f"{relative} is not a list of clusters; skipped")
        return
    for index, entry in enumerate(entries):
        cluster_type = entry.get("clusterType") if isinstance(entry, Mapping) else None
        if not isinstance(cluster_type, str):
            notes.append(f"{relative} entry {index + 1} has no clusterType; skipped")
            continue
        facts = types.setdefault(cluster_type, _ClusterType())
        if relative not in facts.seen_in:
            facts.seen_in.append(relative)
        cluster = entry.get("cluster")
        if isinstance(cluster, str) and cluster:
            facts.clusters.setdefault(cluster, set()).add(relative)
        env = entry.get("env")
        if isinstance(env, str) and env:
            facts.envs.add(env)


def _cluster_type_lines(name: str, facts: _ClusterType) -> list[str]:
    head = f"  {_scalar(name)}:"
    lines = [f"    # seen in: {', '.join(_show(where) for where in facts.seen_in)}"]
    if facts.envs:
        lines.append(f"    # environments: {', '.join(_show(env) for env in sorted(facts.envs))}")
    body: list[str] = []
    if len(facts.clusters) == 1:
        (cluster,) = facts.clusters
        body += ["    cluster:", f"      name: {_scalar(cluster)}"]
        lines.append(f"    # cluster arch: {_NOT_DETECTABLE}; add `arch: amd64` or `arch: arm64` under cluster")
    elif facts.clusters:
        listed = ", ".join(_show(cluster) for cluster in sorted(facts.clusters))
        lines.append(f"    # cluster name: several clusters have this type ({listed}); set the one to use")
        lines.append(f"    # cluster arch: {_NOT_DETECTABLE}")
    else:
        lines.append(f"    # cluster name and arch: {_NOT_DETECTABLE}")
    if not body:
        # A key with only comments under it would be null, which the schema rejects.
        return [f"{head} {{}}", *lines]
    return [head, *lines, *body]


# --- defaults ---------------------------------------------------------------------------------


def _defaults_section() -> list[str]:
    move = ", ".join(f"{_scalar(key)}: {_scalar(value)}" for key, value in DEFAULT_CONTRACT_MOVE.items())
    return [
        "# Not detected, so fleetmig uses these defaults until you set them (uncomment to change):",
        "# contract:",
        f"#   root: {_scalar(DEFAULT_CONTRACT_ROOT)}",
        f"#   move: {{{move}}}",
        f"#   ambiguousKeys: {_flow_list(DEFAULT_AMBIGUOUS_KEYS)}",
        "# secrets:",
        f"#   store: {{kind: {DEFAULT_SECRETS_STORE_KIND}, name: {DEFAULT_SECRETS_STORE_NAME}}}",
        f"#   key: {_double_quoted(DEFAULT_SECRETS_KEY)}",
        f"#   property: {_scalar(DEFAULT_SECRETS_PROPERTY)}",
        "# diff:",
        f"#   promoteThreshold: {DEFAULT_PROMOTE_THRESHOLD}",
        "# No default, set only if they apply:",
        "# images:",
        "#   mirrorRegistry: <registry/path that mirrors third-party images>",
        "# capabilityGates:",
        "#   <component>: <group.capability that must be true for it to exist>",
    ]


# --- YAML text --------------------------------------------------------------------------------


def _scalar(value: str) -> str:
    """`value` as a YAML scalar: plain when it reads back as the same string, else double-quoted."""
    if value and "\n" not in value and "#" not in value:
        try:
            loaded: Any = YAML(typ="safe", pure=True).load(f"k: {value}\n")
        except YAMLError:
            loaded = None
        if loaded == {"k": value} and value == value.strip():
            return value
    return _double_quoted(value)


def _double_quoted(value: str) -> str:
    # Not json.dumps: JSON writes characters beyond U+FFFF as surrogate pairs, which YAML reads back
    # as two separate (invalid) characters instead of one.
    out = []
    for char in value:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def _flow_list(values: Iterable[str]) -> str:
    # Flow context gives `,[]{}` a meaning that block context does not, so such values are quoted.
    return "[" + ", ".join(_double_quoted(v) if set(v) & set(",[]{}") else _scalar(v) for v in values) + "]"


def _show(value: str) -> str:
    """A repository-provided name made safe to put inside a comment line."""
    if value.isprintable():
        return value
    return _double_quoted(value)
