"""A fleet view's cache of what it derived from its files, shared with the view it came from.

Codemods derive a view per candidate they prove (a chart, a component), and each view needs only a
few entries of its own. Copying every still-valid entry into each new view made a run quadratic in
the fleet's size; instead a view looks an entry up in its ancestors, as far as the changes in
between leave it valid, and keeps what it found. Every few generations the chain is flattened, so
a lookup stays short and old views can be freed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

_MAX_DEPTH = 8


class Inherited(Generic[K, V]):
    def __init__(self, parent: Inherited[K, V] | None = None, valid: Callable[[K], bool] | None = None) -> None:
        """`valid(key)`: whether the parent's entry for `key` still holds after the change."""
        if parent is not None and parent._depth >= _MAX_DEPTH:
            parent._collapse()  # once for all the views derived from it
        self._own: dict[K, V] = {}
        self._parent = parent
        self._valid = valid
        self._depth: int = parent._depth + 1 if parent is not None else 0

    def __getitem__(self, key: K) -> V:
        """This view's entry, or a still-valid one of an ancestor's; KeyError when there is none."""
        if key in self._own:
            return self._own[key]
        level = self
        while level._parent is not None and level._valid is not None and level._valid(key):
            level = level._parent
            if key in level._own:
                value = self._own[key] = level._own[key]
                return value
        raise KeyError(key)

    def __setitem__(self, key: K, value: V) -> None:
        self._own[key] = value

    def _collapse(self) -> None:
        self._own = self._inheritable()
        self._parent, self._valid, self._depth = None, None, 0

    def _inheritable(self) -> dict[K, V]:
        """Every entry this cache holds or may take over from its ancestors."""
        out: dict[K, V] = {}
        if self._parent is not None and self._valid is not None:
            valid = self._valid
            out = {key: value for key, value in self._parent._inheritable().items() if valid(key)}
        out.update(self._own)
        return out
