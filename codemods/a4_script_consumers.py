"""A4: point Python readers of the moved root values keys at their `global.ameide.*` contract path."""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import (
    Assignment,
    ExpressionContext,
    ExpressionContextProvider,
    MetadataWrapper,
    PositionProvider,
    ScopeProvider,
)

from fleetmig.engine import Changeset, Codemod
from fleetmig.fleet.contract import Bridge, bridges
from fleetmig.fleet.model import Fleet

VALUES_NAMES = frozenset({"values", "globals", "vals"})
VALUES_SUFFIXES = ("_values", "_globals")
# a1 publishes `cluster.type` as the cluster type name (`local`), where the root key held the
# distribution (`k3d`): a script that reads it gets different words after the rewrite.
RETYPED = ("cluster", "type")
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class ScriptConsumers(Codemod):
    """Make the fleet's Python tooling read `global.ameide.*` instead of the deprecated root keys.

    ## What it changes
    In every `*.py` file of the fleet (vendored charts and hidden folders excepted) it rewrites the
    reads of a moved root key (`contract.move` in `fleetmig.yaml`, by default `cluster`) on a
    parsed values or globals mapping to read the contract path instead:
    `values["cluster"]` becomes `values["global"]["ameide"]["cluster"]`,
    `values.get("cluster", {})` becomes
    `values.get("global", {}).get("ameide", {}).get("cluster", {})` and `"cluster" in values`
    becomes `"cluster" in values.get("global", {}).get("ameide", {})`. Only the access changes:
    quotes, comments, line breaks and line endings around it stay as they were.

    A mapping counts as values when its name says so (`values`, `globals`, `vals`, `*_values`,
    `*_globals`, an attribute such as `self.values`), when it was assigned from a loader such as
    `load_globals(path)`, or when it is a parameter annotated like one (`cfg: HelmValues`). The
    same key on any other receiver, a key computed at run time, an assignment to a root key and
    a file libcst cannot parse are reported with file and line, never guessed. A rewritten read of
    `cluster.type` is reported too: it now yields the cluster type (`local`, `azure`) where the
    root key held the distribution (`k3d`, `aks`).

    ## Why
    Phase A moves the fleet facts under `global.ameide.*` and keeps the root keys only as a
    deprecated bridge (`a1-fleet-contract`); the bridge can only be dropped once nothing reads
    it, and scripts that load globals files read it too (plan 519 §4.1, Phase A).

    ## Before
        def cluster_label(values: dict) -> str:
            cluster = values.get("cluster", {})
            name = cluster.get("name", "unknown")
            return f"{values['cluster']['type']}:{name}" if cluster else "unknown"

    ## After
        def cluster_label(values: dict) -> str:
            cluster = values.get("global", {}).get("ameide", {}).get("cluster", {})
            name = cluster.get("name", "unknown")
            return f"{values['global']['ameide']['cluster']['type']}:{name}" if cluster else "unknown"
    """

    id = "a4-script-consumers"
    phase = "A"
    title = "Point Python readers of root keys at global.ameide.*"
    requires = ("a1-fleet-contract",)

    def apply(self, fleet: Fleet) -> Changeset:
        changeset = self.changeset()
        moved = bridges(fleet.policy)
        vendored = fleet.policy.layout.third_party.rstrip("/") + "/"
        for path in fleet.files.glob("**/*.py"):
            if path.startswith(vendored) or any(part.startswith(".") for part in path.split("/")[:-1]):
                continue
            before = fleet.read_bytes(path)
            # Parsing every script of a large fleet is slow; a file that never spells a root key
            # as a string literal cannot read it with a literal key, so it is not parsed at all.
            quoted = [b for b in moved if any(f"{q}{b.root}{q}".encode() in before for q in "\"'")]
            if quoted:
                self._rewrite(fleet, path, before, quoted, changeset)
        return changeset

    def _rewrite(self, fleet: Fleet, path: str, before: bytes, moved: Sequence[Bridge], changeset: Changeset) -> None:
        roots = ", ".join(f"`{b.root}`" for b in moved)
        try:
            module = cst.parse_module(before)
        except cst.ParserSyntaxError as err:
            line, reason = _parse_failure(before, err)
            changeset.manual(path, line, f"not checked for reads of root {roots}: {reason}")
            return
        except SyntaxError as err:  # undecodable first lines or a bad coding cookie
            changeset.manual(path, err.lineno, f"not checked for reads of root {roots}: {err.msg}")
            return
        except UnicodeDecodeError as err:
            line = before[: err.start].count(b"\n") + 1
            changeset.manual(
                path, line, f"not checked for reads of root {roots}: not {err.encoding} text ({err.reason})"
            )
            return
        wrapper = MetadataWrapper(module)
        rewriter = _Rewriter(wrapper.module, moved, _loader_targets(wrapper.module), fleet.cluster_types)
        after = wrapper.visit(rewriter).bytes
        for line, message in sorted(rewriter.findings):
            changeset.manual(path, line, message)
        if rewriter.rewrites:
            reasons = []
            for bridge in moved:
                count = sum(1 for _, b in rewriter.rewrites if b == bridge)
                if count:
                    places = "1 place" if count == 1 else f"{count} places"
                    reasons.append(f"read `{bridge.target}` instead of the deprecated root `{bridge.root}` ({places})")
            first = min(line for line, _ in rewriter.rewrites)
            changeset.edit(path, before, after, "; ".join(reasons), first)


