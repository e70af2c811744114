"""`sqldistill ask`: a question about one database, answered by the serving version (or a named
one) through the controller's Ask call - the SQL, the agreement of its samples, and the result."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from cli.connect import ConfigOption, controller_stub
from cli.consoles import make_console
from shared import defaults
from shared.pb import controller_pb2, critic_pb2
from shared.pbconvert import enum_text, from_result_set
from shared.sources.on_source import not_compared

console = make_console()


def register(app: typer.Typer) -> None:
    @app.command()
    def ask(
        question: Annotated[str, typer.Argument(help="The question, in words.")],
        db: Annotated[str, typer.Option("--db", help="The database to ask (its db_id).")],
        version: Annotated[str, typer.Option(help="A model version (default: the one serving).")] = "",
        samples: Annotated[
            int, typer.Option(help="Also sample N answers; the answer is the one most of them agree with.")
        ] = 0,
        rows: Annotated[int, typer.Option(help="Rows of the result to show.")] = defaults.ANSWER_ROWS,
        repair: Annotated[
            int | None,
            typer.Option(
                help="Repair attempts: SQL that fails to run is written again with the database's "
                f"error (default {defaults.REPAIR_ATTEMPTS}; 0 = off)."
            ),
        ] = None,
        by: Annotated[str, typer.Option(help="Who is asking (kept with the question in the log).")] = "",
        on_source: Annotated[
            bool,
            typer.Option(
                "--on-source", help="Also run the answer, read-only, on the registered source database."
            ),
        ] = False,
        config_file: ConfigOption = None,
    ) -> None:
        """Ask a database a question: the model writes SQL, the critic runs it in its sandbox."""
        stub = controller_stub(config_file)
        request = controller_pb2.AskRequest(
            question=question,
            db_id=db,
            version=version,
            samples=samples,
            max_rows=rows,
            asked_by=by,
            on_source=on_source,
        )
        if repair is not None:
            request.repair_attempts = repair
        with console.status(f"asking {version or 'the serving version'}..."):
            answer = stub.Ask(request, timeout=900)
        show_answer(answer)
        if on_source:
            show_source_answer(answer)
        if answer.status != critic_pb2.EXECUTION_STATUS_OK:
            raise typer.Exit(1)


def show_answer(answer: controller_pb2.Answer) -> None:
    console.print(
        f"[dim]{answer.version}, {answer.few_shot_k}-shot prompt, {answer.elapsed_ms / 1000:.1f}s"
        + (f", answer {answer.answer_id}" if answer.answer_id else "")
        + "[/dim]",
        highlight=False,
    )
    if answer.repaired_sql:
        console.print(f"[dim]repaired: {escape(answer.repaired_sql)}[/dim]", highlight=False)
        console.print(f"[dim]which failed with: {escape(answer.repaired_error)}[/dim]", highlight=False)
    if answer.sql:
        console.print(Syntax(answer.sql, "sql", word_wrap=True))
    if answer.samples > 1:
        console.print(
            f"{answer.agreement_votes} of {answer.samples} samples agree"
            + (
                f" ({answer.samples - answer.executable} did not run)"
                if answer.executable < answer.samples
                else ""
            )
        )
    if answer.status != critic_pb2.EXECUTION_STATUS_OK:
        status = enum_text(critic_pb2.ExecutionStatus, answer.status)
        console.print(f"[red]{status}: {escape(answer.error)}[/red]")
        return
    table = Table(*answer.result.columns)
    for row in from_result_set(answer.result):
        table.add_row(*("NULL" if v is None else str(v) for v in row))
    console.print(table)
    shown = len(answer.result.rows)
    more = " or more (the critic's row cap)" if answer.result.truncated and shown == answer.row_count else ""
    console.print(
        f"{answer.row_count} row{'s' if answer.row_count != 1 else ''}{more}"
        + (f", first {shown} shown" if shown < answer.row_count else "")
    )


def show_source_answer(answer: controller_pb2.Answer) -> None:
    """The answer as the source database itself ran it, and whether the snapshot's rows differ."""
    if answer.source_error:
        console.print(f"[red]on the source: {escape(answer.source_error)}[/red]", highlight=False)
        return
    console.print("[dim]on the source, as:[/dim]")
    console.print(Syntax(answer.source_sql, "sql", word_wrap=True))
    table = Table(*answer.source_result.columns)
    for row in from_result_set(answer.source_result):
        table.add_row(*("NULL" if v is None else str(v) for v in row))
    console.print(table)
    if answer.source_differs:
        console.print(
            "[yellow]the source's rows differ from the snapshot's (refresh it: `sqldistill db refresh`)[/yellow]"
        )
    elif why := not_compared(
        answer.status == critic_pb2.EXECUTION_STATUS_OK,
        answer.result.truncated,
        answer.source_result.truncated,
    ):
        console.print(f"the source's rows are not compared with the snapshot's: {why}")
    else:
        console.print("the source's rows match the snapshot's")
