"""D1: Secrets generated with Helm randomness become ExternalSecrets reading Vault KV."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

import jinja2

from fleetmig.edit.gotemplate import TemplateSyntaxError, actions
from fleetmig.edit.yaml import YamlEditor
from fleetmig.engine import Changeset, Codemod
from fleetmig.errors import EditRefused
from fleetmig.fleet.charts import Chart, application_charts, charts, template_files
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.policy import Policy
from fleetmig.fleet.render import RenderFailed, manifests, render_release
from fleetmig.fleet.secrets import RANDOM_FUNCTIONS, external_secret_problems
from fleetmig.resources import shipped_dir

KNOBS = "externalSecrets"
KNOBS_COMMENT = "Where the chart's stable secrets come from: Vault KV through External Secrets (plan 519 Phase D)."
RANDOM = re.compile(r"\b(?:" + "|".join(RANDOM_FUNCTIONS) + r")\b")
CERTIFICATES = re.compile(r"\bgen(?:CA|SelfSignedCert|SignedCert|PrivateKey)\b")
ASSIGNMENT = re.compile(r"^\s*\$(\w+)\s*:?=\s*(.*)$", re.DOTALL)
KEY_LINE = re.compile(r"^(\s*)([A-Za-z0-9_.\-]+):\s?(.*)$")
TOP_KEYS = ("apiVersion", "kind", "metadata", "type", "data", "stringData")


class Refusal(Exception):
    """The template is not one of the shapes this codemod rewrites faithfully; the message says why."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class _Parsed:
    """A template that renders one Secret manifest (possibly inside a `range`)."""

    preamble: list[str]
    manifest_start: int
    manifest_end: int
    postamble: list[str]
    indent: int
    name: str
    namespace: str | None
    labels: list[str]
    annotations: list[str]
    type: str | None
    encoding: str  # "data" or "stringData"
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # (kind: entry|control, key or text, value)


