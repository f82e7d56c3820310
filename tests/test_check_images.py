"""`fleetmig check images` against a real registry: Debian's docker-registry on loopback, images
built as OCI layouts on disk (no docker daemon) and pushed with skopeo, as gitops-facts §6 did."""

from __future__ import annotations

import base64
import datetime
import gzip
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from fleetmig.images.cache import PlatformCache, inspect
from fleetmig.images.refs import ImageRef, parse_ref
from fleetmig.images.registry import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    Inspection,
    Platform,
    RegistryClient,
)

from .fleets import write_fleet
from .helm_render import helm

DOCKER_REGISTRY = shutil.which("docker-registry")
SKOPEO = shutil.which("skopeo")
pytestmark = pytest.mark.skipif(
    DOCKER_REGISTRY is None or SKOPEO is None, reason="needs docker-registry and skopeo: run .ci/system-deps"
)

OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
REF_NAME = "org.opencontainers.image.ref.name"
AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64", "v8")


# ---------------------------------------------------------------------------- a registry and images


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve_registry(root: Path, storage: Path, auth: str = "") -> Iterator[str]:
    """host:port of a docker-registry on loopback (plain HTTP) until the block ends."""
    assert DOCKER_REGISTRY is not None
    host = f"127.0.0.1:{free_port()}"
    config = root / "config.yml"
    # Debian's /etc/docker/registry/config.yml listens on :5000 with htpasswd auth: use our own.
    config.write_text(
        f"version: 0.1\nlog: {{level: warn}}\n"
        f"storage: {{filesystem: {{rootdirectory: {storage}}}}}\n"
        f"http: {{addr: '{host}'}}\n{auth}"
    )
    with (root / "registry.log").open("wb") as log:
        process = subprocess.Popen([DOCKER_REGISTRY, "serve", str(config)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                urllib.request.urlopen(f"http://{host}/v2/", timeout=1).close()
                break
            except urllib.error.HTTPError:  # 401 from a registry that wants a token: it is up
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"docker-registry did not start: {(root / 'registry.log').read_text()}")
                time.sleep(0.05)
        yield host
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def storage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("registry-storage")


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory, storage: Path) -> Iterator[str]:
    """host:port of a docker-registry without auth."""
    with serve_registry(tmp_path_factory.mktemp("registry"), storage) as host:
        yield host


def _blob(layout: Path, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    path = layout / "blobs" / "sha256" / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return f"sha256:{digest}"


def _descriptor(layout: Path, media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": _blob(layout, data), "size": len(data), **extra}


def _image(layout: Path, os_name: str, architecture: str, **extra: Any) -> dict[str, Any]:
    """One single-platform image (a one-file layer, its config, its manifest) -> its descriptor."""
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as archive:
        content = f"built for {os_name}/{architecture}\n".encode()
        member = tarfile.TarInfo("platform.txt")
        member.size = len(content)
        archive.addfile(member, io.BytesIO(content))
    layer = gzip.compress(tar.getvalue(), mtime=0)
    config = {
        "os": os_name,
        "architecture": architecture,
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar.getvalue()).hexdigest()]},
        "config": {},
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": _descriptor(layout, OCI_CONFIG, json.dumps(config).encode()),
        "layers": [_descriptor(layout, OCI_LAYER, layer)],
    }
    return _descriptor(layout, OCI_MANIFEST, json.dumps(manifest).encode(), **extra)


def write_layout(layout: Path) -> None:
    """An OCI image layout with two tags: `multi` (an index: linux/amd64, linux/arm64/v8 and a
    BuildKit-style unknown/unknown attestation entry) and `single` (one linux/amd64 manifest)."""
    layout.mkdir(parents=True)
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    amd64 = _image(layout, "linux", "amd64", platform={"os": "linux", "architecture": "amd64"})
    arm64 = _image(layout, "linux", "arm64", platform={"os": "linux", "architecture": "arm64", "variant": "v8"})
    attestation = _image(
        layout,
        "unknown",
        "unknown",
        platform={"os": "unknown", "architecture": "unknown"},
        annotations={
            "vnd.docker.reference.type": "attestation-manifest",
            "vnd.docker.reference.digest": amd64["digest"],
        },
    )
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [amd64, arm64, attestation]}
    tags = [
        _descriptor(layout, OCI_INDEX, json.dumps(index).encode(), annotations={REF_NAME: "multi"}),
        _image(layout, "linux", "amd64", annotations={REF_NAME: "single"}),
    ]
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": tags}))


