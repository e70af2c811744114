"""Showing a run in the terminal: its event stream as it happens (a line per step, a progress bar
while training) and its rounds as a table."""

from __future__ import annotations

from typing import Any

import grpc
import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.consoles import make_console
from cli.format import accuracy_text, comparison_cells, outcome_text, step_text
from shared.event_kinds import EventKind
from shared.pb import controller_pb2

console = make_console()  # not wrapped on a pipe: the rounds table whole in logs, CI, `make demo | tee`


def fail(exc: grpc.RpcError) -> None:
    """A refused call as one line with its status, and exit 1."""
    console.print(f"[red]{exc.code().name}: {exc.details()}[/red]")
    raise typer.Exit(1)


def show_rounds(stub: Any, run_id: str) -> None:
    try:
        rounds = stub.ListRounds(controller_pb2.RunRef(run_id=run_id)).rounds
    except grpc.RpcError as exc:
        fail(exc)
    table = Table(
        title=f"rounds of run {run_id}",
        caption="gain, wins/losses and p: the gate's paired comparison (TS when test suites are on, else EX)",
    )
    for column in (
        "round",
        "step",
        "outcome",
        "generated",
        "kept",
        "version",
        "EX new (95% CI)",
        "EX serving",
        "TS new",
        "TS serving",
        "wins/losses",
        "gain (95% CI)",
        "McNemar p",
    ):
        table.add_column(column, justify="right")
    for r in rounds:
        table.add_row(
            str(r.number),
            step_text(r.step),
            outcome_text(r.outcome) or "-",
            str(r.generated),
            str(r.kept),
            r.model_version or "-",
            accuracy_text(r.accuracy),
            f"{r.serving_accuracy.execution:.3f}",
            f"{r.accuracy.test_suite:.3f}",
            f"{r.serving_accuracy.test_suite:.3f}",
            *comparison_cells(r.comparison),
        )
    console.print(table)


def watch_run(stub: Any, run_id: str) -> None:
    """Stream the run's events: a line per step, a progress bar while training."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        training = None
        try:
            for event in stub.WatchRun(controller_pb2.RunRef(run_id=run_id), timeout=24 * 3600):
                if event.kind == EventKind.PROGRESS and event.step == controller_pb2.STEP_TRAIN:
                    done, total = (int(x) for x in event.message.split()[-1].split("/"))
                    if training is None:
                        training = progress.add_task(f"round {event.round} training", total=total)
                    progress.update(
                        training,
                        completed=done,
                        description=f"round {event.round} training, loss {event.figures.get('loss', 0):.3f}",
                    )
                    continue
                if event.kind == EventKind.TASK_DONE:
                    progress.console.print(
                        f"[dim]  {escape(event.message)}: {int(event.figures.get('candidates', 0))} candidates[/dim]",
                        emoji=False,
                    )
                    continue
                if event.kind == EventKind.STEP_STARTED and training is not None:
                    progress.remove_task(training)
                    training = None
                figures = (
                    ", ".join(f"{k} {v:g}" for k, v in event.figures.items())
                    if event.kind != EventKind.TASK_DONE
                    else ""
                )
                colour = (
                    "red"
                    if "fail" in event.kind
                    else ("green" if event.kind in (EventKind.ROLLOUT, EventKind.RUN_COMPLETED) else "")
                )
                text = escape(event.message) + (f"  [dim]({figures})[/dim]" if figures else "")
                progress.console.print(f"[{colour}]{text}[/{colour}]" if colour else text, emoji=False)
        except grpc.RpcError as exc:
            fail(exc)
