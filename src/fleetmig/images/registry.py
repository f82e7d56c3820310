"""A read-only OCI distribution client: which platforms does an image reference provide?

`GET /v2/<repository>/manifests/<reference>` is sent with all four manifest media types in `Accept`.
That matters: a registry asked only for Docker v2 manifests answers a Docker manifest list with its
linux/amd64 child and refuses an OCI index (gitops-facts §6), so a narrower Accept makes every
multi-arch image look single-arch or missing. The answer's `Content-Type` (else the body's
`mediaType`) decides: an index or list names its platforms in `manifests[].platform` (BuildKit's
`unknown/unknown` attestation entries are not platforms); a single manifest's platform is in its
config blob.

HTTPS unless the registry is listed as insecure. Registries that want a token get the anonymous
bearer flow (`WWW-Authenticate: Bearer realm=…,service=…,scope=…`); tokens live in memory only and
never appear in a message. Every failure becomes an `Inspection` state with a reason, never an
exception: one unreachable registry must not hide the verdicts on every other image.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any, Literal

from fleetmig.images.refs import DOCKER_HUB, ImageRef

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))

DEFAULT_TIMEOUT = 10.0
# Manifests and image configs are a few KiB; anything far bigger is not what we asked for.
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
# Docker Hub's API is not served from the name users write.
_API_HOSTS: Mapping[str, str] = {DOCKER_HUB: "registry-1.docker.io"}
_CHALLENGE_PARAM_RE = re.compile(r'(\w+)="([^"]*)"')

State = Literal["ok", "unreachable", "not-found", "unauthorized", "invalid"]


@dataclass(frozen=True, order=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        return f"{self.os}/{self.architecture}" + (f"/{self.variant}" if self.variant else "")

    @classmethod
    def parse(cls, text: str) -> Platform:
        os_name, _, rest = text.partition("/")
        architecture, _, variant = rest.partition("/")
        return cls(os_name, architecture, variant or None)


@dataclass(frozen=True)
class Inspection:
    """What the registry says about one reference; `reason` explains every state but `ok`."""

    state: State
    digest: str | None = None
    media_type: str | None = None
    platforms: tuple[Platform, ...] = ()
    reason: str | None = None
    cached: bool = False  # answered from the digest cache

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


class _Failed(Exception):
    """Carries a failure state up to the public methods, which turn it into an `Inspection`."""

    def __init__(self, state: State, reason: str) -> None:
        super().__init__(reason)
        self.state = state
        self.reason = reason


@dataclass
class _Response:
    headers: Message
    body: bytes


class RegistryClient:
    """Anonymous, read-only access to OCI registries; safe to share between threads."""

    def __init__(self, insecure_registries: Collection[str] = (), timeout: float = DEFAULT_TIMEOUT) -> None:
        self.insecure_registries = frozenset(insecure_registries)  # host[:port] reached over plain HTTP
        self.timeout = timeout
        # (registry, repository) -> anonymous pull token, kept in memory for this run only.
        self._tokens: dict[tuple[str, str], str] = {}
        # base URL -> why it could not be reached: later lookups fail at once instead of waiting again.
        self._down: dict[str, str] = {}
        self._opener = urllib.request.build_opener()

    def digest(self, ref: ImageRef) -> str | None:
        """The digest a tag points to now (`HEAD`), or None when the registry will not say so
        cheaply; `inspect` then finds out, and reports the failure, with a `GET`."""
        try:
            response = self._request(ref, f"manifests/{ref.reference}", "HEAD", ACCEPT)
        except _Failed:
            return None
        return response.headers.get("Docker-Content-Digest")

    def inspect(self, ref: ImageRef) -> Inspection:
        """The manifest's digest, media type and platforms, or why they are unknown."""
        try:
            response = self._request(ref, f"manifests/{ref.reference}", "GET", ACCEPT)
            computed = "sha256:" + hashlib.sha256(response.body).hexdigest()
            digest = ref.digest or response.headers.get("Docker-Content-Digest") or computed
            if digest.startswith("sha256:") and digest != computed:
                raise _Failed("invalid", f"the manifest's bytes do not match its digest {digest}")
            document = _json_object(response.body, "manifest")
            media_type = _media_type(response.headers.get_content_type(), document)
            if media_type in INDEX_TYPES:
                platforms = _index_platforms(document)
            elif media_type in MANIFEST_TYPES:
                platforms = (self._config_platform(ref, document),)
            else:
                raise _Failed("invalid", f"unsupported manifest type {media_type or 'unknown'}")
        except _Failed as failure:
            return Inspection(failure.state, reason=failure.reason)
        return Inspection("ok", digest, media_type, platforms)

    def _config_platform(self, ref: ImageRef, manifest: dict[str, Any]) -> Platform:
        config = manifest.get("config")
        digest = config.get("digest") if isinstance(config, dict) else None
        if not isinstance(digest, str):
            raise _Failed("invalid", "the manifest names no config blob")
        body = self._request(ref, f"blobs/{digest}", "GET", "*/*").body
        document = _json_object(body, "image config")
        os_name, architecture, variant = (document.get(key) for key in ("os", "architecture", "variant"))
        if not isinstance(os_name, str) or not isinstance(architecture, str):
            raise _Failed("invalid", "the config names no os/architecture (not a container image?)")
        return Platform(os_name, architecture, variant if isinstance(variant, str) and variant else None)

    # ------------------------------------------------------------------ HTTP
    def _base(self, registry: str) -> str:
        scheme = "http" if registry in self.insecure_registries else "https"
        return f"{scheme}://{_API_HOSTS.get(registry, registry)}"

    def _request(self, ref: ImageRef, path: str, method: str, accept: str) -> _Response:
        base = self._base(ref.registry)
        if base in self._down:
            raise _Failed("unreachable", self._down[base])
        url = f"{base}/v2/{ref.repository}/{path}"
        key = (ref.registry, ref.repository)
        try:
            try:
                return self._send(url, method, accept, self._tokens.get(key))
            except urllib.error.HTTPError as error:
                challenge = error.headers.get("WWW-Authenticate") if error.code == 401 else None
                if challenge is None:
                    raise
                error.close()
            # A missing or expired token: fetch a fresh one and try exactly once more.
            self._tokens[key] = self._token(challenge, ref)
            return self._send(url, method, accept, self._tokens[key])
        except urllib.error.HTTPError as error:
            raise _Failed(*_http_failure(error, ref)) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            reason = _connection_failure(base, error, self.timeout) + _plain_http_hint(error)
            self._down[base] = reason
            raise _Failed("unreachable", reason) from None

    def _send(self, url: str, method: str, accept: str, token: str | None) -> _Response:
        request = urllib.request.Request(url, method=method, headers={"Accept": accept})
        if token is not None:
            # Unredirected: blob downloads redirect to storage (S3, a CDN) that must not see the
            # token, and S3 refuses a request that carries a second authentication scheme.
            request.add_unredirected_header("Authorization", f"Bearer {token}")
        with self._opener.open(request, timeout=self.timeout) as response:
            return _Response(response.headers, _read_limited(response))

    def _token(self, challenge: str, ref: ImageRef) -> str:
        """An anonymous pull token from the challenge's realm; never logged, never in a reason."""
        scheme, _, params = challenge.partition(" ")
        if scheme.lower() != "bearer":
            raise _Failed("unauthorized", f"{ref.registry} wants {scheme} credentials; fleetmig checks anonymously")
        values = dict(_CHALLENGE_PARAM_RE.findall(params))
        realm = values.pop("realm", "")
        if urllib.parse.urlsplit(realm).scheme not in ("http", "https"):
            raise _Failed("unauthorized", f"{ref.registry} sent a bearer challenge without a usable realm")
        values.setdefault("scope", f"repository:{ref.repository}:pull")
        url = f"{realm}{'&' if '?' in realm else '?'}{urllib.parse.urlencode(values)}"
        try:
            with self._opener.open(urllib.request.Request(url), timeout=self.timeout) as response:
                document = _json_object(_read_limited(response), "token response")
        except urllib.error.HTTPError as error:
            error.close()
            raise _Failed("unauthorized", f"{realm} refused an anonymous token (HTTP {error.code})") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            raise _Failed("unreachable", _connection_failure(realm, error, self.timeout)) from None
        token = document.get("token") or document.get("access_token")
        if not isinstance(token, str) or not token:
            raise _Failed("unauthorized", f"{realm} returned no token")
        return token


