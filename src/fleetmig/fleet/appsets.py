"""ApplicationSets as Argo CD sees them, and the parameter sets their generators produce.

Per cluster type, the ApplicationSets are what `kubectl kustomize <overlays>/<clusterType>` builds
(the overlay Argo CD is bootstrapped with), or the files under `layout.applicationSets` when the
fleet has no overlay for that type. Generators follow Argo CD's ApplicationSet controller
(gitops-facts §1.1-1.3): the git files generator (greedy default globbing, excludes, one parameter
set per file or per list element, the `path` object), the list generator, and the matrix generator
(the first generator's parameters win, merged deeply in goTemplate mode). Every parameter set
remembers the files it came from, so a template error can name the descriptor that caused it.
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import posixpath
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fleetmig.errors import FleetmigError, InputError
from fleetmig.fleet.model import Fleet
from fleetmig.fleet.values import SAFE_LOADER, plain_copy

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


@dataclass(frozen=True)
class AppSet:
    name: str
    source: str  # the file it was read from, or the overlay it was built from
    data: dict[str, Any]

    @property
    def go_template(self) -> bool:
        return bool(self.data.get("spec", {}).get("goTemplate"))

    @property
    def options(self) -> tuple[str, ...]:
        return tuple(str(o) for o in self.data.get("spec", {}).get("goTemplateOptions") or ())


@dataclass
class ParamSet:
    params: dict[str, Any]
    sources: list[str] = field(default_factory=list)  # files (file#index for list entries) it came from


class GeneratorError(InputError):
    """A generator Argo CD would refuse (or that fleetmig cannot expand offline)."""


def appsets_for(fleet: Fleet, cluster_type: str) -> list[AppSet]:
    layout = fleet.policy.layout
    overlay = f"{layout.overlays.rstrip('/')}/{cluster_type}"
    if any(fleet.exists(f"{overlay}/{name}") for name in KUSTOMIZATION_FILES):
        return _from_documents(_kustomize(fleet, overlay), overlay)
    files = defining_files(fleet)
    return [
        s for rel in dict.fromkeys(files.values()) for s in _from_documents(_load_all(fleet.read_bytes(rel), rel), rel)
    ]


def defining_files(fleet: Fleet) -> dict[str, str]:
    """ApplicationSet name → the file under `layout.applicationSets` that defines it."""
    out: dict[str, str] = {}
    for rel in fleet.files.glob(f"{fleet.policy.layout.application_sets.rstrip('/')}/*"):
        if rel.endswith((".yaml", ".yml")) and fleet.exists(rel):
            for appset in _from_documents(_load_all(fleet.read_bytes(rel), rel), rel):
                out.setdefault(appset.name, rel)
    return out


def _kustomize(fleet: Fleet, overlay: str) -> list[Any]:
    """Build the overlay from the fleet's files as this run sees them (pending changes included):
    the folder holding the overlays and the ApplicationSets is copied to a scratch directory first."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise FleetmigError(
            f"{overlay} is a kustomize overlay and building it needs `kubectl` (kustomize v5 is built in); "
            "install kubectl or remove the overlay from the layout"
        )
    layout = fleet.policy.layout
    tree = posixpath.commonpath([layout.overlays.rstrip("/"), layout.application_sets.rstrip("/")])
    prefix = f"{tree}/" if tree else ""
    inputs = {rel: fleet.read_bytes(rel) for rel in fleet.files.glob(f"{prefix}**") if fleet.exists(rel)}
    digest = hashlib.blake2b(overlay.encode(), digest_size=20)
    for rel, data in sorted(inputs.items()):
        digest.update(rel.encode() + b"\0" + data + b"\0")
    key = digest.hexdigest()
    if key not in _BUILDS:  # every codemod and every cluster type asks again for the same inputs
        for rel, data in inputs.items():  # kustomize would name only the file's base name
            if rel.endswith((".yaml", ".yml")):
                _load_all(data, rel)
        _BUILDS[key] = _build(kubectl, overlay, inputs)
    return copy.deepcopy(_BUILDS[key])


_BUILDS: dict[str, list[Any]] = {}


