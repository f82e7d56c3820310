"""Stable secrets: Helm's random functions, ESO's ExternalSecret schema, and the Vault keys to seed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from fleetmig.fleet.model import Fleet
from fleetmig.fleet.render import RenderFailed, manifests, render_release

# Helm/sprig functions whose output changes on every render.
RANDOM_FUNCTIONS = ("randAlphaNum", "randAlpha", "randNumeric", "randAscii", "randBytes", "uuidv4")
ESO_SCHEMA = "eso-externalsecret-v1.json"


@cache
def _eso_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(resources.files("fleetmig.schemas").joinpath(ESO_SCHEMA).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def external_secret_problems(obj: Any) -> list[str]:
    """Why `obj` is not a valid `external-secrets.io/v1` ExternalSecret (empty when it is)."""
    problems = []
    if not isinstance(obj, dict) or obj.get("apiVersion") != "external-secrets.io/v1":
        problems.append("apiVersion is not external-secrets.io/v1")
    for error in _eso_validator().iter_errors(obj):
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        problems.append(f"{where}: {error.message}")
    return problems


@dataclass(frozen=True)
class Seed:
    """One Vault KV value that must exist before a release syncs (never its value)."""

    env: str
    namespace: str
    store: str  # kind/name
    key: str
    property: str | None
    secret: str  # the Secret the ExternalSecret produces
    secret_key: str
    release: str


def seeds(fleet: Fleet) -> tuple[list[Seed], list[str]]:
    """Every Vault value the rendered ExternalSecrets of owned charts read, and the releases that
    could not be rendered (their seeds are unknown)."""
    third_party = fleet.policy.layout.third_party
    found: list[Seed] = []
    failed: list[str] = []
    for release in fleet.releases:
        chart = release.component.chart_path
        if not chart or chart.startswith(third_party) or release.env is None:
            continue
        try:
            objects = manifests(render_release(fleet, release))
        except RenderFailed as error:
            failed.append(f"{release.label}: {error}")
            continue
        for obj in objects:
            if not isinstance(obj, dict) or obj.get("kind") != "ExternalSecret":
                continue
            spec = obj.get("spec") or {}
            store = spec.get("secretStoreRef") or {}
            target = (spec.get("target") or {}).get("name") or (obj.get("metadata") or {}).get("name", "")
            namespace = (obj.get("metadata") or {}).get("namespace") or _namespace(fleet, release.env)
            for item in spec.get("data") or []:
                ref = item.get("remoteRef") or {}
                found.append(
                    Seed(
                        env=release.env,
                        namespace=namespace,
                        store=f"{store.get('kind', 'SecretStore')}/{store.get('name', '')}",
                        key=str(ref.get("key", "")),
                        property=ref.get("property"),
                        secret=str(target),
                        secret_key=str(item.get("secretKey", "")),
                        release=release.component.name,
                    )
                )
    return sorted(set(found), key=lambda s: (s.env, s.store, s.key, s.property or "", s.secret_key)), failed


def _namespace(fleet: Fleet, env: str) -> str:
    entry = next((e for e in fleet.cluster_entries if e.env == env), None)
    return entry.namespace if entry is not None and entry.namespace else ""