def _parse_failure(source: bytes, err: cst.ParserSyntaxError) -> tuple[int, str]:
    """Where and why `source` does not parse: CPython's account when it has one, as libcst often
    names the line after the mistake."""
    try:
        ast.parse(source)
    except SyntaxError as py_err:
        return py_err.lineno or err.raw_line, py_err.msg
    except ValueError as py_err:  # Python 3.10 reports null bytes this way
        return err.raw_line, str(py_err)
    return err.raw_line, "libcst cannot parse it"


@dataclass(frozen=True)
class _Access:
    """A read of `key` on `receiver`; `node` is the whole read, as recorded once rewritten and quoted in findings."""

    node: cst.CSTNode
    receiver: cst.BaseExpression
    key: cst.BaseExpression


class _Rewriter(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider, ScopeProvider, ExpressionContextProvider)

    def __init__(
        self,
        module: cst.Module,
        moved: Sequence[Bridge],
        loaded: Collection[cst.CSTNode],
        cluster_types: Sequence[str],
    ) -> None:
        super().__init__()
        self._module = module
        self._bridges = {bridge.root: bridge for bridge in moved}
        self._loaded = loaded
        self._cluster_types = cluster_types
        self._rewritten: dict[cst.CSTNode, Bridge] = {}  # original access node → its bridge
        self.rewrites: list[tuple[int, Bridge]] = []
        self.findings: list[tuple[int, str]] = []

    # ------------------------------------------------------------------ the three access forms
    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript) -> cst.BaseExpression:
        key = _index(original_node)
        if key is None:
            return updated_node
        access = _Access(original_node, original_node.value, key)
        self._check_retyped(access)
        bridge = self._bridge_for(access)
        if bridge is None:
            return updated_node
        assert isinstance(key, cst.SimpleString)  # only a string literal names a bridge
        context = self.get_metadata(ExpressionContextProvider, original_node, ExpressionContext.LOAD)
        if context is not ExpressionContext.LOAD:
            # Writing the contract path would fail where `global.ameide` is missing: a human decides.
            verb = "deletes" if context is ExpressionContext.DEL else "assigns"
            self._report(
                key,
                f"{verb} the deprecated root key `{bridge.root}`; fleetmig rewrites only reads, "
                f"move this to `{bridge.target}` by hand",
            )
            return updated_node
        self._record(access, bridge)
        *prefix, last = bridge.target_keys
        (element,) = updated_node.slice
        index = element.slice
        assert isinstance(index, cst.Index)
        return updated_node.with_changes(
            value=_subscripted(updated_node.value, prefix, key),
            slice=[element.with_changes(slice=index.with_changes(value=key.with_changes(value=_quoted(key, last))))],
        )

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        receiver = _get_receiver(original_node)
        if receiver is None:
            return updated_node
        key = original_node.args[0].value
        access = _Access(original_node, receiver, key)
        self._check_retyped(access)
        bridge = self._bridge_for(access)
        if bridge is None:
            return updated_node
        assert isinstance(key, cst.SimpleString)  # only a string literal names a bridge
        self._record(access, bridge)
        *prefix, last = bridge.target_keys
        func = updated_node.func
        assert isinstance(func, cst.Attribute)
        first, *rest = updated_node.args
        return updated_node.with_changes(
            func=func.with_changes(value=_got(func.value, prefix, key)),
            args=[first.with_changes(value=key.with_changes(value=_quoted(key, last))), *rest],
        )

    def leave_Comparison(self, original_node: cst.Comparison, updated_node: cst.Comparison) -> cst.BaseExpression:
        key = original_node.left
        if (
            len(original_node.comparisons) != 1
            or not isinstance(original_node.comparisons[0].operator, (cst.In, cst.NotIn))
            or not isinstance(key, cst.SimpleString)
            or _literal(key) not in self._bridges
        ):
            return updated_node
        access = _Access(original_node, original_node.comparisons[0].comparator, key)
        bridge = self._bridge_for(access)
        if bridge is None:
            return updated_node
        self._record(access, bridge)
        *prefix, last = bridge.target_keys
        (target,) = updated_node.comparisons
        return updated_node.with_changes(
            left=key.with_changes(value=_quoted(key, last)),
            comparisons=[target.with_changes(comparator=_got(target.comparator, prefix, key))],
        )

    # ------------------------------------------------------------------ deciding
    def _bridge_for(self, access: _Access) -> Bridge | None:
        """The bridge to rewrite `access` with; None after reporting it when a human must look."""
        literal = _literal(access.key)
        bridge = self._bridges.get(literal) if literal is not None else None
        base, keys = _chain(access.receiver)
        if bridge is not None and _ends_with(keys, bridge.target_keys[:-1]):
            return None  # already reads the contract path
        if not self._holds_values(base):
            if bridge is not None:
                self._report(
                    access.key,
                    f"may read the deprecated root key `{bridge.root}` (now `{bridge.target}`); receiver "
                    f"`{self._code(access.receiver)}` is not known to hold Helm values; rewrite by hand if it does",
                )
            return None
        if keys:
            return None  # a key nested below the root, not a root key
        if literal is None:
            moved = ", ".join(f"`{b.root}` → `{b.target}`" for b in self._bridges.values())
            self._report(
                access.key,
                f"`{self._code(access.node)}`: the key is computed at run time, so fleetmig cannot tell "
                f"whether it is a moved root key ({moved}); check it by hand",
            )
        return bridge

    def _holds_values(self, base: cst.BaseExpression) -> bool:
        if isinstance(base, cst.Attribute):
            return _values_like(base.attr.value)
        if isinstance(base, cst.Call):
            return _is_loader_call(base)
        if not isinstance(base, cst.Name):
            return False
        if _values_like(base.value):
            return True
        scope = self.get_metadata(ScopeProvider, base, None)
        if scope is None:
            return False
        assignments = scope[base.value]
        return bool(assignments) and all(
            isinstance(a, Assignment) and (a.node in self._loaded or _values_param(a.node)) for a in assignments
        )

    def _check_retyped(self, access: _Access) -> None:
        bridge = self._rewritten.get(access.receiver)
        if bridge is not None and (bridge.target_keys[-1], _literal(access.key)) == RETYPED:
            types = ", ".join(self._cluster_types) or "cluster type names"
            self._report(
                access.key,
                f"now reads `{bridge.target}.type`, which holds the cluster type ({types}) where root "
                f"`{bridge.root}.type` held the distribution; check this script's output",
            )

    # ------------------------------------------------------------------ bookkeeping
    def _record(self, access: _Access, bridge: Bridge) -> None:
        self._rewritten[access.node] = bridge
        self.rewrites.append((self._line(access.key), bridge))

    def _report(self, node: cst.CSTNode, message: str) -> None:
        self.findings.append((self._line(node), message))

    def _line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    def _code(self, node: cst.CSTNode) -> str:
        text = " ".join(self._module.code_for_node(node).split())
        return text if len(text) <= 60 else text[:59] + "…"


