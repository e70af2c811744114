"""The CLI's rich consoles, made one way. On a terminal rich fits output to its width; written to a
pipe or a file (a log, `| tee`, a test) output is not wrapped below PIPE_WIDTH, so a path or an
answer's SQL stays one piece that can be copied or grepped, and tables (which never stretch) stay
as wide as their contents."""

from __future__ import annotations

import sys
from typing import IO

from rich.console import Console

PIPE_WIDTH = 1_000  # characters a line may take when the output is not a terminal


def make_console(*, stderr: bool = False, file: IO[str] | None = None) -> Console:
    stream = file if file is not None else (sys.stderr if stderr else sys.stdout)
    terminal = hasattr(stream, "isatty") and stream.isatty()
    return Console(stderr=stderr, file=file, width=None if terminal else PIPE_WIDTH)
