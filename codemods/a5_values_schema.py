"""A5: every owned chart validates the `global.ameide` fleet contract through `values.schema.json`."""

from __future__ import annotations

import codecs
import copy
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import jsonschema

from fleetmig.engine import Changeset, Codemod
from fleetmig.errors import InputError
from fleetmig.fleet.components import Release
from fleetmig.fleet.consumers import Chart, charts
from fleetmig.fleet.model import Fleet

SCHEMA_FILE = "values.schema.json"
DRAFT_07 = "https://json-schema.org/draft-07/schema#"
CLUSTER_FIELDS = ("type", "name", "arch")
ARCHES = ("amd64", "arm64")
GLOBAL_NOTE = "Keep open: Helm injects `global` into every chart and subchart (helm/helm#10392)."
# Keywords that document rather than constrain: added with a new node, never compared or overwritten.
ANNOTATIONS = frozenset({"$comment", "description", "title"})

Pointer = tuple[str, ...]


class ValuesSchema(Codemod):
    """Give every owned chart a `values.schema.json` that requires the `global.ameide` fleet contract.

    ## What it changes
    For every owned chart (never a vendored one under `third_party/`, a subchart inside another
    chart's `charts/` directory or a library chart) it makes `values.schema.json` require
    `global.ameide.cluster.{type,name,arch}`: `type` is one of the fleet's cluster types (the
    `clusterTypes` of `fleetmig.yaml`, the cluster configs and the cluster globals files), `name` a
    non-empty string, `arch` `amd64` or `arm64`. It also types the optional keys of the contract:
    `capabilities.<group>` (the groups the policy declares) as maps of booleans and
    `images.policy.{preferMirror,requireMultiArch,mirrorRegistry}`. A chart without a schema gets
    a new draft-07 file. An existing schema keeps every rule, its `$schema`, key order, indentation
    and line endings: the contract is spliced in (missing properties appended, `required` lists
    extended) and nothing else moves, except that an object written on one line is laid out again
    when it must take a nested block. When the fleet's cluster types change, the enum of
    `cluster.type` follows. A rule of the chart's own that contradicts the contract (`global`
    typed as a string, a closed `global`, another `arch` enum), a `$ref` on the way (fleetmig does
    not follow it) and a file that is not valid JSON are reported at file:line and left alone. A release whose layered values would not pass the
    contract is reported: once the schema is in place, it fails to render.

    ## Why
    Helm validates `values.schema.json` against the final `.Values` on `helm template`, which is
    how Argo CD renders every Application; a chart that requires the contract therefore fails fast,
    naming the missing or malformed key (`at '/global/ameide': missing property 'cluster'`),
    instead of rendering something wrong for the cluster it runs on (plan 519 Phase A exit
    criterion: one chart fails fast if the contract is missing or malformed). Caveat
    (helm/helm#10392): Helm coalesces the parent's `global` into every subchart before validating
    it, so a schema that closes the root or `global` with `additionalProperties: false` rejects
    the injected keys. `global`, `global.ameide` and a new root stay open, and a root that a chart
    already closed keeps working because `global` becomes one of its declared properties.

    ## Before
        # sources/charts/apps/graph/values.schema.json
        {
          "type": "object",
          "required": ["image"],
          "properties": {
            "image": {"type": "object"}
          },
          "additionalProperties": false
        }

    ## After
        # sources/charts/apps/graph/values.schema.json (the typed optional keys abridged)
        {
          "type": "object",
          "required": ["image", "global"],
          "properties": {
            "image": {"type": "object"},
            "global": {
              "$comment": "Keep open: Helm injects `global` into every chart and subchart (helm/helm#10392).",
              "type": "object",
              "required": ["ameide"],
              "properties": {
                "ameide": {
                  "type": "object",
                  "required": ["cluster"],
                  "properties": {
                    "cluster": {
                      "type": "object",
                      "required": ["type", "name", "arch"],
                      "properties": {
                        "type": {"type": "string", "enum": ["azure", "local"]},
                        "name": {"type": "string", "minLength": 1},
                        "arch": {"type": "string", "enum": ["amd64", "arm64"]}
                      }
                    },
                    "capabilities": {"type": "object", "properties": {"operators": …, "workloads": …}},
                    "images": {"type": "object", "properties": {"policy": …}}
                  },
                  "additionalProperties": true
                }
              },
              "additionalProperties": true
            }
          },
          "additionalProperties": false
        }
    """

    id = "a5-values-schema"
    phase = "A"
    title = "Owned charts require global.ameide.cluster.* in values.schema.json"
    requires = ("a1-fleet-contract",)

    def apply(self, fleet: Fleet) -> Changeset:
        changeset = self.changeset()
        segments = tuple(fleet.policy.contract_root.split("."))
        if not fleet.cluster_types:
            changeset.manual(
                "fleetmig.yaml",
                None,
                "no cluster types are known (clusterTypes, cluster configs or cluster globals files); "
                "a schema cannot say which `cluster.type` values are valid",
            )
            return changeset
        contract = contract_schema(fleet)
        owned_enum = (*_properties_pointer((*segments, "cluster", "type")), "enum")
        releases = _releases_by_chart(fleet)
        validator = jsonschema.Draft7Validator(contract)
        created = f"create {SCHEMA_FILE} requiring {fleet.policy.contract_root}.cluster.{{{','.join(CLUSTER_FIELDS)}}}"
        for chart in _schema_charts(fleet, changeset):
            path = f"{chart.path}/{SCHEMA_FILE}"
            if fleet.exists(path):
                self._merge(fleet, path, contract, owned_enum, changeset)
            else:
                content = _render({"$schema": DRAFT_07, **_root(contract)}, "", "  ", "\n") + "\n"
                changeset.create(path, content.encode("utf-8"), created)
            _report_failing_releases(fleet, path, validator, releases.get(chart.path, ()), changeset)
        return changeset

    def _merge(
        self, fleet: Fleet, path: str, contract: dict[str, Any], owned_enum: Pointer, changeset: Changeset
    ) -> None:
        raw = fleet.read_bytes(path)
        bom = raw.startswith(codecs.BOM_UTF8)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            changeset.manual(path, _line_of_byte(raw, exc.start), f"not UTF-8 text ({exc.reason}); Helm cannot read it")
            return
        try:
            data = json.loads(text, object_pairs_hook=dict)
        except json.JSONDecodeError as exc:
            changeset.manual(path, *_syntax_problem(text, exc))
            return
        document = _JsonText(text)
        duplicate = document.duplicate_key()
        if duplicate is not None:
            changeset.manual(path, duplicate[1], f"key `{duplicate[0]}` appears twice in one object; merge by hand")
            return
        if not isinstance(data, dict):
            changeset.manual(path, 1, "the schema is not a JSON object at the top level; merge the contract by hand")
            return
        merge = _Merge(owned_enum)
        if "type" in data and data["type"] != "object" and data["type"] != ["object"]:
            merge.conflict(("type",), f"the root schema is typed {_show(data['type'])}, but Helm values are an object")
        merge.walk(data, contract, (), "")
        for line, message in sorted((document.line_of(pointer), message) for pointer, message in merge.conflicts):
            changeset.manual(path, line, message)
        if merge.conflicts or not merge.ops:
            return
        first_line = document.line_of(merge.ops[0].pointer)
        for op in merge.ops:
            document.apply(op)
        expected = _applied(data, merge.ops)
        if json.dumps(json.loads(document.text)) != json.dumps(expected):
            # The splice must yield exactly the merged data, key order included; never write a guess.
            changeset.manual(path, first_line, "not changed: fleetmig could not splice the contract in cleanly")
            return
        after = (codecs.BOM_UTF8 if bom else b"") + document.text.encode("utf-8")
        notes = []
        if any(op.pointer != owned_enum for op in merge.ops):
            notes.append(f"merge the {fleet.policy.contract_root} contract into the existing schema")
        if any(op.pointer == owned_enum for op in merge.ops):
            notes.append(f"set the cluster type enum to the fleet's cluster types ({', '.join(fleet.cluster_types)})")
        changeset.edit(path, raw, after, "; ".join(notes), first_line)