class StableSecrets(Codemod):
    """Replace Secret templates that generate stable values with Helm randomness by ExternalSecrets.

    ## What it changes
    In owned charts, a template that renders a `Secret` whose values come from `randAlphaNum`,
    `randAlpha`, `randNumeric`, `randAscii`, `randBytes`, `uuidv4` (usually behind a `lookup` of the
    live Secret, which Argo CD's `helm template` never sees) is rewritten, from
    `templates/phase-d/external-secret.yaml.j2`, into an `ExternalSecret` (`external-secrets.io/v1`)
    that produces a Secret with the same name, type, labels and annotations and the same keys: the
    random keys are read from Vault KV through the store in `fleetmig.yaml` (`secrets.store`, default
    `SecretStore/ameide-vault`) at the key `secrets.key` (`{release}`, `{secret}`, `{key}`) and
    property `secrets.property`; keys that were not random are written by ESO's template, with the
    template's own conditionals kept (`range` over users, `if` blocks). The variables and `lookup`
    blocks that only served the random values are dropped; the file's comments are kept. The chart's
    `values.yaml` gains `externalSecrets.storeRef` and `.refreshInterval`.

    The rewrite is kept only when, rendered with real Helm for every release, the chart is
    deterministic, every ExternalSecret validates against ESO's CRD schema, and the only change is
    Secret → ExternalSecret of the same name. Anything else is reported with the reason: generated
    certificates and keys (`genCA`, `genSelfSignedCert`, `genPrivateKey`: their parts belong
    together, issue them with cert-manager), randomness outside a Secret, shapes the rewrite does
    not cover. Vendored charts are reported, never edited. `fleetmig seeds` lists the Vault keys
    to create before the charts sync.

    ## Why
    Under Argo CD `lookup` returns nothing, so these Secrets change on every render and are hidden
    behind `ignoreDifferences` (plan 519 §1, §2 goal 4, Phase D; gitops-facts §4.4).

    ## Before
        {{- $existing := lookup "v1" "Secret" .Release.Namespace "app-session" -}}
        apiVersion: v1
        kind: Secret
        metadata:
          name: app-session
        data:
          SECRET: {{ $existing | dig "data" "SECRET" "" | default (randAlphaNum 32 | b64enc) }}

    ## After
        apiVersion: external-secrets.io/v1
        kind: ExternalSecret
        metadata:
          name: app-session
        spec:
          refreshInterval: {{ $.Values.externalSecrets.refreshInterval | quote }}
          secretStoreRef:
            kind: {{ $.Values.externalSecrets.storeRef.kind }}
            name: {{ $.Values.externalSecrets.storeRef.name }}
          target:
            name: app-session
            creationPolicy: Owner
            template:
              type: Opaque
          data:
            - secretKey: SECRET
              remoteRef:
                key: {{ printf "%s-app-session" $.Release.Name }}
                property: value
    """

    id = "d1-stable-secrets"
    phase = "D"
    title = "Helm-random stable Secrets become ExternalSecrets reading Vault KV"

    def apply(self, fleet: Fleet) -> Changeset:
        changeset = self.changeset()
        for chart in charts(fleet):
            if chart.vendored:
                self._report_vendored(fleet, chart, changeset)
        for chart in application_charts(fleet):
            rewrites: dict[str, bytes] = {}
            for rel in template_files(fleet, chart):
                if rel.rsplit("/", 1)[-1].startswith("_"):
                    continue
                text = fleet.read_bytes(rel).decode("utf-8", errors="replace")
                if not RANDOM.search(text) and not CERTIFICATES.search(text):
                    continue
                try:
                    after, ignored = rewrite(text, fleet.policy)
                except Refusal as refusal:
                    changeset.manual(rel, refusal.line, f"not rewritten: {refusal.message}")
                    continue
                rewrites[rel] = after.encode("utf-8")
                if ignored:
                    fields = ", ".join(f"`{f}`" for f in ignored)
                    changeset.manual(
                        rel,
                        1,
                        f"the old template also took the value from {fields} in the values when set; the "
                        "ExternalSecret always reads Vault: put any such value into Vault and delete it from values",
                    )
            if rewrites:
                self._apply(fleet, chart, rewrites, changeset)
        return changeset

    def _apply(self, fleet: Fleet, chart: Chart, rewrites: dict[str, bytes], changeset: Changeset) -> None:
        values_rel = f"{chart.path}/values.yaml"
        contents: dict[str, bytes | None] = dict(rewrites)
        knobs = _with_knobs(fleet, values_rel)
        if knobs is not None:
            contents[values_rel] = knobs
        problem = _proof(fleet, chart, contents)
        if problem:
            for rel in rewrites:
                changeset.manual(rel, None, f"not rewritten: {problem}")
            return
        for rel, after in rewrites.items():
            changeset.edit(rel, fleet.read_bytes(rel), after, "Secret → ExternalSecret: stable values from Vault KV", 1)
        if knobs is not None:
            before = fleet.read_bytes(values_rel) if fleet.exists(values_rel) else None
            if before is None:
                changeset.create(values_rel, knobs, "the chart's External Secrets store and refresh interval")
            else:
                changeset.edit(values_rel, before, knobs, "the chart's External Secrets store and refresh interval")

    def _report_vendored(self, fleet: Fleet, chart: Chart, changeset: Changeset) -> None:
        for rel in template_files(fleet, chart):
            text = fleet.read_bytes(rel).decode("utf-8", errors="replace")
            match = RANDOM.search(text)
            if match and re.search(r"^\s*kind:\s*Secret\s*$", text, re.MULTILINE):
                changeset.manual(
                    rel,
                    text.count("\n", 0, match.start()) + 1,
                    f"vendored chart generates a Secret with `{match.group()}`; fleetmig never edits third_party/: "
                    "give the wrapper an existingSecret fed by an ExternalSecret (phase E)",
                )


