"""Renders kept for the rest of a run, bounded by the text they hold.

A run renders the same releases again and again (a codemod's first pass and its re-run after the
codemods before it changed the fleet, proofs, verify), so a memo that holds fewer renders than one
codemod makes misses them all: least-recently-used eviction under a sequential scan. Its bound is
therefore the rendered text, not a count. That text is mostly repeated (the releases of a chart
render most templates to the same text, CRDs above all), so each distinct text is held once and
counted once.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict


class RenderMemo:
    """{key: {template: text}}, least recently used first out once the distinct text (template
    names included) exceeds `budget` characters. Safe to share between threads."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._renders: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._texts: dict[str, str] = {}  # the one copy of each text (and name) a held render has
        self._uses: Counter[str] = Counter()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> dict[str, str] | None:
        """A copy of the render kept under `key` (None when there is none)."""
        with self._lock:
            rendered = self._renders.get(key)
            if rendered is None:
                return None
            self._renders.move_to_end(key)
            return dict(rendered)

    def put(self, key: str, rendered: dict[str, str]) -> None:
        with self._lock:
            self._drop(key)
            self._renders[key] = {self._held(template): self._held(text) for template, text in rendered.items()}
            while self._size > self.budget and len(self._renders) > 1:
                self._drop(next(iter(self._renders)))

    def clear(self) -> None:
        with self._lock:
            self._renders.clear()
            self._texts.clear()
            self._uses.clear()
            self._size = 0

    @property
    def size(self) -> int:
        """Characters of distinct text and template names held."""
        return self._size

    def __len__(self) -> int:
        return len(self._renders)

    def _held(self, text: str) -> str:
        held = self._texts.setdefault(text, text)
        if not self._uses[held]:
            self._size += len(held)
        self._uses[held] += 1
        return held

    def _drop(self, key: str) -> None:
        for template, text in self._renders.pop(key, {}).items():
            self._release(template)
            self._release(text)

    def _release(self, text: str) -> None:
        self._uses[text] -= 1
        if not self._uses[text]:
            del self._uses[text], self._texts[text]
            self._size -= len(text)
