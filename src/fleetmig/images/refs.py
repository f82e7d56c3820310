"""Container image references as Kubernetes and the Docker/containerd clients read them.

`nginx`, `library/nginx:1.27`, `ghcr.io/org/app@sha256:…`, `localhost:5000/app:dev@sha256:…` all name
an image; the registry is implied when the first path component cannot be a host (Docker Hub), and
Docker Hub's single-component names live under `library/`. `parse_ref` applies those defaults so that
two spellings of one image compare equal, and `str()` gives the fully qualified form back
(`parse_ref(str(ref)) == ref`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DOCKER_HUB = "docker.io"
DEFAULT_TAG = "latest"

# The grammar of github.com/distribution/reference (reference.go), which Kubernetes also uses.
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_RE = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?",
)
_PATH_COMPONENT_RE = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG_RE = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
# Docker Hub's legacy host names; the API itself is served from registry-1.docker.io.
_DOCKER_HUB_ALIASES = frozenset({DOCKER_HUB, "index.docker.io", "registry-1.docker.io"})


class InvalidReference(ValueError):
    """Not an image reference (a typo, an unrendered template, an empty string)."""


@dataclass(frozen=True, order=True)
class ImageRef:
    """A fully qualified image reference: a tag, a digest, or both (the digest is what is pulled)."""

    registry: str  # host[:port], e.g. "docker.io", "ghcr.io", "127.0.0.1:5000"
    repository: str  # e.g. "library/nginx", "org/app"
    tag: str | None
    digest: str | None  # "sha256:<hex>"

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    @property
    def pinned(self) -> bool:
        """Whether the reference names content (a digest) rather than a movable tag."""
        return self.digest is not None

    @property
    def reference(self) -> str:
        """What `/v2/<repository>/manifests/<reference>` takes: the digest when there is one."""
        return self.digest if self.digest is not None else self.tag or DEFAULT_TAG


def parse_ref(text: str) -> ImageRef:
    """The reference `text` names, with Docker's defaults applied; `InvalidReference` otherwise."""
    remainder, at, digest = text.strip().partition("@")
    if at and not _DIGEST_RE.fullmatch(digest):
        raise InvalidReference(f"{text!r} is not an image reference: {digest!r} is not a digest (algorithm:hex)")
    # A colon after the last slash starts the tag; one before it belongs to a registry port.
    name, tag = remainder, None
    colon = remainder.rfind(":")
    if colon > remainder.rfind("/"):
        name, tag = remainder[:colon], remainder[colon + 1 :]
        if not _TAG_RE.fullmatch(tag):
            raise InvalidReference(f"{text!r} is not an image reference: {tag!r} is not a valid tag")
    registry, repository = _split_registry(name)
    if not _DOMAIN_RE.fullmatch(registry):
        raise InvalidReference(f"{text!r} is not an image reference: {registry!r} is not a registry host")
    components = repository.split("/")
    if not all(_PATH_COMPONENT_RE.fullmatch(part) for part in components):
        raise InvalidReference(
            f"{text!r} is not an image reference: {repository!r} is not a repository name (lowercase, [a-z0-9._-], /)"
        )
    if registry in _DOCKER_HUB_ALIASES:
        registry = DOCKER_HUB
        if len(components) == 1:
            repository = f"library/{repository}"
    if tag is None and not at:
        tag = DEFAULT_TAG
    return ImageRef(registry, repository, tag, digest if at else None)


def parse_registry(text: str) -> str:
    """A registry host as `--insecure-registry` takes it: `host[:port]`, nothing else."""
    if not _DOMAIN_RE.fullmatch(text):
        raise InvalidReference(f"{text!r} is not HOST or HOST:PORT")
    return text


def _split_registry(name: str) -> tuple[str, str]:
    """(registry, repository): the first component is a host only if it looks like one (Docker's rule)."""
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        return first, rest
    return DOCKER_HUB, name
