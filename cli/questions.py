"""`sqldistill questions`: the question log - what people asked through `ask` and how it was
answered - listed, and forgotten where it must not be kept."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli.connect import ConfigOption
from cli.consoles import make_console

console = make_console()
app = typer.Typer(help="The question log: questions asked through `ask` and their answers.")


@app.command("list")
def list_command(
    db: Annotated[str, typer.Option("--db", help="Only this database's questions.")] = "",
    version: Annotated[str, typer.Option(help="Only answers of this model version.")] = "",
    feedback: Annotated[
        str, typer.Option(help="Only answers marked right | wrong, or none (without feedback).")
    ] = "",
    labelled: Annotated[
        bool | None,
        typer.Option("--labelled/--unlabelled", help="Only questions with (or without) a person's SQL."),
    ] = None,
    limit: Annotated[int, typer.Option(help="Newest first, at most this many.")] = 50,
    config_file: ConfigOption = None,
) -> None:
    """The newest logged questions with their answers, feedback and a person's SQL."""
    from offline.question_log import list_asked
    from shared.config import load_config

    try:
        url = load_config(config_file).resolved_store_url
        rows = list_asked(url, db, limit, version, feedback, labelled)
    except (OSError, ValueError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    table = Table(
        "answer", "asked", "db", "question", "version", "status", "agree", "sql", "feedback", "person's sql"
    )
    for q in rows:
        table.add_row(
            q.id,
            f"{q.asked_at:%Y-%m-%d %H:%M}",
            q.db_id,
            q.question,
            q.version or q.origin,
            q.status,
            q.agreement,
            q.sql,
            q.feedback,
            q.gold_sql,
        )
    console.print(table)


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="JSONL or CSV: question, optional sql, db_id, asked_at.")],
    db: Annotated[str, typer.Option("--db", help="The database of rows without a db_id.")] = "",
    by: Annotated[str, typer.Option(help="Who or what the questions come from (kept with them).")] = "",
    config_file: ConfigOption = None,
) -> None:
    """Add questions from another tool's log; their SQL, when given, runs in the sandbox first and is
    then a person's SQL for the question. A bad row refuses the whole file, naming the row."""
    from offline.question_log import check_imported_sql, read_import, store_imported
    from shared.bundled.locate import default_dataset
    from shared.catalogue import Catalogue
    from shared.config import load_config

    try:
        config = load_config(config_file)
        catalogue = Catalogue.load(Path(config.dataset) if config.dataset else default_dataset(config))
        rows = read_import(file, db, set(catalogue.db_ids))
        check_imported_sql(catalogue, rows)
        done = store_imported(config.resolved_store_url, rows, by or f"import:{file.name}")
    except (OSError, ValueError) as exc:
        console.print(f"[red]{exc}[/red]", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    console.print(
        f"imported {done.added} of {done.rows} question{'s' if done.rows != 1 else ''}"
        f" ({done.with_sql} with SQL; {done.rows - done.added} already in the log)"
    )


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


def feedback(
    answer_id: Annotated[str, typer.Argument(help="An answer id (as `ask` and `questions list` show it).")],
    right: Annotated[
        bool, typer.Option("--right", help="The answer was right: its SQL labels the question.")
    ] = False,
    wrong: Annotated[bool, typer.Option("--wrong", help="The answer was wrong.")] = False,
    sql: Annotated[str, typer.Option("--sql", help="The right SQL (runs in the sandbox first).")] = "",
    note: Annotated[str, typer.Option(help="A note kept with the feedback.")] = "",
    by: Annotated[str, typer.Option(help="Who gives it (kept with it).")] = "",
    config_file: ConfigOption = None,
) -> None:
    """Say whether an answer was right; a corrected SQL becomes the question's label for runs on the
    question log."""
    from cli.connect import controller_stub
    from shared.pb import controller_pb2
    from shared.pbconvert import enum_text

    if right + wrong + bool(sql) == 0 or (right and (wrong or sql)):
        console.print("[red]say --right, --wrong, or give --sql (the right SQL)[/red]")
        raise typer.Exit(2)
    verdict = controller_pb2.FEEDBACK_VERDICT_RIGHT if right else controller_pb2.FEEDBACK_VERDICT_WRONG
    reply = controller_stub(config_file).Feedback(
        controller_pb2.FeedbackRequest(
            answer_id=answer_id, verdict=verdict, corrected_sql=sql, note=note, given_by=by
        ),
        timeout=120,
    )
    said = enum_text(controller_pb2.FeedbackVerdict, reply.verdict)
    console.print(f"answer {reply.answer_id}: {said}", highlight=False)
    if reply.gold_sql:
        rows = f" ({reply.row_count} rows in the sandbox)" if sql else ""
        console.print(f"the question's SQL is now: {reply.gold_sql}{rows}", highlight=False, soft_wrap=True)
    elif right:
        console.print("it returned no rows, so it is not a label (a label must return something)")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="questions")
    root.command()(feedback)
