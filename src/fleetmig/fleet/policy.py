"""The fleet policy: `fleetmig.yaml` at the fleet root, or the defaults of the reference layout.

The file holds the fleet facts the repository cannot tell (cluster types, capabilities, image and
secret conventions) and, optionally, where things live. It is validated against the JSON Schema
shipped as `fleetmig/schemas/fleetmig.schema.json`; every mistake becomes an `InputError` that names
the key in dotted form and points at it with file:line:column, so nothing runs on a policy that
means something other than what the user wrote.
"""

from __future__ import annotations

import copy
import datetime
import difflib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean

from fleetmig.errors import InputError

__all__ = [
    "CLUSTER_TYPE_PLACEHOLDER",
    "DEFAULT_AMBIGUOUS_KEYS",
    "DEFAULT_CONTRACT_MOVE",
    "DEFAULT_CONTRACT_ROOT",
    "DEFAULT_PROMOTE_THRESHOLD",
    "DEFAULT_SECRETS_KEY",
    "DEFAULT_SECRETS_PROPERTY",
    "DEFAULT_SECRETS_STORE_KIND",
    "DEFAULT_SECRETS_STORE_NAME",
    "ENV_PLACEHOLDER",
    "LAYOUT_DEFAULTS",
    "LAYOUT_FIELDS",
    "POLICY_FILE",
    "SUPPORTED_VERSION",
    "ClusterTypePolicy",
    "Layout",
    "Policy",
    "default_policy",
    "is_path_name",
    "layout_path_problem",
    "load_policy",
    "parse_policy",
    "policy_schema",
]

POLICY_FILE = "fleetmig.yaml"
SUPPORTED_VERSION = 1
SCHEMA_RESOURCE = "fleetmig.schema.json"

CLUSTER_TYPE_PLACEHOLDER = "{clusterType}"
ENV_PLACEHOLDER = "{env}"

DEFAULT_CONTRACT_ROOT = "global.ameide"
DEFAULT_CONTRACT_MOVE: Mapping[str, str] = MappingProxyType({"cluster": "cluster"})
DEFAULT_AMBIGUOUS_KEYS: tuple[str, ...] = ("cluster", "name", "type", "spec", "namespace")
DEFAULT_SECRETS_STORE_KIND = "SecretStore"
DEFAULT_SECRETS_STORE_NAME = "ameide-vault"
DEFAULT_SECRETS_KEY = "{release}-{secret}"
DEFAULT_SECRETS_PROPERTY = "value"
DEFAULT_PROMOTE_THRESHOLD = 2

# The placeholder each templated layout key must contain; other layout keys take none.
_LAYOUT_PLACEHOLDERS: Mapping[str, str] = MappingProxyType(
    {"clusterGlobals": CLUSTER_TYPE_PLACEHOLDER, "envGlobals": ENV_PLACEHOLDER}
)

# Same rule as the schema's clusterTypeName: the name is substituted into paths, so it must be one
# plain path segment.
_PATH_NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?")


