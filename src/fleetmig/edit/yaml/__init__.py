"""Format-preserving YAML editing: locate with ruamel.yaml, splice the original text, verify."""

from fleetmig.edit.yaml.data import KeyPath, Match, dotted, keypath
from fleetmig.edit.yaml.editor import YamlEditor
from fleetmig.edit.yaml.emit import Style
from fleetmig.edit.yaml.locate import Entry, Item

__all__ = ["Entry", "Item", "KeyPath", "Match", "Style", "YamlEditor", "dotted", "keypath"]
