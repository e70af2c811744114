"""The CLI's consoles keep long lines whole on a pipe (a wrapped path or SQL cannot be copied or
grepped) and leave a terminal's width to rich."""

from __future__ import annotations

import io

import pytest
from rich.syntax import Syntax

from cli.consoles import make_console

PATH = "/tmp/" + "/".join(f"folder-{i}" for i in range(20)) + "/report.json"
SQL = "SELECT " + ", ".join(f"column_{i}" for i in range(30)) + " FROM a_table_with_a_long_name WHERE x = 1"


@pytest.fixture(autouse=True)
def plain(monkeypatch):
    for name in ("FORCE_COLOR", "COLUMNS", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)


def test_a_long_path_printed_to_a_pipe_stays_on_one_line():
    out = io.StringIO()
    make_console(file=out).print(f"per-query report: {PATH}", highlight=False)
    assert out.getvalue() == f"per-query report: {PATH}\n"


def test_long_sql_shown_as_syntax_on_a_pipe_is_neither_wrapped_nor_cut():
    out = io.StringIO()
    make_console(file=out).print(Syntax(SQL, "sql", word_wrap=True))
    assert out.getvalue().strip() == SQL


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_keeps_rich_fitting_to_its_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    out = Terminal()
    console = make_console(file=out)
    assert console.width == 60