@dataclass(frozen=True)
class Layout:
    """Where things live in the fleet, relative to the fleet root (forward slashes).

    Field order is the order `fleetmig init` writes the keys; each field is the snake_case form of
    the camelCase key in `fleetmig.yaml` (see `LAYOUT_FIELDS`).
    """

    base_globals: str = "sources/values/base/globals.yaml"
    cluster_globals: str = "sources/values/cluster/{clusterType}/globals.yaml"
    env_globals: str = "sources/values/env/{env}/globals.yaml"
    shared_values: str = "sources/values/_shared"
    env_values: str = "sources/values/env"
    cluster_configs: str = "config/clusters"
    shared_components: str = "environments/_shared/components"
    local_components: str = "environments/local/components"
    optional_components: str = "environments/_optional"
    owned_charts: tuple[str, ...] = (
        "sources/charts/apps",
        "sources/charts/data",
        "sources/charts/foundation",
        "sources/charts/platform",
        "sources/charts/observability",
        "sources/charts/cluster",
    )
    third_party: str = "sources/charts/third_party"
    wrappers: str = "sources/charts/platform"
    application_sets: str = "argocd/applicationsets"
    overlays: str = "argocd/overlays"
    argocd_values: str = "sources/values/common/argocd.yaml"

    @property
    def descriptors_and_values(self) -> tuple[str, ...]:
        """The folders of component descriptors and values files (not charts)."""
        return (
            self.shared_components,
            self.local_components,
            self.optional_components,
            self.shared_values,
            self.env_values,
        )

    @property
    def cluster_globals_glob(self) -> str:
        """The glob of every cluster-type globals file."""
        return self.cluster_globals.replace(CLUSTER_TYPE_PLACEHOLDER, "*")

    @property
    def env_globals_glob(self) -> str:
        """The glob of every environment globals file."""
        return self.env_globals.replace(ENV_PLACEHOLDER, "*")

    @property
    def globals_globs(self) -> tuple[str, str]:
        return (self.cluster_globals_glob, self.env_globals_glob)

    def cluster_globals_for(self, cluster_type: str) -> str:
        """The cluster-type globals file for `cluster_type`, e.g. `.../cluster/local/globals.yaml`."""
        _check_path_name(cluster_type, "cluster type")
        return self.cluster_globals.replace(CLUSTER_TYPE_PLACEHOLDER, cluster_type)

    def env_globals_for(self, env: str) -> str:
        """The environment globals file for `env`, e.g. `.../env/dev/globals.yaml`."""
        _check_path_name(env, "environment")
        return self.env_globals.replace(ENV_PLACEHOLDER, env)

    def env_values_for(self, env: str, domain: str | None, name: str) -> str:
        """A component's values file for one environment, e.g. `.../env/local/apps/apps-graph.yaml`."""
        return f"{self.env_values.rstrip('/')}/{env}/{domain}/{name}.yaml"

    def as_mapping(self) -> Mapping[str, str | tuple[str, ...]]:
        """The layout keyed as in fleetmig.yaml (camelCase), in the documented order."""
        return MappingProxyType({key: getattr(self, name) for key, name in LAYOUT_FIELDS.items()})


def is_path_name(value: str) -> bool:
    """Whether `value` can fill `{clusterType}` or `{env}`: one plain path segment."""
    return _PATH_NAME_RE.fullmatch(value) is not None


def _check_path_name(value: str, what: str) -> None:
    # These names come from fleet files (cluster configs, directory names); one that is not a plain
    # path segment would point the layout outside the directory it names.
    if not is_path_name(value):
        raise InputError(
            f"{what} {value!r} cannot be used in a path: use letters, digits, '_' and '-', "
            "starting and ending with a letter or digit"
        )


# camelCase key as written in fleetmig.yaml -> Layout field name, in the documented order.
LAYOUT_FIELDS: Mapping[str, str] = MappingProxyType(
    {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), f.name): f.name for f in fields(Layout)}
)

# camelCase key -> default value (the reference layout).
LAYOUT_DEFAULTS: Mapping[str, str | tuple[str, ...]] = Layout().as_mapping()


@dataclass(frozen=True)
class ClusterTypePolicy:
    """What fleetmig must know about one cluster type (`clusterTypes.<name>`)."""

    name: str
    cluster_name: str | None
    arch: str | None
    capabilities: Mapping[str, Mapping[str, bool]]
    prefer_mirror: bool | None
    require_multi_arch: bool | None
    omit: tuple[str, ...]
    off: tuple[str, ...]

    def capability(self, ref: str) -> bool | None:
        """The value of `group.name` (as used in `capabilityGates`), None when not declared."""
        group, _, name = ref.partition(".")
        return self.capabilities.get(group, {}).get(name)


@dataclass(frozen=True)
class Policy:
    """The validated fleet policy. Absent keys hold the documented defaults."""

    version: int
    contract_root: str
    contract_move: Mapping[str, str]
    ambiguous_keys: tuple[str, ...]
    cluster_types: Mapping[str, ClusterTypePolicy]
    capability_gates: Mapping[str, str]
    mirror_registry: str | None
    secrets_store_kind: str
    secrets_store_name: str
    secrets_key: str
    secrets_property: str
    diff_promote_threshold: int
    layout: Layout
    source: Path | None
    # The validated document as plain data ({} for defaults only), for keys added after this module.
    raw: Mapping[str, Any]


def default_policy() -> Policy:
    """The policy of a fleet without `fleetmig.yaml`: the reference layout, no cluster types."""
    return _build({}, None)


def load_policy(root: Path) -> Policy:
    """Read `root/fleetmig.yaml` if it exists, else return `default_policy()`."""
    path = root / POLICY_FILE
    if not path.exists():
        return default_policy()
    if not path.is_file():
        raise InputError(f"{POLICY_FILE} must be a file", path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path) from None
    except OSError as exc:
        raise InputError(f"cannot read {POLICY_FILE}: {exc.strerror}", path) from None
    return parse_policy(text, path)