@dataclass(frozen=True)
class Pushed:
    tag: str
    media_type: str
    platforms: tuple[Platform, ...]
    digest: str  # sha256 of the manifest bytes the registry serves


# tag in the registry -> (tag in the layout, skopeo's --format, what the registry then serves)
PUSHES = {
    "oci-index": ("multi", None, OCI_INDEX, (AMD64, ARM64)),
    "docker-list": ("multi", "v2s2", DOCKER_LIST, (AMD64, ARM64)),
    "oci-single": ("single", None, OCI_MANIFEST, (AMD64,)),
    "docker-single": ("single", "v2s2", DOCKER_MANIFEST, (AMD64,)),
}
REPOSITORY = "fleet/app"


@pytest.fixture(scope="session")
def pushed(registry: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Pushed]:
    assert SKOPEO is not None
    layout = tmp_path_factory.mktemp("oci") / "layout"
    write_layout(layout)
    out = {}
    for tag, (source, form, media_type, platforms) in PUSHES.items():
        destination = f"docker://{registry}/{REPOSITORY}:{tag}"
        # --insecure-policy: a stricter /etc/containers/policy.json on the machine must not matter here.
        command = [SKOPEO, "--insecure-policy", "copy", "--all", "--dest-tls-verify=false"]
        command += ["--format", form] if form else []
        subprocess.run([*command, f"oci:{layout}:{source}", destination], check=True, capture_output=True)
        raw = subprocess.run(
            [SKOPEO, "inspect", "--raw", "--tls-verify=false", destination], check=True, capture_output=True
        ).stdout
        stored = json.loads(raw)
        assert stored["mediaType"] == media_type  # what skopeo stored, seen by skopeo
        if "manifests" in stored:  # the attestation entry survived, so the client must skip it
            assert {"os": "unknown", "architecture": "unknown"} in [m["platform"] for m in stored["manifests"]]
        out[tag] = Pushed(tag, media_type, platforms, "sha256:" + hashlib.sha256(raw).hexdigest())
    return out


def ref(registry: str, tag: str | None = None, digest: str | None = None) -> ImageRef:
    return ImageRef(registry, REPOSITORY, tag, digest)


# ---------------------------------------------------------------------------- the registry client


@pytest.mark.parametrize("tag", list(PUSHES))
@pytest.mark.parametrize("by", ["tag", "digest"])
def test_client_classifies_index_list_and_single_manifests(
    registry: str, pushed: dict[str, Pushed], tag: str, by: str
) -> None:
    image = pushed[tag]
    target = ref(registry, tag=tag) if by == "tag" else ref(registry, digest=image.digest)
    answer = RegistryClient(insecure_registries={registry}).inspect(target)
    assert answer.state == "ok", answer.reason
    assert answer.media_type == image.media_type
    assert answer.digest == image.digest
    # unknown/unknown (the attestation entry) is not a platform.
    assert answer.platforms == image.platforms
    assert answer.is_index == (image.media_type in (OCI_INDEX, DOCKER_LIST))


def test_missing_image_and_plain_http_registry_become_states_with_reasons(registry: str) -> None:
    client = RegistryClient(insecure_registries={registry})
    missing = client.inspect(ref(registry, tag="no-such-tag"))
    assert (missing.state, missing.reason) == (
        "not-found",
        f"{REPOSITORY}:no-such-tag is not in {registry}: MANIFEST_UNKNOWN manifest unknown",
    )
    over_tls = RegistryClient().inspect(ref(registry, tag="oci-index"))
    assert over_tls.state == "unreachable"
    assert over_tls.reason is not None and "--insecure-registry" in over_tls.reason


