"""`sqldistill`: the command line (typer + rich)."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.ask import register as register_ask
from cli.export import register as register_export
from cli.local_stack import START_ORDER, LocalStack
from cli.runs import register as register_run_commands
from shared import defaults
from shared.catalogue import Catalogue, Example
from shared.config import SERVICE_NAMES, Config, load_config
from shared.grpc_client import check_health, make_channel
from shared.limits import MAX_VOTING_SAMPLES
from shared.stats import compare_paired, wilson_interval

if TYPE_CHECKING:
    from cli.predict import EvalModel

app = typer.Typer(
    help="Teach small language models to write SQL by recursive self-distillation.", no_args_is_help=True
)
console = Console()
register_run_commands(app)
register_ask(app)
register_export(app)

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file.")]


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


@app.command(name="eval")
def evaluate(
    gold: Annotated[
        Path | None, typer.Option(help="Gold: Spider 'SQL<TAB>db_id' lines, Spider JSON, or JSONL.")
    ] = None,
    pred: Annotated[
        Path | None, typer.Option(help="Predictions: one SQL per line, or JSON/JSONL with predicted_sql.")
    ] = None,
    db_dir: Annotated[
        Path | None,
        typer.Option(help="Spider's database/ folder, a Spider root, or any folder of SQLite files."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="Predict with this model first: a version id, a version folder, a model path or name."
        ),
    ] = None,
    dataset: Annotated[
        Path | None, typer.Option(help="With --model: a Spider-format folder (databases + split files).")
    ] = None,
    split: Annotated[str, typer.Option(help="With --model: the split to predict.")] = "dev",
    limit: Annotated[int, typer.Option(help="With --model: only the first N questions (0 = all).")] = 0,
    shots: Annotated[
        int | None,
        typer.Option(help="With --model: few-shot examples (default: a version's own prompt, 2 for a base)."),
    ] = None,
    test_suite: Annotated[
        bool, typer.Option(help="Also score test-suite accuracy (builds suites on first use).")
    ] = False,
    precision: Annotated[
        str | None,
        typer.Option(help="With --model: auto, fp32, bf16, fp16 or int8 (default: generation.precision)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="With --model: write predictions here, one SQL per line (a .json path: BIRD's "
            "prediction file). Otherwise: the JSON report."
        ),
    ] = None,
    report_path: Annotated[
        Path | None, typer.Option("--report", help="Write the per-query report here (JSON).")
    ] = None,
    workers: Annotated[int, typer.Option(help="Sandbox worker processes.")] = 2,
    timeout_ms: Annotated[int, typer.Option(help="Per-query deadline.")] = defaults.QUERY_TIMEOUT_MS,
    samples: Annotated[
        int,
        typer.Option(
            help="With --model: also sample N SQL per question and score the answer they vote for "
            "(self-consistency; the greedy answer votes too and wins ties), beside greedy."
        ),
    ] = 0,
    temperature: Annotated[
        float, typer.Option(help="With --samples: sampling temperature.")
    ] = defaults.TEMPERATURE,
    seed: Annotated[int, typer.Option(help="With --samples: sampling seed.")] = 0,
    metric: Annotated[
        str,
        typer.Option(
            help="spider: Spider's execution match (bags of rows, column permutations); bird: BIRD's "
            "(sets of rows, column order kept), reported by the dataset's difficulty."
        ),
    ] = "spider",
    config_file: ConfigOption = None,
) -> None:
    """Execution (EX) and test-suite (TS) accuracy of a prediction set, overall and by hardness;
    with --model, first write that model's predictions for a split (the official evaluator's format),
    and with --samples, the voted answers' accuracy beside the greedy ones'."""
    from dataclasses import asdict

    from cli.predict import resolve_eval_model, voted_predictions, write_predictions
    from services.critic.logic import METRICS, Critic, PredictionIn
    from services.critic.predictions import load_prediction_set
    from services.critic.sandbox import Limits
    from services.critic.sandbox_pool import SandboxPool
    from services.critic.testsuite import SuiteStore

    config = load_config(config_file)
    try:
        if metric not in METRICS:
            raise ValueError(f"--metric must be one of {', '.join(METRICS)}, got {metric!r}")
        if metric == "bird" and test_suite:
            raise ValueError("--test-suite is Spider's check; the bird metric has none")
        if model is not None:
            if dataset is None or out is None:
                raise ValueError(
                    "--model needs --dataset (a Spider-format folder) and --out (predictions file)"
                )
            chosen = resolve_eval_model(model, config.resolved_store_url, shots, config.paths.hub_allow)
            catalogue = Catalogue.load(dataset)
            examples = catalogue.examples(split)
            examples = examples[:limit] if limit else examples
            if precision is not None:
                config.generation.precision = precision
            if not 0 <= samples <= MAX_VOTING_SAMPLES:
                raise ValueError(f"--samples must be within [0, {MAX_VOTING_SAMPLES}], got {samples}")
            predicted, sampled = _predict_split(
                catalogue, examples, chosen, split, config, out, samples, temperature, seed
            )
            predictions = [
                PredictionIn(
                    id=e.id or str(i),
                    db_id=e.db_id,
                    gold_sql=e.query,
                    predicted_sql=p,
                    difficulty=e.difficulty,
                )
                for i, (e, p) in enumerate(zip(examples, predicted, strict=True))
            ]
        else:
            sampled = []
            if samples:
                raise ValueError("--samples needs --model: it samples that model's answers")
            if gold is None or pred is None or db_dir is None:
                raise ValueError("give --gold, --pred and --db-dir, or --model with --dataset and --out")
            predictions = load_prediction_set(gold, pred)
            catalogue = Catalogue.load(db_dir)
            report_path = report_path or out
    except (OSError, ValueError, KeyError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    critic = Critic(catalogue, SandboxPool(workers=workers), Limits(timeout_ms=timeout_ms))
    try:
        if test_suite:
            gold_by_db: dict[str, list[str]] = {}
            for p in predictions:
                gold_by_db.setdefault(p.db_id, []).append(p.gold_sql)
            critic.suites = SuiteStore(
                catalogue,
                config.home / "suites",
                distinguishes=critic.distinguishes,
                gold_queries=gold_by_db,
            )
        with console.status(f"scoring {len(predictions)} predictions..."):
            report, scores = critic.evaluate(predictions, test_suite=test_suite, metric=metric)
        voted_report = None
        if sampled:
            with console.status(f"voting over {samples} samples per question..."):
                voted = voted_predictions(critic, predictions, sampled, test_suite)
                voted_report, voted_scores = critic.evaluate(voted, test_suite=test_suite, metric=metric)
            write_predictions(
                [p.predicted_sql for p in voted],
                out.with_suffix(".voted" + out.suffix),
                [p.db_id for p in voted],
            )
    except Exception as exc:  # noqa: BLE001 - a clear message, not a traceback
        console.print(f"[red]{type(exc).__name__}: {exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        critic.close()
    low, high = wilson_interval(round(report.execution * report.total), report.total)
    table = Table(title=f"{len(predictions)} predictions (EX 95% interval {low:.3f}-{high:.3f})")
    columns = ["difficulty" if metric == "bird" else "hardness", "count", "EX"] + (
        ["TS"] if test_suite else []
    )
    if voted_report is not None:
        columns += [f"EX voted ({samples})"] + ([f"TS voted ({samples})"] if test_suite else [])
    for column in columns:
        table.add_column(column, justify="right")
    rows = [(level, sub) for level, sub in report.by_hardness.items()] + [("all", report)]
    for level, sub in rows:
        cells = [level, str(sub.total), f"{sub.execution:.3f}"] + (
            [f"{sub.test_suite:.3f}"] if test_suite else []
        )
        if voted_report is not None:
            other = voted_report if level == "all" else voted_report.by_hardness.get(level)
            cells += [f"{other.execution:.3f}"] + ([f"{other.test_suite:.3f}"] if test_suite else [])
        table.add_row(*cells)
    console.print(table)
    if voted_report is not None:
        comparison = compare_paired(
            {s.id: s.execution_match for s in voted_scores}, {s.id: s.execution_match for s in scores}
        )
        console.print(
            f"voted vs greedy (EX, paired): {comparison.wins} wins, {comparison.losses} losses, "
            f"{comparison.difference:+.3f}, p = {comparison.p_value:.3f}"
        )
    if report_path:
        document = {"accuracy": asdict(report), "queries": [asdict(s) for s in scores]}
        if voted_report is not None:
            document |= {
                "samples": samples,
                "voted_accuracy": asdict(voted_report),
                "voted_queries": [asdict(s) for s in voted_scores],
            }
        report_path.write_text(json.dumps(document, indent=2))
        console.print(f"per-query report: {report_path}")


def _predict_split(
    catalogue: Catalogue,
    examples: list[Example],
    chosen: EvalModel,
    split: str,
    config: Config,
    out: Path,
    samples: int = 0,
    temperature: float = defaults.TEMPERATURE,
    seed: int = 0,
) -> tuple[list[str], list[list[str]]]:
    """Write a model's greedy predictions for examples to `out`, with a progress bar; with
    samples, also that many sampled SQL per example."""
    from rich.progress import Progress

    from cli.predict import predict, write_predictions
    from shared.fewshot import few_shot_pool

    console.print(
        f"model {chosen.label}: {chosen.path or 'packaged default'}"
        + (f" + adapter {chosen.adapter_path}" if chosen.adapter_path else "")
        + f", {chosen.few_shot_k}-shot prompt"
    )
    with Progress(console=console) as progress:
        task = progress.add_task(f"predicting {len(examples)} questions", total=len(examples))
        predicted, sampled = predict(
            catalogue,
            examples,
            chosen,
            config.home / "models",
            few_shot_pool(catalogue, exclude=split),
            on_progress=lambda done: progress.update(task, completed=done),
            device=config.generation.device,
            precision=config.generation.precision,
            samples=samples,
            temperature=temperature,
            seed=seed,
        )
    write_predictions(predicted, out, [e.db_id for e in examples])
    console.print(f"predictions: {out}")
    return predicted, sampled


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