# ---------------------------------------------------------------------- reading expressions
def _index(node: cst.Subscript) -> cst.BaseExpression | None:
    """The key of `x[key]`; None for slices and tuples of keys."""
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    return node.slice[0].slice.value


def _get_receiver(node: cst.Call) -> cst.BaseExpression | None:
    """`x` in `x.get(key)` or `x.get(key, default)`, the only calls shaped like `dict.get`."""
    func = node.func
    if not isinstance(func, cst.Attribute) or func.attr.value != "get" or not 1 <= len(node.args) <= 2:
        return None
    if any(arg.keyword is not None or arg.star for arg in node.args):
        return None
    return func.value


def _literal(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _chain(node: cst.BaseExpression) -> tuple[cst.BaseExpression, tuple[str | None, ...]]:
    """Split `values["a"].get("b", {})` into its base `values` and the keys read below it."""
    keys: list[str | None] = []
    while True:
        if isinstance(node, cst.Subscript) and (key := _index(node)) is not None:
            keys.append(_literal(key))
            node = node.value
        elif isinstance(node, cst.Call) and (receiver := _get_receiver(node)) is not None:
            keys.append(_literal(node.args[0].value))
            node = receiver
        else:
            return node, tuple(reversed(keys))


def _ends_with(keys: Sequence[str | None], suffix: Sequence[str]) -> bool:
    return len(keys) >= len(suffix) and tuple(keys[len(keys) - len(suffix) :]) == tuple(suffix)


def _values_like(name: str) -> bool:
    snake = _CAMEL_HUMP.sub("_", name).lower()
    return snake in VALUES_NAMES or snake.endswith(VALUES_SUFFIXES)


def _terminal_name(node: cst.BaseExpression) -> str | None:
    """`load_values` for `load_values`, `yamlutil.load_values` and `Mapping` for `Mapping[str, Any]`."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    if isinstance(node, cst.Subscript):
        return _terminal_name(node.value)
    return None


def _is_loader_call(node: cst.BaseExpression) -> bool:
    if not isinstance(node, cst.Call):
        return False
    name = (_terminal_name(node.func) or "").lower()
    return "load" in name and ("values" in name or "globals" in name)


def _values_param(node: cst.CSTNode) -> bool:
    if not isinstance(node, cst.Param) or node.annotation is None:
        return False
    name = _terminal_name(node.annotation.annotation)
    return name is not None and _values_like(name)


def _loader_targets(module: cst.Module) -> set[cst.CSTNode]:
    """The names assigned straight from a values loader call (`cfg = load_globals(path)`)."""
    visitor = _LoaderTargets()
    module.visit(visitor)
    return visitor.targets


class _LoaderTargets(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.targets: set[cst.CSTNode] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        if _is_loader_call(node.value):
            self.targets.update(t.target for t in node.targets if isinstance(t.target, cst.Name))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None and _is_loader_call(node.value) and isinstance(node.target, cst.Name):
            self.targets.add(node.target)


# ---------------------------------------------------------------------- building expressions
def _quoted(like: cst.SimpleString, value: str) -> str:
    # Keys come from fleetmig.yaml, whose schema allows only identifier characters: no escaping.
    return f"{like.prefix}{like.quote}{value}{like.quote}"


def _subscripted(receiver: cst.BaseExpression, keys: Iterable[str], like: cst.SimpleString) -> cst.BaseExpression:
    for key in keys:
        receiver = cst.Subscript(receiver, [cst.SubscriptElement(cst.Index(cst.SimpleString(_quoted(like, key))))])
    return receiver


def _got(receiver: cst.BaseExpression, keys: Iterable[str], like: cst.SimpleString) -> cst.BaseExpression:
    for key in keys:
        receiver = cst.Call(
            cst.Attribute(receiver, cst.Name("get")),
            [
                cst.Arg(
                    cst.SimpleString(_quoted(like, key)), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                ),
                cst.Arg(cst.Dict([])),
            ],
        )
    return receiver
