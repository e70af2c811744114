"""The run commands of `sqldistill`: a gRPC client of the controller (start and watch a run, list
runs, rounds and models, pause/resume/stop, roll back, write a report)."""

from __future__ import annotations

import getpass
import socket
import sys
from pathlib import Path
from typing import Annotated, Any

import grpc
import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.tree import Tree

from cli.connect import controller_stub
from cli.format import accuracy_text, comparison_cells, outcome_text, state_text, status_text, step_text
from services.controller.settings import RunSettings
from shared.pb import controller_pb2

# Wide enough for the rounds table when output is not a terminal (logs, CI, `make demo | tee`).
console = Console(width=None if sys.stdout.isatty() else 200)
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="sqldistill YAML config file.")]


def _fail(exc: grpc.RpcError) -> None:
    console.print(f"[red]{exc.code().name}: {exc.details()}[/red]")
    raise typer.Exit(1)


def build_run_spec(spec_file: Path | None, overrides: dict[str, Any]) -> controller_pb2.RunSpec:
    """A YAML file of RunSpec fields, then overrides: only what the user set travels; the controller
    fills the rest from RunSettings, the one source of defaults."""
    fields: dict[str, Any] = {}
    if spec_file:
        loaded = yaml.safe_load(Path(spec_file).read_text()) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{spec_file}: expected a mapping of RunSpec fields")
        for key in ("base_model", "teacher_model"):  # a ModelRef in the message, its path here
            if isinstance(loaded.get(key), dict):
                loaded[key] = loaded[key].get("path", "")
        loaded.update(loaded.pop("sampling", None) or {})
        fields.update(loaded)
    fields.update(overrides)
    return RunSettings.message(fields)


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        spec_file: Annotated[
            Path | None, typer.Option("--spec", help="YAML run spec (RunSpec fields); flags override it.")
        ] = None,
        name: Annotated[str, typer.Option()] = "",
        mode: Annotated[str, typer.Option(help="self_instruct | labelled | both | unlabelled")] = "",
        rounds: Annotated[int | None, typer.Option(help="Rounds to run.")] = None,
        continuous: Annotated[
            bool | None, typer.Option("--continuous", help="Run rounds until stopped.")
        ] = None,
        db: Annotated[
            list[str] | None,
            typer.Option(help="Training databases (repeatable); default: every train database."),
        ] = None,
        base_model: Annotated[str, typer.Option(help="Local path, hub id or packaged model name.")] = "",
        teacher_model: Annotated[
            str, typer.Option(help="A model that writes the candidates instead of the serving version.")
        ] = "",
        candidates_per_db: Annotated[int | None, typer.Option()] = None,
        samples_per_question: Annotated[int | None, typer.Option()] = None,
        questions_per_round: Annotated[int | None, typer.Option()] = None,
        eval_limit: Annotated[
            int | None, typer.Option(help="Held-out questions to evaluate on (0 = all).")
        ] = None,
        train_max_steps: Annotated[int | None, typer.Option()] = None,
        test_suite: Annotated[bool | None, typer.Option("--test-suite/--no-test-suite")] = None,
        gate_margin: Annotated[float | None, typer.Option()] = None,
        gate_mode: Annotated[str, typer.Option(help="margin | significant")] = "",
        seed: Annotated[int | None, typer.Option()] = None,
        detach: Annotated[
            bool, typer.Option(help="Start the run and return; do not stream its progress.")
        ] = False,
        config_file: ConfigOption = None,
    ) -> None:
        """Start a distillation run and stream its progress."""
        overrides = dict(
            name=name,
            mode=mode,
            rounds=rounds,
            continuous=continuous,
            db_ids=db,
            base_model=base_model,
            teacher_model=teacher_model,
            candidates_per_db=candidates_per_db,
            samples_per_question=samples_per_question,
            questions_per_round=questions_per_round,
            eval_limit=eval_limit,
            train_max_steps=train_max_steps,
            test_suite=test_suite,
            gate_margin=gate_margin,
            gate_mode=gate_mode,
            seed=seed,
        )
        try:
            spec = build_run_spec(
                spec_file,
                # Only what the user set: None, "" and no databases mean "not given".
                {k: v for k, v in overrides.items() if v is not None and v != "" and v != []},
            )
        except (OSError, ValueError, TypeError) as exc:
            console.print(f"[red]bad run spec: {exc}[/red]")
            raise typer.Exit(2) from None
        stub = controller_stub(config_file)
        try:
            started = stub.StartRun(controller_pb2.StartRunRequest(spec=spec))
        except grpc.RpcError as exc:
            _fail(exc)
        console.print(f"run [bold]{started.run_id}[/bold] started; serving {started.serving_version}")
        if detach:
            return
        watch_run(stub, started.run_id)
        show_rounds(stub, started.run_id)

    @app.command()
    def runs(config_file: ConfigOption = None) -> None:
        """List runs."""
        stub = controller_stub(config_file, read_only=True)
        table = Table(title="runs")
        for column in ("run", "name", "state", "round", "step", "serving"):
            table.add_column(column)
        for r in stub.ListRuns(controller_pb2.ListRunsRequest()).runs:
            table.add_row(
                r.run_id,
                r.name,
                state_text(r.state),
                str(r.current_round),
                step_text(r.current_step),
                r.serving_version,
            )
        console.print(table)

    @app.command(name="rounds")
    def rounds_command(run_id: str, config_file: ConfigOption = None) -> None:
        """The rounds of a run with their figures."""
        show_rounds(controller_stub(config_file, read_only=True), run_id)

    @app.command()
    def models(config_file: ConfigOption = None) -> None:
        """Model versions as a lineage tree, with accuracy and which one serves."""
        stub = controller_stub(config_file, read_only=True)
        versions = list(stub.ListModels(controller_pb2.ListModelsRequest()).models)
        children: dict[str, list[Any]] = {}
        for v in versions:
            children.setdefault(v.parent, []).append(v)

        def label(v: Any) -> str:
            colour = {"serving": "green", "rejected": "red", "retired": "dim"}.get(
                status_text(v.status), "yellow"
            )
            acc = (
                f" EX {accuracy_text(v.accuracy)}"
                + (f" TS {v.accuracy.test_suite:.3f}" if v.accuracy.test_suite else "")
                + f" ({v.few_shot_k}-shot prompt)"
                if v.accuracy.total
                else ""
            )
            return f"[{colour}]{v.version}[/{colour}] {status_text(v.status)}{acc}" + (
                f" (run {v.run_id} round {v.round})" if v.run_id else ""
            )

        tree = Tree("model versions")

        def add(node: Any, parent: str) -> None:
            for v in children.get(parent, []):
                add(node.add(label(v)), v.version)

        add(tree, "")
        console.print(tree)

    @app.command()
    def rollback(
        version: str,
        force: Annotated[
            bool, typer.Option(help="serve a version the gate rejected or never evaluated")
        ] = False,
        config_file: ConfigOption = None,
    ) -> None:
        """Serve an earlier model version again (one that passed the gate, unless --force)."""
        request = controller_pb2.RollBackRequest(
            version=version, force=force, requested_by=f"{getpass.getuser()}@{socket.gethostname()}"[:128]
        )
        try:
            result = controller_stub(config_file).RollBack(request, timeout=900)
        except grpc.RpcError as exc:
            _fail(exc)
        console.print(f"{result.version} is {status_text(result.status)}")

    for verb in ("stop", "pause", "resume"):

        def make(verb: str = verb) -> None:
            def command(run_id: str, config_file: ConfigOption = None) -> None:
                stub = controller_stub(config_file)
                try:
                    result = getattr(stub, f"{verb.capitalize()}Run")(controller_pb2.RunRef(run_id=run_id))
                except grpc.RpcError as exc:
                    _fail(exc)
                console.print(f"run {result.run_id} is {state_text(result.state)}")

            command.__doc__ = f"{verb.capitalize()} a run."
            app.command(name=verb)(command)

        make()

    @app.command()
    def report(
        run_id: str,
        out: Annotated[Path, typer.Option(help="Folder for report.md and accuracy.png.")] = Path("report"),
        config_file: ConfigOption = None,
    ) -> None:
        """Write a Markdown report with a PNG plot of accuracy and kept/generated counts per round."""
        from cli.report import build_report

        try:
            path = build_report(controller_stub(config_file, read_only=True), run_id, out)
        except grpc.RpcError as exc:
            _fail(exc)
        console.print(f"report: {path}")