def parse_policy(text: str, path: Path) -> Policy:
    """Parse and validate policy text; `path` is only used to name the file in errors."""
    doc = _load_yaml(text, path)
    if doc is None:
        raise InputError(f"the policy file is empty; it needs at least `version: {SUPPORTED_VERSION}`", path, 1, 1)
    if not isinstance(doc, CommentedMap):
        line, column = _own_mark(doc)
        raise InputError(
            f"the top level must be a mapping (like `version: {SUPPORTED_VERSION}`), got {_type_name(doc)}",
            path,
            line + 1,
            column + 1,
        )
    data = _plain(doc)
    problems = list(_schema_problems(doc, data))
    if not problems:
        problems = list(_semantic_problems(doc, data))
    if problems:
        first = min(problems)
        raise InputError(first.message, path, first.line + 1, first.column + 1)
    return _build(data, path)


def policy_schema() -> dict[str, Any]:
    """The published JSON Schema (draft 2020-12) of `fleetmig.yaml`; a fresh copy per call."""
    return copy.deepcopy(_schema())


def layout_path_problem(value: str, placeholder: str | None = None) -> str | None:
    """Why `value` is not an acceptable layout path, or None. Mirrors the schema's path patterns.

    `placeholder` is the one placeholder the key must contain (`{clusterType}`, `{env}`); any other
    brace is refused so that a typo like `{clustertype}` cannot survive into a literal directory name.
    """
    if not value:
        return "is empty"
    if any(ord(char) < 0x20 or char == "\x7f" for char in value):
        return "contains a control character"
    if "\\" in value:
        return "contains a backslash; use forward slashes"
    if value.startswith("/") or re.match(r"[A-Za-z]:", value):
        return "is an absolute path; layout paths are relative to the fleet root"
    if ".." in value.split("/"):
        return "contains a '..' segment; layout paths must stay inside the fleet root"
    rest = value
    if placeholder is not None:
        if placeholder not in value:
            return f"must contain the {placeholder} placeholder"
        rest = value.replace(placeholder, "")
    if "{" in rest or "}" in rest:
        if placeholder is None:
            return "must not contain '{' or '}' (this key takes no placeholder)"
        return f"contains an unknown placeholder; only {placeholder} is allowed"
    return None


# --- building ---------------------------------------------------------------------------------


def _build(data: Mapping[str, Any], source: Path | None) -> Policy:
    contract = data.get("contract", {})
    secrets = data.get("secrets", {})
    store = secrets.get("store", {})
    layout_data = data.get("layout", {})
    overrides: dict[str, Any] = {
        LAYOUT_FIELDS[key]: tuple(value) if isinstance(value, list) else value for key, value in layout_data.items()
    }
    layout = Layout(**overrides)
    return Policy(
        version=data.get("version", SUPPORTED_VERSION),
        contract_root=contract.get("root", DEFAULT_CONTRACT_ROOT),
        contract_move=MappingProxyType(dict(contract.get("move", DEFAULT_CONTRACT_MOVE))),
        ambiguous_keys=tuple(contract.get("ambiguousKeys", DEFAULT_AMBIGUOUS_KEYS)),
        cluster_types=MappingProxyType(
            {name: _cluster_type(name, body) for name, body in data.get("clusterTypes", {}).items()}
        ),
        capability_gates=MappingProxyType(dict(data.get("capabilityGates", {}))),
        mirror_registry=data.get("images", {}).get("mirrorRegistry"),
        secrets_store_kind=store.get("kind", DEFAULT_SECRETS_STORE_KIND),
        secrets_store_name=store.get("name", DEFAULT_SECRETS_STORE_NAME),
        secrets_key=secrets.get("key", DEFAULT_SECRETS_KEY),
        secrets_property=secrets.get("property", DEFAULT_SECRETS_PROPERTY),
        diff_promote_threshold=data.get("diff", {}).get("promoteThreshold", DEFAULT_PROMOTE_THRESHOLD),
        layout=layout,
        source=source,
        raw=MappingProxyType(copy.deepcopy(dict(data))),
    )


def _cluster_type(name: str, body: Mapping[str, Any]) -> ClusterTypePolicy:
    cluster = body.get("cluster", {})
    images = body.get("images", {})
    return ClusterTypePolicy(
        name=name,
        cluster_name=cluster.get("name"),
        arch=cluster.get("arch"),
        capabilities=MappingProxyType(
            {group: MappingProxyType(dict(caps)) for group, caps in body.get("capabilities", {}).items()}
        ),
        prefer_mirror=images.get("preferMirror"),
        require_multi_arch=images.get("requireMultiArch"),
        omit=tuple(body.get("omit", ())),
        off=tuple(body.get("off", ())),
    )


