"""Coloured diffs on a terminal, plain text when piped."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

_STYLES = (("+++", "bold"), ("---", "bold"), ("diff ", "bold"), ("@@", "cyan"), ("+", "green"), ("-", "red"))


def print_diff(console: Console, diff_text: str) -> None:
    if not console.is_terminal:
        console.file.write(diff_text)
        return
    for line in diff_text.splitlines():
        style = next((s for prefix, s in _STYLES if line.startswith(prefix)), "")
        console.print(Text(line, style=style))