def contract_schema(fleet: Fleet) -> dict[str, Any]:
    """What every owned chart's schema must hold, as the `required`/`properties` of its root."""
    types = fleet.policy.cluster_types.values()
    groups = sorted({group for cluster_type in types for group in cluster_type.capabilities})
    capabilities: dict[str, Any] = {"type": "object"}
    if groups:
        capabilities["properties"] = {
            group: {"type": "object", "additionalProperties": {"type": "boolean"}} for group in groups
        }
    node: dict[str, Any] = {
        "type": "object",
        "required": ["cluster"],
        "properties": {
            "cluster": {
                "type": "object",
                "required": list(CLUSTER_FIELDS),
                "properties": {
                    "type": {"type": "string", "enum": list(fleet.cluster_types)},
                    "name": {"type": "string", "minLength": 1},
                    "arch": {"type": "string", "enum": list(ARCHES)},
                },
            },
            "capabilities": capabilities,
            "images": {
                "type": "object",
                "properties": {
                    "policy": {
                        "type": "object",
                        "properties": {
                            "preferMirror": {"type": "boolean"},
                            "requireMultiArch": {"type": "boolean"},
                            "mirrorRegistry": {"type": "string"},
                        },
                    }
                },
            },
        },
        "additionalProperties": True,
    }
    segments = fleet.policy.contract_root.split(".")
    for depth in range(len(segments) - 1, 0, -1):
        node = {
            "type": "object",
            "required": [segments[depth]],
            "properties": {segments[depth]: node},
            "additionalProperties": True,
        }
    if segments[0] == "global":
        node = {"$comment": GLOBAL_NOTE, **node}
    return {"required": [segments[0]], "properties": {segments[0]: node}}