# --- YAML -------------------------------------------------------------------------------------


def _load_yaml(text: str, path: Path) -> Any:
    try:
        return YAML(typ="rt").load(text)
    except ReaderError as exc:
        at_line, at_column = _offset_to_mark(text, exc.position)
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        raise InputError(
            f"invalid YAML: character U+{code:04X} is not allowed", path, at_line + 1, at_column + 1
        ) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        raise InputError(_yaml_message(exc, text), path, line, column) from None
    except YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", path) from None


def _yaml_message(exc: MarkedYAMLError, text: str) -> str:
    problem = exc.problem or "syntax error"
    duplicate = re.match(r'found duplicate key "(.*)" with value', problem)
    if duplicate is None:
        context = f" ({exc.context})" if exc.context else ""
        return f"invalid YAML: {problem}{context}"
    key = duplicate.group(1)
    where = _duplicate_owner(text, exc.context_mark)
    return f"duplicate key {key!r}" + (f" in {where}" if where else " at the top level")


def _duplicate_owner(text: str, mark: Any) -> str | None:
    """Dotted path of the mapping holding a duplicate key, found by re-reading with duplicates allowed."""
    if mark is None:
        return None
    lenient = YAML(typ="rt")
    lenient.allow_duplicate_keys = True
    try:
        doc = lenient.load(text)
    except YAMLError:
        return None
    for path, node in _walk(doc, ()):
        if isinstance(node, CommentedMap) and (node.lc.line, node.lc.col) == (mark.line, mark.column):
            return _dotted(path) or None
    return None


def _walk(node: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, node
    if isinstance(node, CommentedMap):
        for key, value in node.items():
            yield from _walk(value, (*path, key))
    elif isinstance(node, CommentedSeq):
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index))


def _offset_to_mark(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n"), offset - (before.rfind("\n") + 1)


def _plain(node: Any) -> Any:
    """Round-trip node -> plain Python data; values YAML gave exotic types keep them, so the schema's
    type checks reject them with a readable message instead of the conversion guessing."""
    if isinstance(node, CommentedMap):
        return {key: _plain(value) for key, value in node.items()}
    if isinstance(node, CommentedSeq):
        return [_plain(value) for value in node]
    if isinstance(node, ScalarBoolean):  # an int subclass, so this must come before int
        return bool(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, str):
        return str(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def _own_mark(node: Any) -> tuple[int, int]:
    lc = getattr(node, "lc", None)
    if lc is not None and lc.line is not None:
        return int(lc.line), int(lc.col)
    return 0, 0


def _key_mark(doc: Any, path: Sequence[Any]) -> tuple[int, int]:
    """0-based line/column of the key (or list item) at `path`; the whole document for `()`."""
    if not path:
        return _own_mark(doc)
    parent = _node_at(doc, path[:-1])
    last = path[-1]
    try:
        if isinstance(parent, CommentedMap):
            line, column = parent.lc.key(last)
            return int(line), int(column)
        if isinstance(parent, CommentedSeq):
            line, column = parent.lc.item(last)
            return int(line), int(column)
    except (KeyError, IndexError, TypeError):
        # Keys pulled in through a `<<` merge have no mark of their own; the mapping is the best place.
        pass
    return _own_mark(parent) if parent is not None else (0, 0)


def _node_at(doc: Any, path: Sequence[Any]) -> Any:
    node = doc
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


# --- validation -------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class _Problem:
    line: int  # 0-based
    column: int
    rank: int  # at one position, a wrong type explains the rest; report it first
    message: str


@cache
def _schema() -> dict[str, Any]:
    text = resources.files("fleetmig.schemas").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _ecma_regex(pattern: str) -> re.Pattern[str]:
    # JSON Schema patterns are ECMA-262, where `$` matches only at the very end; Python's `$` also
    # matches before a final newline, which would let "path\n" through. The shipped patterns use `$`
    # only as an anchor, so swapping it for `\Z` gives the ECMA meaning.
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern))


def _pattern_keyword(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not _ecma_regex(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _validator() -> Any:
    cls = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        jsonschema.Draft202012Validator, {"pattern": _pattern_keyword}
    )
    return cls(_schema())


def _schema_problems(doc: CommentedMap, data: Any) -> Iterator[_Problem]:
    for error in _validator().iter_errors(data):
        yield from _problems_for(error, doc)


_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "boolean": "a boolean (true or false)",
    "integer": "an integer",
    "number": "a number",
    "null": "null",
}


