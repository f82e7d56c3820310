"""Round-trip parsing with ruamel.yaml, used only to locate nodes and to check data."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from fleetmig.errors import InputError


def _loader() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


@lru_cache(maxsize=2048)
def _documents(text: str) -> tuple[Any, ...]:
    return tuple(_loader().load_all(text))


def load_documents(text: str, path: str) -> list[Any]:
    """All documents of a stream; syntax errors, tabs and duplicate keys become InputError.

    Parsed trees are shared between callers that parse the same text (every codemod opens the same
    files): they are only read, never changed in place; an edit re-parses the new text."""
    try:
        return list(_documents(text))
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or err.context or "invalid YAML"
        if mark is None:
            raise InputError(f"invalid YAML: {problem}", path) from None
        return _raise_at(problem, path, mark.line + 1, mark.column + 1)
    except YAMLError as err:
        raise InputError(f"invalid YAML: {err}", path) from None
    except RecursionError:
        raise InputError("nested too deeply to read", path) from None


def _raise_at(problem: str, path: str, line: int, column: int) -> list[Any]:
    problem = " ".join(problem.split())
    if "'\\t'" in problem:
        problem = "a tab character is used for indentation; YAML allows only spaces"
    raise InputError(f"invalid YAML: {problem}", path, line, column)