def _root(contract: dict[str, Any]) -> dict[str, Any]:
    """A whole schema: the contract under an explicitly open root (values are always an object)."""
    return {"type": "object", **contract, "additionalProperties": True}


def _properties_pointer(keys: Sequence[str]) -> Pointer:
    return tuple(part for key in keys for part in ("properties", key))


def _schema_charts(fleet: Fleet, changeset: Changeset) -> list[Chart]:
    """Owned charts that are rendered as releases: not subcharts, not library charts."""
    owned = [chart for chart in charts(fleet) if not chart.vendored]
    out = []
    for chart in owned:
        # A chart inside another chart's charts/ is a dependency (often unpacked third-party code).
        if any(chart.path.startswith(f"{other.path}/charts/") for other in owned):
            continue
        try:
            meta = fleet.values(f"{chart.path}/Chart.yaml")
        except InputError as error:
            changeset.manual(error.path or chart.path, error.line, f"Chart.yaml cannot be read: {error.message}")
            continue
        if isinstance(meta, dict) and meta.get("type") == "library":
            continue
        out.append(chart)
    return out


def _releases_by_chart(fleet: Fleet) -> dict[str, list[Release]]:
    out: dict[str, list[Release]] = {}
    for release in fleet.releases:
        if release.component.chart_path:
            out.setdefault(release.component.chart_path, []).append(release)
    return out


def _report_failing_releases(
    fleet: Fleet, path: str, validator: jsonschema.Draft7Validator, releases: Iterable[Release], changeset: Changeset
) -> None:
    """Releases whose values lack the contract: the schema makes their render fail, on purpose."""
    failing: dict[str, list[str]] = {}
    for release in releases:
        error = jsonschema.exceptions.best_match(validator.iter_errors(fleet.release_values(release)))
        if error is not None:
            where = ".".join(str(part) for part in error.absolute_path) or "(root)"
            failing.setdefault(f"at `{where}`: {error.message}", []).append(release.label)
    for problem, labels in failing.items():
        changeset.manual(
            path,
            1,
            f"{', '.join(labels)} would fail `helm template` against this schema ({problem}); "
            "publish the contract in their globals files",
        )


# --- merging -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Op:
    """One edit of the existing schema, addressed by the path of keys to the node it changes."""

    kind: Literal["add", "append", "replace"]
    pointer: Pointer  # the object to add to, the list to extend, or the value to replace
    value: Any
    key: str = ""  # for "add"


