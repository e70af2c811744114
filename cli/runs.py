"""The run commands of `sqldistill`: a gRPC client of the controller (start and watch a run, list
runs and rounds, pause/resume/stop, write a report). `run` has a flag for every RunSpec field,
generated from the message (shared/run_spec.py), so a YAML spec and the flags set the same things."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any

import grpc
import typer
from google.protobuf.descriptor import FieldDescriptor
from rich.table import Table

from cli.connect import ConfigOption, controller_stub
from cli.format import state_text, step_text
from cli.watch import console, fail, show_rounds, watch_run
from shared.pb import controller_pb2
from shared.run_spec import build_run_spec, spec_field_help, spec_fields

# A flag whose name says more than its field's; every other field is --<field-name>. Every flag's
# help is its field's own description in the .proto (shared.run_spec.spec_field_help).
FLAG_NAMES = {"db_ids": "--db"}
REPEATABLE = ("db_ids", "complexity_mix")
_SCALARS = {
    FieldDescriptor.CPPTYPE_INT32: int,
    FieldDescriptor.CPPTYPE_INT64: int,
    FieldDescriptor.CPPTYPE_DOUBLE: float,
    FieldDescriptor.CPPTYPE_FLOAT: float,
    FieldDescriptor.CPPTYPE_BOOL: bool,
}


def _flag(name: str, field: FieldDescriptor, description: str) -> inspect.Parameter:
    """One keyword parameter for typer: None (not given) unless the user sets the flag."""
    help_text = description + (" (repeatable)" if name in REPEATABLE else "")
    dashed = name.replace("_", "-")
    if name in REPEATABLE:
        kind: Any = list[str] | None
        option = typer.Option(FLAG_NAMES.get(name, f"--{dashed}"), help=help_text)
    elif field.cpp_type == FieldDescriptor.CPPTYPE_BOOL:
        kind = bool | None
        option = typer.Option(f"--{dashed}/--no-{dashed}", help=help_text)
    else:
        kind = _SCALARS.get(field.cpp_type, str) | None
        option = typer.Option(f"--{dashed}", help=help_text)
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[kind, option]
    )


def _overrides(values: dict[str, Any]) -> dict[str, Any]:
    """The flags the user set, as RunSpec fields."""
    out = {k: v for k, v in values.items() if v is not None and v != []}
    if "complexity_mix" in out:
        mix = {}
        for item in out["complexity_mix"]:
            level, _, share = item.partition("=")
            mix[level] = float(share)
        out["complexity_mix"] = mix
    return out


def run(
    spec_file: Path | None = None, detach: bool = False, config_file: Path | None = None, **fields: Any
) -> None:
    """Start a distillation run and stream its progress."""
    try:
        spec = build_run_spec(spec_file, _overrides(fields))
    except (OSError, ValueError, TypeError) as exc:
        console.print(f"[red]bad run spec: {exc}[/red]")
        raise typer.Exit(2) from None
    stub = controller_stub(config_file)
    try:
        started = stub.StartRun(controller_pb2.StartRunRequest(spec=spec))
    except grpc.RpcError as exc:
        fail(exc)
    console.print(f"run [bold]{started.run_id}[/bold] started; serving {started.serving_version}")
    if detach:
        return
    watch_run(stub, started.run_id)
    show_rounds(stub, started.run_id)


helps = spec_field_help()
run.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [
        inspect.Parameter(
            "spec_file",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                Path | None, typer.Option("--spec", help="YAML run spec (RunSpec fields); flags override it.")
            ],
        ),
        *(_flag(name, field, helps[name]) for name, field in spec_fields().items()),
        inspect.Parameter(
            "detach",
            inspect.Parameter.KEYWORD_ONLY,
            default=False,
            annotation=Annotated[
                bool, typer.Option(help="Start the run and return; do not stream its progress.")
            ],
        ),
        inspect.Parameter(
            "config_file", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ConfigOption
        ),
    ]
)


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
            r.serving_version + (f" (waiting: {r.waiting_for})" if r.waiting_for else ""),
        )
    console.print(table)


def rounds(run_id: str, config_file: ConfigOption = None) -> None:
    """The rounds of a run with their figures."""
    show_rounds(controller_stub(config_file, read_only=True), run_id)


def _control(verb: str) -> Any:
    def command(run_id: str, config_file: ConfigOption = None) -> None:
        stub = controller_stub(config_file)
        try:
            result = getattr(stub, f"{verb.capitalize()}Run")(controller_pb2.RunRef(run_id=run_id))
        except grpc.RpcError as exc:
            fail(exc)
        console.print(f"run {result.run_id} is {state_text(result.state)}")

    command.__doc__ = f"{verb.capitalize()} a run."
    return command


def resume(
    run_id: str,
    more_rounds: Annotated[
        int,
        typer.Option(help="Give the run this many more rounds; a completed run goes on from where it ended."),
    ] = 0,
    config_file: ConfigOption = None,
) -> None:
    """Resume a paused or failed run (a failed step is tried again), or give a run (a completed one
    too) more rounds."""
    stub = controller_stub(config_file)
    try:
        result = stub.ResumeRun(controller_pb2.ResumeRunRequest(run_id=run_id, more_rounds=more_rounds))
    except grpc.RpcError as exc:
        fail(exc)
    console.print(f"run {result.run_id} is {state_text(result.state)}")


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
        fail(exc)
    console.print(f"report: {path}")


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(runs)
    app.command(name="rounds")(rounds)
    for verb in ("stop", "pause"):
        app.command(name=verb)(_control(verb))
    app.command()(resume)
    app.command()(report)
