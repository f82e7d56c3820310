"""Go's `text/template` with Argo CD's ApplicationSet function set, called from Python.

Argo CD renders every string field of an ApplicationSet template with Go's `text/template`, sprig's
generic functions (minus `env`, `expandenv`, `getHostByName`) plus `normalize`, `toYaml`,
`fromYaml`, `fromYamlArray`, and the `goTemplateOptions`. Re-implementing those semantics in
Python would drift (missing-key handling, `range` over nil, float64 numbers, sprig's quirks), so
`main.go` is the real engine: built once from Debian's Go packages into a per-user cache, then fed
a whole batch of jobs as one JSON document per process.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from fleetmig.errors import FleetmigError

__all__ = ["YAML_ERROR", "GoTemplateEngine", "GoTemplateEngineUnavailable", "Job", "Result", "binary"]

_SOURCE = Path(__file__).resolve().parent / "main.go"
_DEFAULT_GOPATH = "/usr/share/gocode"
# Debian installs sprig v3 without the /v3 suffix, and yaml.v2 comes with it (sprig -> mergo).
# These are the packages main.go imports; their sources are part of the cache key.
_IMPORTED_PACKAGES = ("github.com/Masterminds/sprig", "gopkg.in/yaml.v2")
_INSTALL_HINT = (
    "fleetmig verify renders ApplicationSet templates with Go's text/template and sprig, as Argo CD "
    "does: install them with `apt-get install golang-go golang-github-masterminds-sprig-dev "
    "golang-gopkg-yaml.v2-dev`"
)


class GoTemplateEngineUnavailable(FleetmigError):
    """Go or the Go packages the template engine is built from are missing, or the build failed."""


class Job(NamedTuple):
    """One template to render. `data` must be JSON-serialisable; its numbers reach Go as float64,
    as Argo CD's generator parameters do. `options` are `goTemplateOptions` (`missingkey=error`).
    With `yaml`, the output is read as YAML the way Argo CD reads a rendered templatePatch and comes
    back as `value` (Go's YAML reader is Argo CD's, and much faster than parsing in Python). A
    tuple, as `Result` is."""

    template: str
    data: Any
    options: tuple[str, ...] = ()
    yaml: bool = False


class Result(NamedTuple):
    """`output` (the rendered text), or for a `yaml` job `value` (the output read as YAML), or
    `error` (Go's message, verbatim; `YAML_ERROR` starts it when the output is not YAML). A tuple:
    a batch answers tens of thousands of jobs, and a frozen dataclass costs several times as much to make."""

    output: str | None
    error: str | None
    value: Any = None


YAML_ERROR = "error converting YAML to JSON"


class GoTemplateEngine:
    """Renders batches of templates in one process of the Go engine (built on first use)."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self._cache_dir = cache_dir
        self._binary: Path | None = None

    def render(self, template: str, data: Any, options: Sequence[str] = ()) -> Result:
        (result,) = self.render_many([Job(template, data, tuple(options))])
        return result

    def render_many(self, jobs: Sequence[Job]) -> list[Result]:
        """Render every job in one subprocess; results come back in job order.

        A template that fails to parse or execute (including a template function that panics)
        gives that job an `error` and does not affect the others. Anything else going wrong with
        the engine process is a fleetmig bug and raises `RuntimeError`.
        """
        if not jobs:
            return []
        if self._binary is None:
            self._binary = binary(self._cache_dir)
        # Each distinct template and each data object (by identity: a parameter set's jobs share
        # one) is sent once and named by index.
        templates: dict[str, int] = {}
        data: dict[int, tuple[int, Any]] = {}
        encoded = []
        for j in jobs:
            template = templates.setdefault(j.template, len(templates))
            datum = data.setdefault(id(j.data), (len(data), j.data))[0]
            encoded.append({"template": template, "data": datum, "options": list(j.options), "yaml": j.yaml})
        request = {"templates": list(templates), "data": [datum for _, datum in data.values()], "jobs": encoded}
        # allow_nan=False: NaN and Infinity are not JSON and Go's decoder would reject the batch.
        payload = json.dumps(request, allow_nan=False)
        # Every codemod and every pass expands the same ApplicationSets: the same batch is the same
        # answer, unless a template asks for time or randomness.
        volatile = any(_VOLATILE.search(template) for template in templates)
        key = None if volatile else hashlib.sha256(payload.encode()).hexdigest()
        answer = _ANSWERS.get(key) if key is not None else None
        if answer is None:
            answer = self._run(payload)
            if key is not None:
                _ANSWERS[key] = answer
                while len(_ANSWERS) > 16:
                    del _ANSWERS[next(iter(_ANSWERS))]
        return _parse_results(answer, len(jobs), self._binary)

    def _run(self, payload: str) -> str:
        assert self._binary is not None
        process = subprocess.run(
            [str(self._binary)], input=payload, capture_output=True, text=True, encoding="utf-8", check=False
        )
        if process.returncode != 0:
            raise RuntimeError(
                f"the Go template engine {self._binary} exited with status {process.returncode}: "
                f"{process.stderr.strip()}"
            )
        return process.stdout


# Kept as the engine's answer text, parsed again on each hit: a few times smaller than the parsed
# results of a batch of thousands of jobs, and every caller gets results of its own.
_ANSWERS: dict[str, str] = {}
_VOLATILE = re.compile(r"\b(?:rand\w*|uuid\w*|now|date\w*|unixEpoch)\b")


def _parse_results(stdout: str, expected: int, engine: Path) -> list[Result]:
    problem = f"the Go template engine {engine} answered with an unexpected document"
    try:
        document = json.loads(stdout)
    except json.JSONDecodeError as error:
        raise RuntimeError(f"{problem} ({error}): {stdout[:200]!r}") from error
    results = document.get("results") if isinstance(document, dict) else None
    if not isinstance(results, list) or len(results) != expected:
        raise RuntimeError(f"{problem}: expected {expected} results: {stdout[:200]!r}")
    parsed: list[Result] = []
    for item in results:
        text = item.get("output", item.get("error", "")) if isinstance(item, dict) else None
        if not isinstance(item, dict) or len(item) != 1 or not isinstance(text, str):
            raise RuntimeError(f"{problem}: {item!r}")
        parsed.append(Result(item.get("output"), item.get("error"), item.get("value")))
    return parsed


def binary(cache_dir: Path | None = None) -> Path:
    """The engine's executable, built from `main.go` on first use and reused afterwards.

    The file name holds a hash of `main.go`, `go version` and the imported packages' sources, so
    a new fleetmig, Go or sprig gets a new build. `cache_dir` defaults to
    `$XDG_CACHE_HOME/fleetmig` (`~/.cache/fleetmig`); the Go build cache lives there too.
    """
    go = shutil.which("go")
    gopath = Path(os.environ.get("FLEETMIG_GOPATH") or _DEFAULT_GOPATH)
    missing = [name for name in _IMPORTED_PACKAGES if not (gopath / "src" / name).is_dir()]
    if go is None or missing:
        lacking = "`go` is not on PATH" if go is None else f"{', '.join(missing)} not found under {gopath}/src"
        raise GoTemplateEngineUnavailable(f"{_INSTALL_HINT} ({lacking})")
    cache = cache_dir or _default_cache_dir()
    env = _build_env(gopath, cache)
    version = subprocess.run([go, "version"], env=env, capture_output=True, text=True, check=False)
    if version.returncode != 0:
        raise GoTemplateEngineUnavailable(f"`{go} version` failed: {version.stderr.strip()}")
    target = cache / f"gotemplate-engine-{_cache_key(version.stdout, gopath)}"
    if target.is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    # Build beside the target and rename: a concurrent run sees either no binary or a whole one,
    # and two concurrent builds both produce a valid file, whichever rename comes last.
    with tempfile.TemporaryDirectory(dir=cache, prefix=".build-") as staging:
        built = Path(staging) / "gotemplate-engine"
        build = subprocess.run(
            [go, "build", "-o", str(built), str(_SOURCE)],
            cwd=staging,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if build.returncode != 0:
            raise GoTemplateEngineUnavailable(
                f"could not build fleetmig's Go template engine from {_SOURCE}:\n{build.stderr.strip()}"
            )
        os.replace(built, target)
    return target


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fleetmig"


def _build_env(gopath: Path, cache: Path) -> dict[str, str]:
    """Offline, GOPATH-mode build from Debian's packages, whatever the user's Go settings are."""
    env = {key: value for key, value in os.environ.items() if key not in ("GOOS", "GOARCH")}
    env.update(
        # Debian ships Go libraries as GOPATH sources, not as a module cache.
        GO111MODULE="off",
        GOPATH=str(gopath),
        GOCACHE=str(cache / "go-build"),
        # Never touch the network: no module proxy, no toolchain download (Go >= 1.21), and no
        # flags or settings from the user's `go env -w` file (e.g. -mod=vendor) that GOPATH mode
        # rejects.
        GOPROXY="off",
        GOTOOLCHAIN="local",
        GOFLAGS="",
        GOENV="off",
        # Pure Go (net's resolver included): no C compiler needed, and a static binary.
        CGO_ENABLED="0",
    )
    return env


def _cache_key(go_version: str, gopath: Path) -> str:
    digest = hashlib.sha256(_SOURCE.read_bytes())
    digest.update(go_version.encode())
    for name in _IMPORTED_PACKAGES:
        for source in sorted((gopath / "src" / name).glob("*.go")):
            stat = source.stat()
            digest.update(f"{source}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:16]