def _with_knobs(fleet: Fleet, rel: str) -> bytes | None:
    """values.yaml with `externalSecrets` added (None when it already has it)."""
    before = fleet.read_bytes(rel) if fleet.exists(rel) else b""
    editor = YamlEditor(before, rel)
    if editor.has(KNOBS):
        return None
    policy = fleet.policy
    knobs = {
        "storeRef": {"kind": policy.secrets_store_kind, "name": policy.secrets_store_name},
        "refreshInterval": "1h",
    }
    try:
        editor.insert((), KNOBS, knobs, comment=KNOBS_COMMENT)
    except EditRefused as refusal:
        raise Refusal(f"{rel}: {refusal.message}") from None
    return editor.to_bytes()


def _proof(fleet: Fleet, chart: Chart, contents: dict[str, bytes | None]) -> str | None:
    """Render every release before and after: the only change allowed is Secret → ExternalSecret."""
    after_fleet = fleet.with_contents(contents)
    releases = fleet.releases_of_chart(chart.path)
    if not releases:
        return "no component deploys this chart, so the rewrite cannot be proved with its values; deploy it first"
    for release in releases:
        try:
            before = _objects(manifests(render_release(fleet, release)))
            first = manifests(render_release(after_fleet, release))
            second = manifests(render_release(after_fleet, release, fresh=True))
        except RenderFailed as error:
            return f"the rewritten chart does not render for {release.label}: {error}"
        if first != second:
            return f"the rewritten chart still renders differently twice for {release.label}"
        after = _objects(first)
        secrets = {key for key in before if key[0] == "Secret"}
        swapped = {("ExternalSecret", name) for _, name in secrets}
        if set(after) != (set(before) - secrets) | swapped:
            return f"for {release.label} the objects change beyond Secret → ExternalSecret"
        for key, obj in after.items():
            if key[0] == "ExternalSecret":
                problems = external_secret_problems(obj)
                if problems:
                    return f"ExternalSecret `{key[1]}` does not validate against the ESO CRD: {problems[0]}"
            elif obj != before[key]:
                return f"for {release.label} {key[0]} `{key[1]}` changes"
    return None


def _objects(docs: list[Any]) -> dict[tuple[str, str], Any]:
    return {(str(d.get("kind")), str((d.get("metadata") or {}).get("name"))): d for d in docs if isinstance(d, dict)}


# --- the rewrite -----------------------------------------------------------------------------------


def rewrite(text: str, policy: Policy) -> tuple[str, list[str]]:
    """The ExternalSecret template that replaces Secret template `text` (Refusal when it cannot), and
    the values the old template read that the new one no longer does."""
    newline = "\r\n" if "\r\n" in text else "\n"
    source = text.replace("\r\n", "\n")
    try:
        actions(source)
    except TemplateSyntaxError as error:
        raise Refusal(error.message, error.line) from None
    if CERTIFICATES.search(source):
        match = CERTIFICATES.search(source)
        assert match is not None
        raise Refusal(
            f"`{match.group()}` generates a key or certificate whose parts belong together; issue it with "
            "cert-manager or store the whole pair in Vault by hand",
            source.count("\n", 0, match.start()) + 1,
        )
    lines = source.split("\n")
    parsed = _parse(lines)
    tainted = _tainted(parsed.preamble)
    rendered = _render(parsed, tainted, policy)
    kept = _kept_preamble(parsed.preamble, tainted)
    dropped = [line for line in parsed.preamble if line not in kept]
    ignored = sorted(
        {
            field
            for line in dropped
            for field in re.findall(r"(?<![\w$)\]])(\.[A-Za-z_][\w.]*)", line)
            if not field.startswith((".Release", ".Chart", ".Capabilities", ".Template"))
        }
    )
    seam = [line for line in parsed.preamble if line.strip() and line.strip() != "---"]
    new_seam = [line for line in kept if line.strip() and line.strip() != "---"]
    if seam and new_seam and not _trims_right(seam[-1]) and _trims_right(new_seam[-1]):
        # The dropped lines ended the preamble with a newline (a `---` must start its own line).
        note = "{{- /* stable values: Vault KV through External Secrets (fleetmig d1-stable-secrets) */}}"
        separator = bool(kept) and kept[-1].strip() == "---"
        kept = [*kept[:-1], note, kept[-1]] if separator else [*kept, note]
    out = [*kept, *rendered.split("\n"), *parsed.postamble]
    return newline.join(out), ignored


