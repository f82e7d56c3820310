"""Format-preserving YAML editing: locate with ruamel.yaml, splice the original text, verify."""

from fleetmig.edit.yaml.data import KeyPath, dotted, keypath
from fleetmig.edit.yaml.editor import Entry, YamlEditor
from fleetmig.edit.yaml.emit import Style

__all__ = ["Entry", "KeyPath", "Style", "YamlEditor", "dotted", "keypath"]