def test_pinned_reference_is_answered_from_the_cache_without_network(
    registry: str, pushed: dict[str, Pushed], tmp_path: Path
) -> None:
    path = tmp_path / "cache" / "images.json"
    image = pushed["oci-single"]
    live = RegistryClient(insecure_registries={registry})
    cache = PlatformCache(path)
    first = inspect(ref(registry, tag="oci-single"), live, cache)
    assert first.state == "ok" and not first.cached
    cache.save()
    stored = json.loads(path.read_text())
    assert stored["digests"] == {image.digest: {"mediaType": OCI_MANIFEST, "platforms": ["linux/amd64"]}}

    # The same content, pinned, on a port nothing listens on: only the cache can answer.
    closed = f"127.0.0.1:{free_port()}"
    offline = RegistryClient(insecure_registries={closed}, timeout=2)
    pinned = inspect(parse_ref(f"{closed}/{REPOSITORY}@{image.digest}"), offline, PlatformCache(path))
    assert pinned == Inspection("ok", image.digest, OCI_MANIFEST, (AMD64,), cached=True)
    # A tag must be resolved, so the closed port is an honest "unknown".
    by_tag = inspect(parse_ref(f"{closed}/{REPOSITORY}:oci-single"), offline, PlatformCache(path))
    assert by_tag.state == "unreachable" and by_tag.reason is not None and "Connection refused" in by_tag.reason
    # On the live registry the tag is resolved (HEAD) and the digest's answer reused.
    again = inspect(ref(registry, tag="oci-single"), live, PlatformCache(path))
    assert again.cached and again.digest == image.digest


# ---------------------------------------------------------------------------- anonymous bearer tokens