def _parse(lines: list[str]) -> _Parsed:
    kinds = [i for i, line in enumerate(lines) if re.fullmatch(r"\s*kind:\s*Secret\s*", line)]
    if len(kinds) != 1:
        raise Refusal(
            "the randomness does not feed exactly one Secret manifest in this template"
            if not kinds
            else "several Secret manifests in one template; split them first",
            None,
        )
    kind_line = kinds[0]
    indent = len(lines[kind_line]) - len(lines[kind_line].lstrip())
    start = next(
        (i for i in range(kind_line - 1, -1, -1) if re.fullmatch(rf" {{{indent}}}apiVersion:\s*v1\s*", lines[i])), None
    )
    if start is None:
        raise Refusal("the Secret's `apiVersion: v1` line is not where fleetmig expects it", kind_line + 1)
    end = start + 1
    while end < len(lines):
        line = lines[end]
        current = len(line) - len(line.lstrip())
        if line.strip() and current <= indent and not re.match(rf" {{{indent}}}[A-Za-z]\w*:", line):
            break
        end += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    parsed = _Parsed(
        preamble=lines[:start],
        manifest_start=start,
        manifest_end=end,
        postamble=lines[end:],
        indent=indent,
        name="",
        namespace=None,
        labels=[],
        annotations=[],
        type=None,
        encoding="",
    )
    for line in parsed.postamble:
        if line.strip() and not _pure_action(line):
            raise Refusal("the template renders more than the Secret after it", lines.index(line) + 1)
    _read_manifest(lines, parsed)
    return parsed


def _read_manifest(lines: list[str], parsed: _Parsed) -> None:
    indent = parsed.indent
    sections: dict[str, list[tuple[int, str]]] = {}
    current = ""
    for index in range(parsed.manifest_start, parsed.manifest_end):
        line = lines[index]
        match = re.match(rf" {{{indent}}}([A-Za-z]\w*):\s?(.*)$", line)
        if match and len(line) - len(line.lstrip()) == indent:
            current = match.group(1)
            if current not in TOP_KEYS:
                raise Refusal(f"the Secret sets `{current}`, which this rewrite does not carry over", index + 1)
            sections[current] = [(index, match.group(2))]
        else:
            sections.setdefault(current, []).append((index, line))
    parsed.type = sections["type"][0][1].strip() if "type" in sections else None
    encodings = [key for key in ("data", "stringData") if key in sections]
    if len(encodings) != 1:
        raise Refusal("the Secret needs exactly one of `data` or `stringData`", parsed.manifest_start + 1)
    parsed.encoding = encodings[0]
    _read_metadata(sections.get("metadata", [])[1:], parsed)
    if not parsed.name:
        raise Refusal("the Secret has no `metadata.name`", parsed.manifest_start + 1)
    for index, line in sections[parsed.encoding][1:]:
        if not line.strip():
            continue
        if _pure_action(line):
            parsed.rows.append(("control", line.strip(), ""))
            continue
        entry = KEY_LINE.match(line)
        if entry is None or len(entry.group(1)) != indent + 2 or not entry.group(3).strip():
            raise Refusal("a Secret value spans several lines; this rewrite handles one-line values", index + 1)
        parsed.rows.append(("entry", entry.group(2), entry.group(3).strip()))


