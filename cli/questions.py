"""`sqldistill questions`: the question log - what people asked through `ask` and how it was
answered - listed, and forgotten where it must not be kept."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.connect import ConfigOption

console = Console()
app = typer.Typer(help="The question log: questions asked through `ask` and their answers.")


@app.command("list")
def list_command(
    db: Annotated[str, typer.Option("--db", help="Only this database's questions.")] = "",
    limit: Annotated[int, typer.Option(help="Newest first, at most this many.")] = 50,
    config_file: ConfigOption = None,
) -> None:
    """The newest asked questions with their answers."""
    from offline.question_log import list_asked
    from shared.config import load_config

    try:
        rows = list_asked(load_config(config_file).resolved_store_url, db, limit)
    except (OSError, ValueError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    table = Table("answer", "asked", "db", "question", "version", "status", "agree", "sql")
    for q in rows:
        table.add_row(
            q.id, f"{q.asked_at:%Y-%m-%d %H:%M}", q.db_id, q.question, q.version, q.status, q.agreement, q.sql
        )
    console.print(table)


@app.command()
def forget(
    answer_id: Annotated[str, typer.Argument(help="An answer id (as `ask` shows it).")] = "",
    db: Annotated[str, typer.Option("--db", help="Every question asked of this database.")] = "",
    before: Annotated[
        str, typer.Option(help="Every question asked before this date (YYYY-MM-DD, UTC).")
    ] = "",
    config_file: ConfigOption = None,
) -> None:
    """Delete asked questions and their answers from the log (every given criterion must hold)."""
    from offline.question_log import forget as forget_questions
    from shared.config import load_config

    try:
        cutoff = datetime.fromisoformat(before + "T00:00:00+00:00") if before else None
        removed = forget_questions(load_config(config_file).resolved_store_url, answer_id, db, cutoff)
    except (OSError, ValueError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    console.print(f"forgot {removed} question{'s' if removed != 1 else ''}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="questions")