@dataclass
class _Merge:
    """Walks the contract through an existing schema, collecting the edits it needs and the
    rules of the chart that contradict it."""

    owned_enum: Pointer  # the one rule the fleet owns outright: the cluster types follow the policy
    ops: list[_Op] = field(default_factory=list)
    conflicts: list[tuple[Pointer, str]] = field(default_factory=list)

    def conflict(self, pointer: Pointer, message: str) -> None:
        self.conflicts.append((pointer, message))

    def walk(self, have: dict[str, Any], want: dict[str, Any], pointer: Pointer, where: str) -> None:
        if "$ref" in have:
            # Draft-07 ignores a `$ref`'s siblings, and the target may say anything.
            self.conflict(
                (*pointer, "$ref"),
                f"{_name(where)} is defined through `$ref`, which fleetmig does not follow; merge the contract by hand",
            )
            return
        for key, wanted in want.items():
            at = (*pointer, key)
            if key not in have:
                if key not in ANNOTATIONS:
                    self.ops.append(_Op("add", pointer, wanted, key))
                continue
            present = have[key]
            if key in ANNOTATIONS:
                continue
            if key == "properties":
                if not isinstance(present, dict):
                    self.conflict(at, f"`properties` of {_name(where)} is not an object; fix it by hand")
                    continue
                for name, sub in wanted.items():
                    if name in present:
                        self.subschema(present[name], sub, (*at, name), f"{where}.{name}".lstrip("."))
                    else:
                        self.ops.append(_Op("add", at, sub, name))
            elif key == "required":
                if not isinstance(present, list):
                    self.conflict(at, f"`required` of {_name(where)} is not a list; fix it by hand")
                    continue
                missing = [name for name in wanted if name not in present]
                if missing:
                    self.ops.append(_Op("append", at, missing))
            elif key == "additionalProperties" and wanted is True:
                if present is not True and present != {}:
                    self.conflict(
                        at,
                        f"{_name(where)} is closed (`additionalProperties: {json.dumps(present)}`), but it must "
                        "stay open: Helm injects `global` into every chart and subchart (helm/helm#10392); "
                        "open it by hand",
                    )
            elif key == "additionalProperties":
                self.subschema(present, wanted, at, f"{where}.*")
            elif key == "enum" and at == self.owned_enum:
                if not _same_members(present, wanted):
                    self.ops.append(_Op("replace", at, wanted))
            elif key == "enum":
                if not _same_members(present, wanted):
                    self.conflict(at, _contradiction(key, where, present, wanted))
            elif key == "type":
                if present != wanted and present != [wanted]:
                    self.conflict(at, _contradiction(key, where, present, wanted))
            elif key == "minLength":
                # A stricter minimum still rejects the empty string; only a looser one contradicts.
                if not (isinstance(present, int) and present >= wanted):
                    self.conflict(at, _contradiction(key, where, present, wanted))
            elif present != wanted:
                self.conflict(at, _contradiction(key, where, present, wanted))

    def subschema(self, have: Any, want: dict[str, Any], pointer: Pointer, where: str) -> None:
        if have is True:  # the schema that accepts anything: the contract only narrows it
            self.ops.append(_Op("replace", pointer, want))
        elif isinstance(have, dict):
            self.walk(have, want, pointer, where)
        elif have is False:
            self.conflict(pointer, f"{_name(where)} is `false` here, which rejects every value; fix it by hand")
        else:
            self.conflict(pointer, f"{_name(where)} is {_show(have)} here, which is not a schema; fix it by hand")


def _same_members(present: Any, wanted: list[Any]) -> bool:
    return isinstance(present, list) and all(x in wanted for x in present) and all(x in present for x in wanted)


def _contradiction(keyword: str, where: str, present: Any, wanted: Any) -> str:
    return (
        f"`{keyword}` of {_name(where)} is {_show(present)} here, but the fleet contract needs {_show(wanted)}; "
        "reconcile them by hand (fleetmig never overwrites a chart's own rule)"
    )


def _name(where: str) -> str:
    return f"`{where}`" if where else "the root"


def _show(value: Any) -> str:
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _applied(data: dict[str, Any], ops: Sequence[_Op]) -> dict[str, Any]:
    """The data the spliced text must parse to."""
    out = copy.deepcopy(data)
    for op in ops:
        if op.kind == "replace":
            _at(out, op.pointer[:-1])[op.pointer[-1]] = op.value
        elif op.kind == "append":
            _at(out, op.pointer).extend(op.value)
        else:
            _at(out, op.pointer)[op.key] = op.value
    return out


def _at(data: Any, pointer: Pointer) -> Any:
    for key in pointer:
        data = data[key]
    return data


# --- splicing JSON text ------------------------------------------------------------------------


@dataclass
class _Node:
    """Where one JSON value sits in the text; members map each key to its offset and value."""

    start: int
    end: int
    members: dict[str, tuple[int, _Node]] = field(default_factory=dict)
    items: list[_Node] = field(default_factory=list)
    duplicate: tuple[str, int] | None = None  # the first repeated key in this subtree, with its offset


