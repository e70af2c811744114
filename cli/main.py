"""`sqldistill`: the command line (typer + rich)."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cli.ask import register as register_ask
from cli.connect import ConfigOption
from cli.consoles import make_console
from cli.db import register as register_db
from cli.evaluate import register as register_evaluate
from cli.export import register as register_export
from cli.local_stack import START_ORDER, LocalStack
from cli.models import register as register_model_commands
from cli.questions import register as register_questions
from cli.runs import register as register_run_commands
from shared.config import SERVICE_NAMES, load_config
from shared.grpc_client import check_health, make_channel

if TYPE_CHECKING:
    pass

app = typer.Typer(
    help="Teach small language models to write SQL by recursive self-distillation.", no_args_is_help=True
)
console = make_console()
register_run_commands(app)
register_model_commands(app)
register_ask(app)
register_export(app)
register_evaluate(app)
register_questions(app)
register_db(app)


@app.command()
def up(
    config_file: ConfigOption = None,
    dataset: Annotated[
        Path | None, typer.Option(help="Spider-format folder or folder of .sqlite files.")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for every service to be healthy.")] = 300.0,
) -> None:
    """Start the four services on loopback ports and keep them running until Ctrl-C."""
    overrides = {"dataset": dataset} if dataset else {}
    config = load_config(config_file, **overrides)
    stack = LocalStack(config)
    stopping = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        with console.status("starting services..."):
            stack.start(timeout)
    except (RuntimeError, TimeoutError) as exc:
        console.print(f"[red]start failed:[/red] {exc}")
        stack.stop()
        raise typer.Exit(1) from None
    table = Table(title="sqldistill is up")
    for column in ("service", "gRPC", "metrics", "pid", "log"):
        table.add_column(column)
    for s in stack.processes:
        metrics = config.endpoint(s.name).metrics_port
        table.add_row(
            s.name,
            s.target,
            f"http://{config.host}:{metrics}/metrics" if metrics else "-",
            str(s.process.pid),
            str(s.log_path),
        )
    console.print(table)
    console.print("Ctrl-C stops every service.")
    exit_code = 0
    while not stopping:
        exited = stack.first_exited()
        if exited:
            console.print(
                f"[red]{exited.name} exited ({exited.process.returncode}); see {exited.log_path}[/red]"
            )
            exit_code = 1
            break
        time.sleep(0.5)
    with console.status("stopping services (in-flight calls drain)..."):
        stack.stop()
    console.print("all services stopped")
    raise typer.Exit(exit_code)


@app.command()
def status(config_file: ConfigOption = None) -> None:
    """Health of each service (grpc.health.v1)."""
    config = load_config(config_file)
    table = Table(title="sqldistill services")
    table.add_column("service")
    table.add_column("target")
    table.add_column("health")
    healthy = True
    for name in START_ORDER:
        channel = make_channel(config.target(name))
        state = check_health(channel, timeout=2.0)
        channel.close()
        healthy &= state == "SERVING"
        colour = "green" if state == "SERVING" else "red"
        table.add_row(name, config.target(name), f"[{colour}]{state}[/{colour}]")
    console.print(table)
    raise typer.Exit(0 if healthy else 1)


@app.command()
def serve(
    service: Annotated[str, typer.Argument(help=f"One of: {', '.join(SERVICE_NAMES)}")],
    config_file: ConfigOption = None,
) -> None:
    """Run one service in the foreground (what a container runs)."""
    import importlib

    from shared.service_main import run_service

    if service not in SERVICE_NAMES:
        console.print(f"[red]unknown service {service!r}[/red]; expected one of {', '.join(SERVICE_NAMES)}")
        raise typer.Exit(2)
    module = importlib.import_module(f"services.{service}.server")
    run_service(service, module.build, load_config(config_file))


@app.command(name="config")
def show_config(config_file: ConfigOption = None) -> None:
    """Print the resolved configuration (defaults < file < environment)."""
    console.print_json(json.dumps(load_config(config_file).redacted()))


def main() -> None:
    """The `sqldistill` entry point: the commands, with an unreachable service or a refused call
    reported in one line instead of a traceback."""
    import grpc

    from cli.connect import Unreachable
    from shared.errors import ServiceError

    try:
        app()
    except Unreachable as exc:
        console.print(f"[red]{exc}[/red]", highlight=False, soft_wrap=True)
        raise SystemExit(1) from None
    except ServiceError as exc:  # a read answered from the store: the status the controller would send
        console.print(f"[red]{exc.code.name}: {exc}[/red]", highlight=False, soft_wrap=True)
        raise SystemExit(1) from None
    except grpc.RpcError as exc:
        details = (exc.details() or "").splitlines()[0] if hasattr(exc, "details") else str(exc)
        console.print(f"[red]{exc.code().name}: {details}[/red]", highlight=False, soft_wrap=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