def _read_limited(response: Any) -> bytes:
    body: bytes = response.read(MAX_DOCUMENT_BYTES + 1)
    if len(body) > MAX_DOCUMENT_BYTES:
        raise _Failed("invalid", f"the registry sent more than {MAX_DOCUMENT_BYTES} bytes")
    return body


def _json_object(body: bytes, what: str) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError:
        raise _Failed("invalid", f"the {what} is not JSON") from None
    if not isinstance(document, dict):
        raise _Failed("invalid", f"the {what} is not a JSON object")
    return document


def _media_type(content_type: str, document: dict[str, Any]) -> str | None:
    """Content-Type when it names a manifest type (proxies may say application/json), else the
    body's `mediaType`, else the shape: OCI allows both documents to omit `mediaType`."""
    if content_type in INDEX_TYPES | MANIFEST_TYPES:
        return content_type
    declared = document.get("mediaType")
    if isinstance(declared, str):
        return declared
    if isinstance(document.get("manifests"), list):
        return OCI_INDEX
    if isinstance(document.get("config"), dict):
        return OCI_MANIFEST
    return None


def _index_platforms(document: dict[str, Any]) -> tuple[Platform, ...]:
    found: set[Platform] = set()
    entries = document.get("manifests")
    for entry in entries if isinstance(entries, list) else []:
        platform = entry.get("platform") if isinstance(entry, dict) else None
        if not isinstance(platform, dict):
            continue
        os_name, architecture, variant = (platform.get(key) for key in ("os", "architecture", "variant"))
        if not isinstance(os_name, str) or not isinstance(architecture, str):
            continue
        if (os_name, architecture) == ("unknown", "unknown"):  # BuildKit attestation manifests
            continue
        found.add(Platform(os_name, architecture, variant if isinstance(variant, str) and variant else None))
    return tuple(sorted(found, key=str))