def _read_metadata(block: list[tuple[int, str]], parsed: _Parsed) -> None:
    field_name = ""
    for index, line in block:
        entry = KEY_LINE.match(line)
        if entry and len(entry.group(1)) == parsed.indent + 2:
            field_name = entry.group(2)
            if field_name == "name":
                parsed.name = entry.group(3).strip()
            elif field_name == "namespace":
                parsed.namespace = entry.group(3).strip()
            elif field_name not in ("labels", "annotations"):
                raise Refusal(f"`metadata.{field_name}` is not carried over by this rewrite", index + 1)
            elif entry.group(3).strip():
                raise Refusal(f"`metadata.{field_name}` in flow style is not carried over", index + 1)
            continue
        if field_name == "labels":
            parsed.labels.append(line)
        elif field_name == "annotations":
            parsed.annotations.append(line)


def _trims_right(line: str) -> bool:
    return line.rstrip().endswith("-}}")


def _pure_action(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith("{{") and stripped.endswith("}}") and stripped.count("{{") == 1


def _tainted(preamble: list[str]) -> set[str]:
    """Variables whose value comes from randomness or a live lookup, directly or through others."""
    assignments = []
    for line in preamble:
        for action in re.findall(r"\{\{-?\s*(.*?)\s*-?\}\}", line):
            match = ASSIGNMENT.match(action)
            if match:
                assignments.append((match.group(1), match.group(2)))
    tainted: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, expression in assignments:
            uses = set(re.findall(r"\$(\w+)", expression))
            if name not in tainted and (RANDOM.search(expression) or "lookup" in expression or uses & tainted):
                tainted.add(name)
                changed = True
    return tainted


def _kept_preamble(preamble: list[str], tainted: set[str]) -> list[str]:
    """The preamble without what only served the random values (assignments and their `if` blocks)."""
    kept: list[str] = []
    block: list[str] = []  # an `if` block being collected
    depth = 0
    for number, line in enumerate(preamble, start=1):
        body = re.sub(r"^\{\{-?\s*|\s*-?\}\}$", "", line.strip())
        if depth:
            block.append(line)
            depth += _depth_change(body)
            if depth == 0:
                if not all(_droppable(b, tainted) for b in block):
                    raise Refusal("an `if` block computes the random value and something else", number)
                block = []
            continue
        if not line.strip() or "/*" in line or not _pure_action(line):
            kept.append(line)
            continue
        if body.split()[:1] == ["if"]:
            if not _closes_within(preamble[number:]):
                kept.append(line)  # it wraps the manifest too (an `enabled` gate): structure, not logic
                continue
            block = [line]
            depth = 1
            continue
        match = ASSIGNMENT.match(body)
        if match and match.group(1) in tainted:
            continue
        kept.append(line)
    return kept


def _closes_within(lines: list[str]) -> bool:
    """Whether an `if` opened just before `lines` ends among them."""
    depth = 1
    for line in lines:
        depth += _depth_change(re.sub(r"^\{\{-?\s*|\s*-?\}\}$", "", line.strip()))
        if depth == 0:
            return True
    return False


def _depth_change(body: str) -> int:
    word = body.split()[:1]
    if word and word[0] in ("if", "with", "range"):
        return 1
    return -1 if word == ["end"] else 0


def _droppable(line: str, tainted: set[str]) -> bool:
    body = re.sub(r"^\{\{-?\s*|\s*-?\}\}$", "", line.strip())
    word = body.split()[:1]
    if word and word[0] in ("if", "else", "end"):
        return True
    match = ASSIGNMENT.match(body)
    return match is not None and match.group(1) in tainted


def _render(parsed: _Parsed, tainted: set[str], policy: Policy) -> str:
    pad = " " * parsed.indent
    name_expr = _expression(parsed.name)
    entries = [(key, value) for kind, key, value in parsed.rows if kind == "entry"]
    randoms = {key for key, value in entries if _is_random(value, tainted)}
    if not randoms:
        raise Refusal(
            "no key of the Secret comes from the randomness; nothing to move to Vault", parsed.manifest_start + 1
        )
    if parsed.encoding == "data" and len(randoms) != len(entries):
        raise Refusal(
            "base64 `data` mixes random and fixed keys; move the fixed ones to `stringData` first",
            parsed.manifest_start + 1,
        )
    several = len(randoms) > 1 and "{key}" not in policy.secrets_key
    remote_rows: list[dict[str, str]] = []
    static_rows: list[str] = []
    for kind, key, value in parsed.rows:
        if kind == "control":
            remote_rows.append({"control": f"{pad}    {key}"})
            static_rows.append(f"{pad}        {key}")
        elif key in randoms:
            source = _source_key(key, value, entries, randoms, tainted)
            remote_rows.append(
                {
                    "control": "",
                    "key": key,
                    "remote_key": _remote_key(policy, name_expr, source),
                    "property": source if several else policy.secrets_property,
                }
            )
        else:
            static_rows.append(f"{pad}        {key}: {value}")
    if not any(row.strip() and not _pure_action(row) for row in static_rows):
        static_rows = []
    return (
        _templates()
        .get_template("external-secret.yaml.j2")
        .render(
            pad=pad,
            name=parsed.name,
            namespace=parsed.namespace,
            labels=parsed.labels,
            template_labels=_reindented(parsed.labels, 6),
            template_annotations=_reindented(parsed.annotations, 6),
            type=parsed.type,
            static=static_rows,
            remote=remote_rows,
            knobs=KNOBS,
        )
    )


@functools.cache
def _templates() -> jinja2.Environment:
    """One environment for the run: it compiles the template once, not once per Secret."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(shipped_dir("templates") / "phase-d")),
        keep_trailing_newline=False,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
    )


def _is_random(value: str, tainted: set[str]) -> bool:
    return bool(RANDOM.search(value) or "lookup" in value or set(re.findall(r"\$(\w+)", value)) & tainted)


def _source_key(key: str, value: str, entries: list[tuple[str, str]], randoms: set[str], tainted: set[str]) -> str:
    """Keys rendered from the same random variable share one Vault value: the first key that uses it."""
    variables = set(re.findall(r"\$(\w+)", value)) & tainted
    if not variables or RANDOM.search(value):
        return key
    for other, other_value in entries:
        if other in randoms and set(re.findall(r"\$(\w+)", other_value)) & tainted == variables:
            return other
    return key


def _expression(text: str) -> str:
    """A Go template expression that yields `text` (a YAML value mixing literals and actions)."""
    parts = re.split(r"(\{\{-?\s*.*?\s*-?\}\})", text.strip().strip("'\""))
    literal, args = "", []
    for part in parts:
        action = re.fullmatch(r"\{\{-?\s*(.*?)\s*-?\}\}", part)
        if action:
            literal += "%s"
            args.append(f"({action.group(1)})" if " " in action.group(1) else action.group(1))
        else:
            literal += part.replace("%", "%%")
    if literal == "%s" and len(args) == 1:
        return args[0]
    return f'(printf "{literal}"{"".join(" " + a for a in args)})'


def _remote_key(policy: Policy, secret: str, key: str) -> str:
    template = policy.secrets_key
    fmt = re.sub(r"\{(release|secret|key)\}", "%s", template.replace("%", "%%"))
    args = []
    for placeholder in re.findall(r"\{(release|secret|key)\}", template):
        args.append({"release": "$.Release.Name", "secret": secret, "key": f'"{_kebab(key)}"'}[placeholder])
    return f'printf "{fmt}" {" ".join(args)}'.strip()


def _kebab(key: str) -> str:
    return re.sub(r"[^a-z0-9.-]+", "-", key.lower()).strip("-")


def _reindented(lines: list[str], extra: int) -> list[str]:
    """Block lines moved `extra` columns deeper, `nindent`/`indent` arguments included."""

    def deeper(line: str) -> str:
        line = re.sub(r"\b(n?indent) (\d+)", lambda m: f"{m.group(1)} {int(m.group(2)) + extra}", line)
        return " " * extra + line if line.strip() else line

    return [deeper(line) for line in lines]