def show_rounds(stub: Any, run_id: str) -> None:
    try:
        rounds = stub.ListRounds(controller_pb2.RunRef(run_id=run_id)).rounds
    except grpc.RpcError as exc:
        _fail(exc)
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
                if event.kind == "progress" and event.step == controller_pb2.STEP_TRAIN:
                    done, total = (int(x) for x in event.message.split()[-1].split("/"))
                    if training is None:
                        training = progress.add_task(f"round {event.round} training", total=total)
                    progress.update(
                        training,
                        completed=done,
                        description=f"round {event.round} training, loss {event.figures.get('loss', 0):.3f}",
                    )
                    continue
                if event.kind == "task_done":
                    progress.console.print(
                        f"[dim]  {escape(event.message)}: {int(event.figures.get('candidates', 0))} candidates[/dim]",
                        emoji=False,
                    )
                    continue
                if event.kind == "step_started" and training is not None:
                    progress.remove_task(training)
                    training = None
                figures = (
                    ", ".join(f"{k} {v:g}" for k, v in event.figures.items())
                    if event.kind != "task_done"
                    else ""
                )
                colour = (
                    "red"
                    if "fail" in event.kind
                    else ("green" if event.kind in ("rollout", "run_completed") else "")
                )
                text = escape(event.message) + (f"  [dim]({figures})[/dim]" if figures else "")
                progress.console.print(f"[{colour}]{text}[/{colour}]" if colour else text, emoji=False)
        except grpc.RpcError as exc:
            _fail(exc)
