"""A5: every owned chart validates the `global.ameide` fleet contract through `values.schema.json`."""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from fleetmig.edit.json import JsonEdit, JsonText, Pointer, applied, line_of_byte, render, syntax_problem
from fleetmig.engine import Changeset, Codemod
from fleetmig.fleet.charts import application_charts
from fleetmig.fleet.components import Release
from fleetmig.fleet.model import Fleet

SCHEMA_FILE = "values.schema.json"
DRAFT_07 = "https://json-schema.org/draft-07/schema#"
CLUSTER_FIELDS = ("type", "name", "arch")
ARCHES = ("amd64", "arm64")
GLOBAL_NOTE = "Keep open: Helm injects `global` into every chart and subchart (helm/helm#10392)."
# Keywords that document rather than constrain: added with a new node, never compared or overwritten.
ANNOTATIONS = frozenset({"$comment", "description", "title"})


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
    not follow it) and a file that is not valid JSON are reported at file:line and left alone. A
    release whose layered values would not pass the contract is reported: once the schema is in
    place, it fails to render.

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
        problem_of = _ContractCheck(contract, segments[0])
        created = f"create {SCHEMA_FILE} requiring {fleet.policy.contract_root}.cluster.{{{','.join(CLUSTER_FIELDS)}}}"
        for chart in application_charts(fleet):
            path = f"{chart.path}/{SCHEMA_FILE}"
            if fleet.exists(path):
                self._merge(fleet, path, contract, owned_enum, changeset)
            else:
                content = render({"$schema": DRAFT_07, **_root(contract)}, "", "  ", "\n") + "\n"
                changeset.create(path, content.encode("utf-8"), created)
            _report_failing_releases(fleet, path, problem_of, releases.get(chart.path, ()), changeset)
        return changeset

    def _merge(
        self, fleet: Fleet, path: str, contract: dict[str, Any], owned_enum: Pointer, changeset: Changeset
    ) -> None:
        raw = fleet.read_bytes(path)
        bom = raw.startswith(codecs.BOM_UTF8)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            changeset.manual(path, line_of_byte(raw, exc.start), f"not UTF-8 text ({exc.reason}); Helm cannot read it")
            return
        duplicated: list[bool] = []
        try:
            data = json.loads(text, object_pairs_hook=lambda pairs: _object(pairs, duplicated))
        except json.JSONDecodeError as exc:
            changeset.manual(path, *syntax_problem(text, exc))
            return
        document = JsonText(text)
        duplicate = document.duplicate_key() if duplicated else None
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
        expected = applied(data, merge.ops)
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


def _releases_by_chart(fleet: Fleet) -> dict[str, list[Release]]:
    out: dict[str, list[Release]] = {}
    for release in fleet.releases:
        if release.component.chart_path:
            out.setdefault(release.component.chart_path, []).append(release)
    return out


def _object(pairs: list[tuple[str, Any]], duplicated: list[bool]) -> dict[str, Any]:
    """A JSON object as json.loads builds it; notes when a key repeats (where, JsonText finds: its
    scan is many times slower than json.loads, so it runs only then)."""
    built = dict(pairs)
    if len(built) != len(pairs):
        duplicated.append(True)
    return built


class _ContractCheck:
    """Why a release's values fail the contract (None when they pass). The contract looks only
    under its first key (`global`), and releases mostly share that subtree, so each distinct one is
    validated once."""

    def __init__(self, contract: dict[str, Any], top: str) -> None:
        self._validator = jsonschema.Draft7Validator(contract)
        self._top = top
        self._seen: dict[str, str | None] = {}

    def __call__(self, values: dict[str, Any]) -> str | None:
        checked = {self._top: values[self._top]} if self._top in values else {}
        key = json.dumps(checked, sort_keys=True, default=repr)
        if key not in self._seen:
            error = jsonschema.exceptions.best_match(self._validator.iter_errors(checked))
            self._seen[key] = None
            if error is not None:
                where = ".".join(str(part) for part in error.absolute_path) or "(root)"
                self._seen[key] = f"at `{where}`: {error.message}"
        return self._seen[key]


def _report_failing_releases(
    fleet: Fleet, path: str, problem_of: _ContractCheck, releases: Iterable[Release], changeset: Changeset
) -> None:
    """Releases whose values lack the contract: the schema makes their render fail, on purpose."""
    failing: dict[str, list[str]] = {}
    for release in releases:
        problem = problem_of(fleet.release_values(release))
        if problem is not None:
            failing.setdefault(problem, []).append(release.label)
    for problem, labels in failing.items():
        changeset.manual(
            path,
            1,
            f"{', '.join(labels)} would fail `helm template` against this schema ({problem}); "
            "publish the contract in their globals files",
        )


# --- merging -----------------------------------------------------------------------------------


@dataclass
class _Merge:
    """Walks the contract through an existing schema, collecting the edits it needs and the
    rules of the chart that contradict it."""

    owned_enum: Pointer  # the one rule the fleet owns outright: the cluster types follow the policy
    ops: list[JsonEdit] = field(default_factory=list)
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
                    self.ops.append(JsonEdit("add", pointer, wanted, key))
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
                        self.ops.append(JsonEdit("add", at, sub, name))
            elif key == "required":
                if not isinstance(present, list):
                    self.conflict(at, f"`required` of {_name(where)} is not a list; fix it by hand")
                    continue
                missing = [name for name in wanted if name not in present]
                if missing:
                    self.ops.append(JsonEdit("append", at, missing))
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
                    self.ops.append(JsonEdit("replace", at, wanted))
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
            self.ops.append(JsonEdit("replace", pointer, want))
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