def _build(kubectl: str, overlay: str, inputs: dict[str, bytes]) -> list[Any]:
    with tempfile.TemporaryDirectory(prefix="fleetmig-kustomize-") as scratch:
        for rel, data in inputs.items():
            target = Path(scratch, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        result = subprocess.run(
            [kubectl, "kustomize", str(Path(scratch, overlay))], capture_output=True, text=True, check=False
        )
    if result.returncode != 0:
        message = result.stderr.strip().replace(scratch, ".")
        raise InputError(f"kustomize cannot build the overlay: {message}", overlay)
    return _load_all(result.stdout.encode(), overlay)


def _load_all(text: bytes, rel: str) -> list[Any]:
    try:
        return [doc for doc in yaml.load_all(text, Loader=SAFE_LOADER) if doc is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise InputError(f"invalid YAML: {exc.problem}", rel, mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", rel) from None


def _from_documents(docs: list[Any], source: str) -> list[AppSet]:
    return [
        AppSet(str(doc.get("metadata", {}).get("name", "?")), source, doc)
        for doc in docs
        if isinstance(doc, dict) and doc.get("kind") == "ApplicationSet"
    ]


def param_sets(fleet: Fleet, appset: AppSet) -> list[ParamSet]:
    """Every parameter set the ApplicationSet's generators produce, in Argo CD's order."""
    generators = appset.data.get("spec", {}).get("generators") or []
    out: list[ParamSet] = []
    for generator in generators:
        out += _generate(fleet, appset, generator)
    return out


def _generate(fleet: Fleet, appset: AppSet, generator: Any) -> list[ParamSet]:
    if not isinstance(generator, dict) or len(generator) != 1:
        raise GeneratorError(f"ApplicationSet `{appset.name}`: a generator must have exactly one kind", appset.source)
    ((kind, body),) = generator.items()
    if kind == "list":
        elements = body.get("elements") or []
        return [
            ParamSet(_params(element, appset.go_template), [f"{appset.source}#list[{i}]"])
            for i, element in enumerate(elements)
        ]
    if kind == "git":
        return _git_files(fleet, appset, body)
    if kind == "matrix":
        children = body.get("generators") or []
        if len(children) != 2:
            raise GeneratorError(
                f"ApplicationSet `{appset.name}`: a matrix generator needs exactly two generators", appset.source
            )
        first, second = (_generate(fleet, appset, child) for child in children)
        return [_combine(a, b, appset) for a in first for b in second]
    raise GeneratorError(
        f"ApplicationSet `{appset.name}`: the `{kind}` generator needs a live cluster or SCM; "
        "fleetmig expands list, git files and matrix generators offline",
        appset.source,
    )


def _git_files(fleet: Fleet, appset: AppSet, body: dict[str, Any]) -> list[ParamSet]:
    if body.get("directories"):
        raise GeneratorError(
            f"ApplicationSet `{appset.name}`: git directories generators are not expanded offline yet", appset.source
        )
    entries = body.get("files") or []
    include = [str(e["path"]) for e in entries if isinstance(e, dict) and not e.get("exclude")]
    exclude = [str(e["path"]) for e in entries if isinstance(e, dict) and e.get("exclude")]
    files = fleet.files.files()
    # Argo CD's default globbing is git's pathspec: `*` crosses `/` (gitops-facts §1.2), as in fnmatch.
    included, excluded = _any_of(include), _any_of(exclude)
    matched = sorted({rel for rel in files if included.match(rel) and not excluded.match(rel)})
    out: list[ParamSet] = []
    for rel in matched:
        link = fleet.files.link_target(rel)
        if not fleet.exists(rel):
            raise GeneratorError(
                f"ApplicationSet `{appset.name}` reads a broken symlink (-> {link}); Argo CD fails the whole set",
                rel,
            )
        data = fleet.values(rel)
        items = data if isinstance(data, list) else [data if data is not None else {}]
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise GeneratorError("a git files generator entry must be a mapping", rel)
            where = rel if not isinstance(data, list) else f"{rel}#{index}"
            out.append(ParamSet(_with_path(item, rel, appset.go_template, body), [where]))
    return out


def _any_of(patterns: list[str]) -> re.Pattern[str]:
    """One regex for fnmatch patterns (never matching when there are none)."""
    return re.compile("|".join(fnmatch.translate(p.lstrip("/")) for p in patterns) or r"(?!)")


def _with_path(item: dict[str, Any], rel: str, go_template: bool, body: dict[str, Any]) -> dict[str, Any]:
    directory = posixpath.dirname(rel) or "."
    path = {
        "path": directory,
        "basename": posixpath.basename(directory),
        "filename": posixpath.basename(rel),
        "basenameNormalized": _normalized(posixpath.basename(directory)),
        "filenameNormalized": _normalized(posixpath.basename(rel)),
        "segments": directory.split("/"),
    }
    params = plain_copy(item) if go_template else _flatten(item)
    prefix = body.get("pathParamPrefix")
    if go_template:
        target = params.setdefault(prefix, {}) if prefix else params
        target["path"] = path
    else:
        key = f"{prefix}." if prefix else ""
        params[f"{key}path"] = directory
        params[f"{key}path.basename"] = path["basename"]
        params[f"{key}path.filename"] = path["filename"]
        params[f"{key}path.basenameNormalized"] = path["basenameNormalized"]
        params[f"{key}path.filenameNormalized"] = path["filenameNormalized"]
        for index, segment in enumerate(path["segments"]):
            params[f"{key}path[{index}]"] = segment
    return params


def _normalized(name: str) -> str:
    # Argo CD's sanitizeName for path params: lower case, unsupported characters become '-'.
    return re.sub(r"[^-a-z0-9.]", "-", name.lower())[:253].strip("-.")


def _params(element: Any, go_template: bool) -> dict[str, Any]:
    if not isinstance(element, dict):
        raise GeneratorError("a list generator element must be a mapping")
    return plain_copy(element) if go_template else _flatten(element)


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    out.update(_flatten(item, f"{name}.{index}."))
                else:
                    out[f"{name}.{index}"] = _string(item)
        else:
            out[name] = _string(value)
    return out


def _string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _combine(a: ParamSet, b: ParamSet, appset: AppSet) -> ParamSet:
    if appset.go_template:
        # the first generator's parameters win (matrix.go)
        return ParamSet(_merged(b.params, a.params), a.sources + b.sources)
    for key in a.params.keys() & b.params.keys():
        if a.params[key] != b.params[key]:
            raise GeneratorError(
                f"ApplicationSet `{appset.name}`: matrix parameters disagree on `{key}` "
                f"({', '.join(a.sources + b.sources)})",
                appset.source,
            )
    return ParamSet({**a.params, **b.params}, a.sources + b.sources)


def _merged(low: dict[str, Any], high: dict[str, Any]) -> dict[str, Any]:
    """`high` over `low`, mappings merged key by key. New mappings only where the two meet: the
    rest is shared with both (parameter sets are read, never changed, and a matrix pairs each
    element of one generator with every element of the other)."""
    out = dict(low)
    for key, value in high.items():
        below = out.get(key)
        out[key] = _merged(below, value) if isinstance(value, dict) and isinstance(below, dict) else value
    return out