INLINE_WIDTH = 60  # a leaf rule this short reads best on one line, as hand-written schemas have it
_SCALAR = re.compile(r"[^\s,\]}]+")


class _JsonText:
    """Valid JSON text that edits are spliced into: only the bytes an edit must change change.

    New lines take the indentation of their neighbours, nested levels the file's indent unit, and
    the file's line ending; a list written on one line is extended on that line.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self.unit = _indent_unit(text)

    def tree(self) -> _Node:
        return _Parser(self.text).parse()

    def duplicate_key(self) -> tuple[str, int] | None:
        found = self.tree().duplicate
        return (found[0], self._line(found[1])) if found else None

    def line_of(self, pointer: Pointer) -> int:
        """Line of the last key of `pointer` that exists in the text (the object's own line for ())."""
        node, offset = self.tree(), 0
        for key in pointer:
            if key not in node.members:
                break
            offset, node = node.members[key]
        return self._line(offset if pointer else node.start)

    def apply(self, op: _Op) -> None:
        chain = [self.tree()]
        for key in op.pointer:
            chain.append(chain[-1].members[key][1])
        target = chain[-1]
        if op.kind == "append":
            self._append_items(target, op.value)
            return
        # The objects whose layout the edit lives in: the target of an added member, the
        # container of a replaced value.
        holders = chain if op.kind == "add" else chain[:-1]
        flat = next((depth for depth, node in enumerate(holders) if self._one_line(node)), None)
        inline = "\n" not in self._render(op.value, "")
        if op.kind == "replace" and (flat is None or inline):
            self._replace(target, op.value)
        elif op.kind == "add" and flat is None and target.members:
            self._add_member(target, op.key, op.value)
        elif op.kind == "add" and inline and target.members:
            _, last = list(target.members.values())[-1]
            member = f"{json.dumps(op.key, ensure_ascii=False)}: {self._render(op.value, '')}"
            self._splice(last.end, last.end, f", {member}")
        else:
            # A one-line (or empty) object cannot take a multi-line value in place: lay out again
            # the outermost one-line object around the edit, with the edit made.
            depth = len(holders) - 1 if flat is None else flat
            outer = holders[depth]
            data = json.loads(self.text[outer.start : outer.end], object_pairs_hook=dict)
            edited = _applied(data, [_Op(op.kind, op.pointer[depth:], op.value, op.key)])
            self._splice(outer.start, outer.end, self._render(edited, _line_indent(self.text, outer.start)))

    def _add_member(self, node: _Node, key: str, value: Any) -> None:
        key_offset, last = list(node.members.values())[-1]
        indent = _line_indent(self.text, key_offset)
        entry = f"{json.dumps(key, ensure_ascii=False)}: {self._render(value, indent)}"
        self._splice(last.end, last.end, f",{self.newline}{indent}{entry}")

    def _append_items(self, node: _Node, values: list[Any]) -> None:
        if not node.items:
            self._splice(node.start, node.end, self._render(values, _line_indent(self.text, node.start)))
            return
        last = node.items[-1]
        if self._one_line(node):
            between = self.text[node.items[-2].end : last.start] if len(node.items) > 1 else ", "
            separator = between if "\n" not in between else ", "
        else:
            separator = f",{self.newline}{_line_indent(self.text, last.start)}"
        added = "".join(separator + json.dumps(value, ensure_ascii=False) for value in values)
        self._splice(last.end, last.end, added)

    def _replace(self, node: _Node, value: Any) -> None:
        if node.items and not self._one_line(node) and isinstance(value, list) and not _has_containers(value):
            # A list written one item per line stays that way.
            item_indent = _line_indent(self.text, node.items[0].start)
            lines = f",{self.newline}".join(item_indent + json.dumps(v, ensure_ascii=False) for v in value)
            closing = _line_indent(self.text, node.end - 1)
            self._splice(node.start, node.end, f"[{self.newline}{lines}{self.newline}{closing}]")
            return
        self._splice(node.start, node.end, self._render(value, _line_indent(self.text, node.start)))

    def _render(self, value: Any, indent: str) -> str:
        return _render(value, indent, self.unit, self.newline)

    def _one_line(self, node: _Node) -> bool:
        return "\n" not in self.text[node.start : node.end]

    def _splice(self, start: int, end: int, replacement: str) -> None:
        self.text = self.text[:start] + replacement + self.text[end:]

    def _line(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1


class _Parser:
    """Offsets of every value in text that `json.loads` has already accepted."""

    def __init__(self, text: str) -> None:
        self.text = text

    def parse(self) -> _Node:
        return self._value(self._skip(0))

    def _skip(self, pos: int) -> int:
        while pos < len(self.text) and self.text[pos] in " \t\r\n":
            pos += 1
        return pos

    def _value(self, pos: int) -> _Node:
        char = self.text[pos]
        if char == "{":
            return self._object(pos)
        if char == "[":
            return self._array(pos)
        if char == '"':
            return _Node(pos, self._string_end(pos))
        match = _SCALAR.match(self.text, pos)
        assert match is not None
        return _Node(pos, match.end())

    def _object(self, start: int) -> _Node:
        node = _Node(start, start)
        pos = self._skip(start + 1)
        while self.text[pos] != "}":
            key_end = self._string_end(pos)
            key = json.loads(self.text[pos:key_end])
            value = self._value(self._skip(self._skip(key_end) + 1))  # past the colon
            if key in node.members and node.duplicate is None:
                node.duplicate = (key, pos)
            node.duplicate = node.duplicate or value.duplicate
            node.members[key] = (pos, value)
            pos = self._skip(value.end)
            if self.text[pos] == ",":
                pos = self._skip(pos + 1)
        node.end = pos + 1
        return node

    def _array(self, start: int) -> _Node:
        node = _Node(start, start)
        pos = self._skip(start + 1)
        while self.text[pos] != "]":
            item = self._value(pos)
            node.duplicate = node.duplicate or item.duplicate
            node.items.append(item)
            pos = self._skip(item.end)
            if self.text[pos] == ",":
                pos = self._skip(pos + 1)
        node.end = pos + 1
        return node

    def _string_end(self, pos: int) -> int:
        pos += 1
        while self.text[pos] != '"':
            pos += 2 if self.text[pos] == "\\" else 1
        return pos + 1


def _render(value: Any, indent: str, unit: str, newline: str) -> str:
    """JSON for `value` starting on a line indented by `indent`: objects one member per line, except
    short ones that hold no object (`{"type": "boolean"}`); lists of plain values on one line."""
    inner = indent + unit
    if isinstance(value, dict) and value and not any(isinstance(item, dict) for item in value.values()):
        flat = (
            "{"
            + ", ".join(
                f"{json.dumps(k, ensure_ascii=False)}: {_render(v, inner, unit, newline)}" for k, v in value.items()
            )
            + "}"
        )
        if len(flat) <= INLINE_WIDTH and newline not in flat:
            return flat
    if isinstance(value, dict) and value:
        members = (
            f"{inner}{json.dumps(key, ensure_ascii=False)}: {_render(item, inner, unit, newline)}"
            for key, item in value.items()
        )
        return "{" + newline + f",{newline}".join(members) + newline + indent + "}"
    if isinstance(value, list) and _has_containers(value):
        items = (inner + _render(item, inner, unit, newline) for item in value)
        return "[" + newline + f",{newline}".join(items) + newline + indent + "]"
    if isinstance(value, list):
        return "[" + ", ".join(json.dumps(item, ensure_ascii=False) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _has_containers(values: list[Any]) -> bool:
    return any(isinstance(value, (dict, list)) for value in values)


def _indent_unit(text: str) -> str:
    """The file's indent step: the shallowest indentation it uses (two spaces when it has none)."""
    widths = []
    for line in text.splitlines():
        body = line.lstrip(" \t")
        if body and len(body) < len(line):
            if line[0] == "\t":
                return "\t"
            widths.append(len(line) - len(body))
    return " " * min(widths) if widths else "  "


def _line_indent(text: str, offset: int) -> str:
    start = text.rfind("\n", 0, offset) + 1
    line = text[start:offset]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _syntax_problem(text: str, error: json.JSONDecodeError) -> tuple[int, str]:
    """Line and message for a JSON syntax error; a trailing comma, the usual hand-edit slip, is
    named at its own line rather than at the bracket after it."""
    before = text[: error.pos].rstrip()
    if before.endswith(",") and text[error.pos : error.pos + 1] in ("}", "]"):
        return before.count("\n") + 1, "not valid JSON: trailing comma (JSON allows none); Helm cannot read it"
    return error.lineno, f"not valid JSON ({error.msg}, column {error.colno}); Helm cannot read it"


def _line_of_byte(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1
