"""Secret values never reach the terminal, a CI log, a report or a PR body.

Two nets. Line by line, a YAML or JSON line whose key looks secret (`password`, `token`, `secret`,
`apiKey`, … but not `secretName` or `passwordRef`, which name a secret) has its value replaced, a
block scalar under such a key and a PEM private key block are replaced whole; this works on diff
lines too. And every value the fleet's values files hold under such a key is replaced wherever it
appears (a finding that quotes it, a rendered object), once it is long enough not to be a word.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from fleetmig.errors import InputError
from fleetmig.fleet.files import under
from fleetmig.fleet.model import Fleet
from fleetmig.report.jsonstream import chunks

REDACTED = "<redacted>"
_SECRET_WORDS = ("password", "passwd", "passphrase", "token", "secret", "apikey", "api_key", "privatekey",
                 "private_key", "credential", "clientkey", "accesskey", "key")  # fmt: skip
_NOT_SECRET_SUFFIXES = ("name", "names", "ref", "refs", "keyref", "file", "path", "enabled", "length", "store",
                        "storeref", "kind", "id", "policy", "template", "key_id", "keyid", "selector")  # fmt: skip
_LINE = re.compile(
    r"""^(?P<lead>[-+ ]?\s*(?:-\s+)?)(?P<quote>["']?)(?P<key>[A-Za-z0-9_.-]+)(?P=quote)"""
    r"""\s*:\s*(?P<value>\S.*?)\s*,?\s*$"""
)
_BEGIN_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_END_KEY = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY-----")
MIN_LITERAL = 8


@functools.lru_cache(maxsize=4096)  # a fleet repeats the same few thousand keys in every file
def looks_secret(key: str) -> bool:
    lowered = key.lower().replace("-", "_")
    compact = lowered.replace("_", "")
    if compact.startswith("existing"):  # existingSecret names a Secret
        return False
    if any(compact.endswith(suffix.replace("_", "")) for suffix in _NOT_SECRET_SUFFIXES) and compact != "key":
        return False
    return any(word in compact for word in _SECRET_WORDS if word != "key") or compact.endswith("key")


def redact_text(text: str, literals: Iterable[str] = ()) -> str:
    lines = text.split("\n")
    out = []
    block_indent: int | None = None  # inside a block scalar under a secret key
    in_key = False
    for line in lines:
        body = line[1:] if line[:1] in "+- " and _is_diff_line(line) else line
        indent = len(body) - len(body.lstrip(" "))
        if in_key:
            out.append(_keep_prefix(line, REDACTED) if not _END_KEY.search(line) else line)
            in_key = not _END_KEY.search(line)
            continue
        if block_indent is not None:
            if body.strip() and indent > block_indent:
                out.append(_keep_prefix(line, " " * indent + REDACTED))
                continue
            block_indent = None
        if _BEGIN_KEY.search(line):
            out.append(line)
            in_key = not _END_KEY.search(line)
            continue
        match = _LINE.match(line)
        if match and looks_secret(match.group("key")):
            value = match.group("value")
            if value in ("|", ">", "|-", ">-", "|+", ">+"):
                block_indent = indent
                out.append(line)
                continue
            if _is_secret_value(match.group("key"), value):
                line = line[: match.start("value")] + REDACTED + ("," if line.rstrip().endswith(",") else "")
        out.append(line)
    result = "\n".join(out)
    for literal in sorted({v for v in literals if len(v) >= MIN_LITERAL}, key=len, reverse=True):
        result = result.replace(literal, REDACTED)
    return result


def _is_secret_value(key: str, value: str) -> bool:
    if value in ("{}", "[]", "null", "~", '""', "''") or value.startswith(("{{", "&", "*")):
        return False
    compact = key.lower().replace("_", "").replace("-", "")
    if any(word in compact for word in _SECRET_WORDS if word != "key"):
        return True
    # A bare `key` is as often a name (an OTel attribute, a Vault path, a ConfigMap key) as key
    # material; only something that looks like material is hidden.
    bare = value.strip("\"'")
    return len(bare) >= 20 and " " not in bare and not re.fullmatch(r"[a-z0-9_.\-/]+", bare)


def _is_diff_line(line: str) -> bool:
    return not line.startswith(("+++", "---", "@@"))


def _keep_prefix(line: str, replacement: str) -> str:
    """The diff marker and the indentation stay, the content goes."""
    prefix = line[0] if line[:1] in "+- " and _is_diff_line(line) else ""
    body = line[len(prefix) :]
    return prefix + body[: len(body) - len(body.lstrip())] + replacement.lstrip()


def secret_values(data: Any) -> set[str]:
    """Every string (or number) held under a secret-looking key, at any depth."""
    found: set[str] = set()
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str) and looks_secret(key) and isinstance(value, (str, int, float)):
                    if not isinstance(value, bool):
                        found.add(str(value))
                elif isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(item for item in node if isinstance(item, (dict, list)))
    return found


def redact_json(node: Any, literals: set[str]) -> Any:
    """Every string of one of fleetmig's own JSON reports, redacted as text (a diff is a string)."""
    if isinstance(node, dict):
        return {key: redact_json(value, literals) for key, value in node.items()}
    if isinstance(node, list):
        return [redact_json(item, literals) for item in node]
    return redact_text(node, literals) if isinstance(node, str) else node


def fleet_secrets(fleet: Fleet) -> set[str]:
    """The values every values file of the fleet holds under a secret-looking key."""
    layout = fleet.policy.layout
    roots = under(layout.shared_values, layout.env_values, *layout.owned_charts)
    found: set[str] = set()
    for rel in fleet.data_files():
        if rel.startswith(roots):
            try:
                found |= secret_values(fleet.values(rel))
            except InputError:
                continue  # the command that reads it reports it
    return found


class RedactingStream:
    """A text stream that redacts what it is given, line by line, before passing it on."""

    def __init__(self, stream: TextIO, literals: set[str]) -> None:
        self._stream = stream
        self._literals = literals
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            complete, _, self._pending = self._pending.rpartition("\n")
            self._stream.write(self._redacted(complete) + "\n")
        return len(text)

    def _redacted(self, text: str) -> str:
        """A JSON report stays valid JSON: its strings (diffs included) are redacted one by one."""
        if text.lstrip().startswith(("{", "[")):
            try:
                document = json.loads(text)
            except ValueError:
                pass
            else:
                return json.dumps(redact_json(document, self._literals), indent=2)
        return redact_text(text, self._literals)

    def write_json(self, document: Mapping[str, Any]) -> None:
        """A JSON report, redacted string by string as it is encoded (`jsonstream.chunks`): what
        `write` does with encoded JSON text, without holding the report or parsing it back."""
        self.flush()
        for chunk in chunks(document, lambda value: redact_json(value, self._literals)):
            self._stream.write(chunk)
        self._stream.write("\n")

    def flush(self) -> None:
        if self._pending:
            self._stream.write(redact_text(self._pending, self._literals))
            self._pending = ""
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
