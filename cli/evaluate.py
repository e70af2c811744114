"""`sqldistill eval`: score a prediction file against gold, or a model's predictions (greedy, and
voted over samples when asked) on a dataset split - in process, with the critic's own code, so it
needs no running stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cli.connect import ConfigOption
from cli.consoles import make_console
from shared import defaults
from shared.catalogue import Catalogue, Example
from shared.config import Config, load_config
from shared.limits import CONSTRAIN_MODES, MAX_REPAIR_ATTEMPTS, MAX_VOTING_SAMPLES
from shared.stats import wilson_interval

if TYPE_CHECKING:
    from offline.evaluation import Evaluation
    from offline.models import EvalModel
    from shared.answering import Answer

console = make_console()


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
        typer.Option(
            help=f"With --model: few-shot examples (default: a version's own prompt, {defaults.FEW_SHOT_K} for a base)."
        ),
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
    workers: Annotated[
        int | None, typer.Option(help="Sandbox worker processes (default: critic.workers).")
    ] = None,
    timeout_ms: Annotated[
        int | None, typer.Option(help="Per-query deadline (default: critic.timeout_ms).")
    ] = None,
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
    repair: Annotated[
        int,
        typer.Option(
            help="With --model: repair attempts - SQL that fails to run is written again with the "
            "database's error, and the repairs vote with the answer (scored as 'EX voted')."
        ),
    ] = defaults.REPAIR_ATTEMPTS,
    constrain: Annotated[
        str | None,
        typer.Option(
            help="With --model: off, identifiers or full - hold the SQL to each database's grammar "
            "(default: generation.constrain)."
        ),
    ] = None,
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
    from offline.evaluation import METRICS, load_prediction_set, open_critic, predictions_for, report_document
    from offline.evaluation import evaluate as score
    from offline.models import resolve_eval_model
    from offline.prediction import write_predictions

    config = load_config(config_file)
    answers: list[Answer] = []
    voting: list[Answer] = []  # with --samples: the answers the critic votes on
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
            if constrain is not None:
                if constrain not in CONSTRAIN_MODES:
                    raise ValueError(
                        f"--constrain must be one of {', '.join(CONSTRAIN_MODES)}, got {constrain!r}"
                    )
                config.generation.constrain = constrain
            if not 0 <= samples <= MAX_VOTING_SAMPLES:
                raise ValueError(f"--samples must be within [0, {MAX_VOTING_SAMPLES}], got {samples}")
            if not 0 <= repair <= MAX_REPAIR_ATTEMPTS:
                raise ValueError(f"--repair must be within [0, {MAX_REPAIR_ATTEMPTS}], got {repair}")
            answers = _predict_split(
                catalogue, examples, chosen, split, config, samples, temperature, seed, repair, workers
            )
            write_predictions([a.greedy for a in answers], out, [e.db_id for e in examples])
            console.print(f"predictions: {out}")
            predictions = predictions_for(examples, [a.greedy for a in answers])
            voting = answers if samples or repair else []  # greedy only: nothing to vote
        else:
            if samples or repair:
                raise ValueError("--samples and --repair need --model: they write that model's answers")
            if gold is None or pred is None or db_dir is None:
                raise ValueError("give --gold, --pred and --db-dir, or --model with --dataset and --out")
            predictions = load_prediction_set(gold, pred)
            catalogue = Catalogue.load(db_dir)
            report_path = report_path or out
    except (OSError, ValueError, KeyError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    critic = open_critic(  # the critic service's limits (config.critic): scores as a run's gate does
        catalogue,
        predictions,
        settings=config.critic,
        workers=workers,
        timeout_ms=timeout_ms,
        suites=config.home / "suites" if test_suite else None,
    )
    try:
        what = f"scoring {len(predictions)} predictions" + (
            f", voting over {samples} samples each" if samples else ""
        )
        what += ", with repairs" if repair else ""
        with console.status(what + "..."):
            evaluation = score(critic, predictions, voting, test_suite=test_suite, metric=metric)
        if evaluation.voted is not None and out is not None:
            voted = evaluation.voted.predictions
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
    _print(evaluation, metric, test_suite, f"{samples}" + (" + repair" if repair else ""))
    if report_path:
        document = report_document(evaluation, voting, samples)
        if model is not None:  # how its SQL was written
            document["constrain"] = config.generation.constrain
        report_path.write_text(json.dumps(document, indent=2))
        console.print(f"per-query report: {report_path}")


def _print(evaluation: Evaluation, metric: str, test_suite: bool, samples: str) -> None:
    report, voted = evaluation.greedy.report, evaluation.voted
    low, high = wilson_interval(round(report.execution * report.total), report.total)
    table = Table(title=f"{report.total} predictions (EX 95% interval {low:.3f}-{high:.3f})")
    columns = ["difficulty" if metric == "bird" else "hardness", "count", "EX"] + (
        ["TS"] if test_suite else []
    )
    if voted is not None:
        columns += [f"EX voted ({samples})"] + ([f"TS voted ({samples})"] if test_suite else [])
    for column in columns:
        table.add_column(column, justify="right")
    rows = [(level, sub) for level, sub in report.by_hardness.items()] + [("all", report)]
    for level, sub in rows:
        cells = [level, str(sub.total), f"{sub.execution:.3f}"] + (
            [f"{sub.test_suite:.3f}"] if test_suite else []
        )
        if voted is not None:
            other = voted.report if level == "all" else voted.report.by_hardness.get(level)
            cells += [f"{other.execution:.3f}"] + ([f"{other.test_suite:.3f}"] if test_suite else [])
        table.add_row(*cells)
    console.print(table)
    comparison = evaluation.voted_vs_greedy()
    if comparison is not None:
        console.print(
            f"voted vs greedy (EX, paired): {comparison.wins} wins, {comparison.losses} losses, "
            f"{comparison.difference:+.3f}, p = {comparison.p_value:.3f}"
        )


def _predict_split(
    catalogue: Catalogue,
    examples: list[Example],
    chosen: EvalModel,
    split: str,
    config: Config,
    samples: int = 0,
    temperature: float = defaults.TEMPERATURE,
    seed: int = 0,
    repair: int = defaults.REPAIR_ATTEMPTS,
    workers: int | None = None,
) -> list[Answer]:
    """A model's greedy answers for examples, with a progress bar; with samples, that many sampled
    SQL per example too; with repair, failing SQL repaired (a critic runs it), all unsettled (the
    critic that scores them votes)."""
    from rich.progress import Progress

    from offline.evaluation import open_critic
    from offline.prediction import answer_examples, critic_voter, generator_writer, load_generator
    from shared.fewshot import few_shot_pool

    console.print(
        f"model {chosen.label}: {chosen.path or 'packaged default'}"
        + (f" + adapter {chosen.adapter_path}" if chosen.adapter_path else "")
        + f", {chosen.few_shot_k}-shot prompt, constrain {config.generation.constrain}"
    )
    generator = load_generator(
        catalogue,
        chosen,
        config.home / "models",
        few_shot_pool(catalogue, exclude=split),
        device=config.generation.device,
        precision=config.generation.precision,
        constrain=config.generation.constrain,
    )
    checker = open_critic(catalogue, settings=config.critic, workers=workers) if repair else None
    try:
        with Progress(console=console) as progress:
            task = progress.add_task(f"predicting {len(examples)} questions", total=len(examples))
            return answer_examples(
                examples,
                generator_writer(generator, chosen.few_shot_k),
                samples=samples,
                temperature=temperature,
                seed=seed,
                repair_attempts=repair,
                check=critic_voter(checker) if checker is not None else None,
                on_progress=lambda done: progress.update(task, completed=done),
            )
    finally:
        if checker is not None:
            checker.close()


def register(app: typer.Typer) -> None:
    app.command(name="eval")(evaluate)
