"""Reads fleetmig cannot rewrite safely: the file stays as it is and each one is reported."""

from pathlib import Path

import yaml


def pick(values: dict, key: str) -> object:
    return values[key]  # which root key? only known at run time


def lookup(values: dict, key: str) -> object:
    return values.get(key, {})


def descriptor_cluster(path: Path) -> object:
    data = yaml.safe_load(path.read_text())
    return data.get("cluster")  # a component descriptor, not Helm values


def pin(values: dict) -> None:
    values["cluster"] = {"type": "k3d"}


def nested(values: dict) -> object:
    # A `cluster` key below the root is not the deprecated root key: left alone, not reported.
    return values["postgres"]["cluster"], values.get("registry")