@dataclass
class TokenService:
    realm: str
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (scope, Authorization sent)
    issued: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def token_registry(
    tmp_path_factory: pytest.TempPathFactory, storage: Path, pushed: dict[str, Pushed]
) -> Iterator[tuple[str, TokenService]]:
    """The pushed images behind docker-registry's token auth, and a token service that gives anyone a
    pull token for fleet/app and refuses every other scope: what a public registry does."""
    pytest.importorskip("cryptography", reason="signing registry tokens needs the cryptography package")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.x509.oid import NameOID

    root = tmp_path_factory.mktemp("token-registry")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fleetmig test token issuer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (root / "issuer.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    chain = [base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()]

    def jwt(claims: dict[str, Any]) -> str:
        # distribution's token auth: RS256, the signing certificate in x5c, checked against rootcertbundle.
        def part(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        header = {"typ": "JWT", "alg": "RS256", "x5c": chain}
        signed = f"{part(json.dumps(header).encode())}.{part(json.dumps(claims).encode())}"
        return f"{signed}.{part(key.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256()))}"

    service = TokenService(realm="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            scope = query.get("scope", [""])[0]
            service.requests.append((scope, self.headers.get("Authorization")))
            if scope != f"repository:{REPOSITORY}:pull":
                self.send_error(401)
                return
            issued = int(time.time())
            token = jwt(
                {
                    "iss": "fleetmig-test",
                    "sub": "",
                    "aud": query["service"][0],
                    "iat": issued,
                    "nbf": issued - 10,
                    "exp": issued + 300,
                    "jti": str(len(service.issued)),
                    "access": [{"type": "repository", "name": REPOSITORY, "actions": ["pull"]}],
                }
            )
            service.issued.append(token)
            body = json.dumps({"token": token}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.realm = f"http://127.0.0.1:{server.server_address[1]}/token"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    auth = (
        "auth:\n  token:\n"
        f"    realm: {service.realm}\n    service: fleetmig-test-registry\n    issuer: fleetmig-test\n"
        f"    rootcertbundle: {root / 'issuer.pem'}\n"
    )
    try:
        with serve_registry(root, storage, auth) as host:
            yield host, service
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_anonymous_bearer_token_flow(token_registry: tuple[str, TokenService], pushed: dict[str, Pushed]) -> None:
    host, service = token_registry
    client = RegistryClient(insecure_registries={host})
    # The single manifest needs the token twice: for the manifest and for its config blob.
    single = client.inspect(ref(host, tag="oci-single"))
    assert (single.state, single.platforms) == ("ok", (AMD64,)), single.reason
    listed = client.inspect(ref(host, tag="docker-list"))
    assert (listed.state, listed.platforms) == ("ok", (AMD64, ARM64)), listed.reason
    # One token, asked for anonymously, reused for every later request on the repository.
    assert service.requests == [(f"repository:{REPOSITORY}:pull", None)]

    denied = client.inspect(ImageRef(host, "private/app", "1.0", None))
    assert denied.state == "unauthorized"
    assert denied.reason == f"{service.realm} refused an anonymous token (HTTP 401)"
    assert all(token not in str(answer) for token in service.issued for answer in (single, listed, denied))


# ---------------------------------------------------------------------------- the command, end to end

POLICY = """\
version: 1
clusterTypes:
  local:
    cluster: {name: k3d-ameide, arch: arm64}
    images: {requireMultiArch: true}
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      initContainers:
        - {name: init, image: {{ .Values.init | quote }}}
      containers:
      {{- range $i, $image := .Values.images }}
        - {name: c{{ $i }}, image: {{ $image | quote }}}
      {{- end }}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: x-nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - {name: job, image: {{ .Values.job | quote }}}
"""


def write_images_fleet(root: Path, init: str, images: list[str], job: str) -> Path:
    values = {"init": init, "images": images, "job": job}
    return write_fleet(
        root,
        {
            "fleetmig.yaml": POLICY,
            "config/clusters/local.yaml": "- {cluster: k3d-ameide, clusterType: local, env: local, namespace: x}\n",
            "environments/_shared/components/apps/x/component.yaml": (
                "name: apps-x\ndomain: apps\nchart: {path: sources/charts/apps/x}\n"
            ),
            "sources/charts/apps/x/Chart.yaml": "apiVersion: v2\nname: x\nversion: 0.1.0\n",
            "sources/charts/apps/x/values.yaml": json.dumps(values) + "\n",
            "sources/charts/apps/x/templates/workloads.yaml": DEPLOYMENT,
        },
    )


def fleetmig(*args: str | Path, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "XDG_CACHE_HOME": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "fleetmig", *map(str, args)], capture_output=True, text=True, env=env, check=False
    )


def test_check_images_flags_exactly_the_single_arch_image(
    registry: str, pushed: dict[str, Pushed], tmp_path: Path
) -> None:
    helm()
    index, docker_list, single = (
        f"{registry}/{REPOSITORY}:{tag}" for tag in ("oci-index", "docker-list", "oci-single")
    )
    pinned = f"{registry}/{REPOSITORY}@{pushed['oci-index'].digest}"
    fleet = write_images_fleet(tmp_path / "fleet", init=single, images=[index, docker_list], job=pinned)
    args = ("check", "images", "--repo", fleet, "--cluster-type", "local", "--insecure-registry", registry)

    result = fleetmig(*args, "--format", "json", cache=tmp_path / "cache")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    verdicts = {image["image"]: image["verdict"] for image in report["images"]}
    assert verdicts == {index: "multi-arch", docker_list: "multi-arch", pinned: "multi-arch", single: "single-arch"}
    flagged = next(image for image in report["images"] if image["image"] == single)
    assert flagged["platforms"] == ["linux/amd64"] and flagged["mediaType"] == OCI_MANIFEST
    assert flagged["usedBy"] == [{"release": "apps-x@local", "clusterType": "local"}]
    assert report["clusterTypes"] == [{"name": "local", "requireMultiArch": True}] and not report["ok"]
    assert result.stderr.strip() == (
        f"not verified multi-arch: {single}: single-arch: "
        "a single-platform manifest (linux/amd64), not an index or manifest list"
    )

    write_images_fleet(tmp_path / "fleet", init=index, images=[docker_list], job=pinned)
    table = fleetmig(*args, cache=tmp_path / "cache")
    assert table.returncode == 0, table.stdout + table.stderr
    assert "3 images checked, 0 not verified multi-arch" in table.stdout


def test_unreachable_registry_and_unknown_cluster_type(tmp_path: Path) -> None:
    helm()
    closed = f"127.0.0.1:{free_port()}"
    image = f"{closed}/{REPOSITORY}:oci-index"
    fleet = write_images_fleet(tmp_path / "fleet", init=image, images=[image], job=image)
    base = ("check", "images", "--repo", fleet, "--insecure-registry", closed)

    result = fleetmig(*base, "--format", "markdown", cache=tmp_path / "cache")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"| `{image}` | unknown |  | apps-x@local | unreachable: cannot reach http://{closed}: " in result.stdout
    assert f"not verified multi-arch: {image}: unknown: unreachable:" in result.stderr

    unknown = fleetmig(*base, "--cluster-type", "azure", cache=tmp_path / "cache")
    assert unknown.returncode == 2
    assert "unknown cluster type `azure`; the fleet has local" in unknown.stderr
    scheme = fleetmig("check", "images", "--repo", fleet, "--insecure-registry", f"http://{closed}", cache=tmp_path)
    assert scheme.returncode == 2
    assert f"--insecure-registry: 'http://{closed}' is not HOST or HOST:PORT" in scheme.stderr