def _problems_for(error: Any, doc: CommentedMap) -> Iterator[_Problem]:
    path = tuple(error.absolute_path)
    where = _dotted(path)
    value = error.instance
    kind = error.validator
    schema = error.schema

    def at(mark: tuple[int, int], message: str, rank: int = 1) -> _Problem:
        return _Problem(mark[0], mark[1], rank, message)

    if "propertyNames" in error.absolute_schema_path:
        # The instance is a key of the mapping at `path`; point at that key.
        mark = _key_mark(doc, (*path, value))
        if kind == "type":
            yield at(mark, f"{where}: key {value!r} must be a string", 0)
        else:
            yield at(mark, f"{where}: key {value!r} is not {schema.get('x-expected', 'a valid name')}")
        return

    if kind == "additionalProperties" and error.validator_value is False:
        allowed = list(schema.get("properties", {}))
        for key in value:
            if key in allowed:
                continue
            inside = f"in {where}" if where else "at the top level"
            yield at(_key_mark(doc, (*path, key)), f"unknown key {key!r} {inside}{_suggest(key, allowed)}")
        return

    if kind == "required":
        inside = f" in {where}" if where else ""
        for key in error.validator_value:
            if key not in value:
                yield at(_key_mark(doc, path), f"missing required key {key!r}{inside}")
        return

    mark = _key_mark(doc, path)
    prefix = f"{where}: " if where else ""
    if kind == "type":
        expected = error.validator_value
        names = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_TYPE_WORDS.get(name, name) for name in names)
        yield at(mark, f"{prefix}expected {wanted}, got {_describe(value)}", 0)
    elif kind == "const" and path == ("version",):
        yield at(mark, f"version: {value!r} is not supported; this fleetmig reads version {SUPPORTED_VERSION}")
    elif kind == "const":
        yield at(mark, f"{prefix}expected {error.validator_value!r}, got {value!r}")
    elif kind == "enum":
        yield at(mark, f"{prefix}{value!r} is not one of {list(error.validator_value)!r}")
    elif kind == "pattern":
        problem = None
        if path and path[0] == "layout" and len(path) >= 2:
            problem = layout_path_problem(value, _LAYOUT_PLACEHOLDERS.get(str(path[1])))
        if problem is None:
            problem = f"is not {schema.get('x-expected', 'in the expected form')}"
        yield at(mark, f"{prefix}{value!r} {problem}")
    elif kind == "uniqueItems":
        seen: list[Any] = []
        for index, item in enumerate(value):
            if item in seen:
                yield at(_key_mark(doc, (*path, index)), f"{where}[{index}]: {item!r} is listed more than once")
                break
            seen.append(item)
    elif kind == "minLength":
        yield at(mark, f"{prefix}must not be empty")
    elif kind == "maxLength":
        yield at(mark, f"{prefix}is longer than {error.validator_value} characters")
    elif kind == "minimum":
        yield at(mark, f"{prefix}must be at least {error.validator_value}, got {value!r}")
    else:
        yield at(mark, f"{prefix}{error.message}")


def _semantic_problems(doc: CommentedMap, data: Mapping[str, Any]) -> Iterator[_Problem]:
    """Rules the schema cannot express; runs only on a document the schema accepted."""
    for name, body in data.get("clusterTypes", {}).items():
        omitted = set(body.get("omit", ()))
        for index, component in enumerate(body.get("off", ())):
            if component in omitted:
                path = ("clusterTypes", name, "off", index)
                line, column = _key_mark(doc, path)
                yield _Problem(
                    line,
                    column,
                    1,
                    f"{_dotted(path)}: {component!r} is also in clusterTypes.{name}.omit; a component "
                    "is either never generated (omit) or generated disabled (off), not both",
                )


def _suggest(key: Any, allowed: Sequence[str]) -> str:
    if not allowed:
        return ""
    close = difflib.get_close_matches(str(key), allowed, n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; expected one of: {', '.join(allowed)}"


def _dotted(path: Sequence[Any]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (dict, CommentedMap)):
        return "a mapping"
    if isinstance(value, (list, CommentedSeq)):
        return "a list"
    if isinstance(value, datetime.date):
        return "a date"
    if hasattr(value, "tag"):
        return f"a value tagged {value.tag}"
    return f"a {type(value).__name__}"


def _describe(value: Any) -> str:
    name = _type_name(value)
    if value is None or isinstance(value, (dict, list)) or name.startswith("a value tagged"):
        return name
    if isinstance(value, datetime.date):
        return f"{name} {value.isoformat()!r}"
    return f"{name} {value!r}"
