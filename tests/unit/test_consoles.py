"""The CLI's consoles keep long lines whole on a pipe (a wrapped path cannot be copied or grepped)."""

from __future__ import annotations

import io

from cli.consoles import make_console


def test_a_long_path_printed_to_a_pipe_stays_on_one_line():
    console = make_console()
    console.file = io.StringIO()  # not a terminal: rich would otherwise wrap at 80 columns
    path = "/tmp/" + "/".join(f"folder-{i}" for i in range(20)) + "/report.json"
    console.print(f"per-query report: {path}")
    assert console.file.getvalue() == f"per-query report: {path}\n"
