"""The CLI's rich consoles, made one way: lines are never broken to fit a width (soft wrap), so a
path or SQL printed to a pipe, a log or a narrow terminal stays one piece that can be copied;
tables still fit the width."""

from __future__ import annotations

from rich.console import Console


def make_console(*, stderr: bool = False, width: int | None = None) -> Console:
    return Console(stderr=stderr, width=width, soft_wrap=True)