def _http_failure(error: urllib.error.HTTPError, ref: ImageRef) -> tuple[State, str]:
    detail = _registry_error(error)
    if error.code in (401, 403):
        return "unauthorized", f"{ref.registry} refused anonymous access (HTTP {error.code}{detail})"
    if error.code == 404:
        return "not-found", f"{ref.repository}:{ref.reference} is not in {ref.registry}{detail}"
    if error.code == 429 or error.code >= 500:
        return "unreachable", f"{ref.registry} answered HTTP {error.code}{detail}"
    return "invalid", f"{ref.registry} answered HTTP {error.code}{detail}"


def _registry_error(error: urllib.error.HTTPError) -> str:
    """`: CODE message` from the distribution spec's error body, when there is one."""
    try:
        document = json.loads(error.read(64 * 1024) or b"{}")
    except (ValueError, OSError, http.client.HTTPException):
        return ""
    finally:
        error.close()
    errors = document.get("errors") if isinstance(document, dict) else None
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    text = " ".join(str(first[key]) for key in ("code", "message") if first.get(key))
    return f": {text}" if text else ""


def _connection_failure(where: str, error: BaseException, timeout: float) -> str:
    reason = _cause(error)
    if isinstance(reason, TimeoutError):
        return f"cannot reach {where}: no answer within {timeout:g}s"
    return f"cannot reach {where}: {reason}"


def _cause(error: BaseException) -> object:
    return error.reason if isinstance(error, urllib.error.URLError) else error


def _plain_http_hint(error: BaseException) -> str:
    # Speaking TLS to a plain-HTTP registry fails in the handshake, not in the certificate check.
    reason = _cause(error)
    if isinstance(reason, ssl.SSLError) and not isinstance(reason, ssl.SSLCertVerificationError):
        return " (a plain-HTTP registry? list it with --insecure-registry HOST:PORT)"
    return ""
