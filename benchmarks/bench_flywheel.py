"""The flywheel, measured (`make bench-flywheel`): the bundled train questions replayed as asks
arriving in batches against the real stack (the default model on CPU), with a continuous run on the
question log learning from them. Two arms, each in its own home: with feedback simulated from the
withheld gold (a share of the wrong answers corrected, a share of all answers marked right or wrong)
and without any. Per round: questions in the log, questions a majority labelled and how many of
those labels the withheld gold calls right (report only), corrections so far, and the serving
version's EX on the 90 held-out questions. The run is paused while a batch is asked, so each batch
is one round in both arms: the curves compare at equal questions.

    python -m benchmarks.bench_flywheel [--batches 3] [--batch 40] [--arms feedback,plain]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc
from sqlalchemy import func, select

from benchmarks.bench_distill import SPEC, _share_converted_models, mode_spec
from benchmarks.run_figures import label_outcomes, same_result
from cli.local_stack import LocalStack
from shared.bundled.build import ensure_built
from shared.bundled.locate import bundled_dataset_path
from shared.catalogue import Catalogue
from shared.config import load_config
from shared.grpc_client import DeadlineStub, make_channel
from shared.pb import controller_pb2, controller_pb2_grpc
from shared.pbconvert import enum_text
from shared.stats import wilson_interval
from shared.store import AskedQuestion, Evaluation, Round, Store

ARMS = ("feedback", "plain")


def _share(*parts: Any) -> float:
    """A fixed number in [0, 1) per question: which answers get feedback never depends on timing."""
    digest = hashlib.sha256("\n".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _feedback(stub: Any, catalogue: Catalogue, example: Any, answer: Any, args: argparse.Namespace) -> str:
    """The simulated person: a correction (the withheld gold) for a share of the wrong answers, a
    right/wrong mark for a share of all; what was given ("" for nothing)."""
    right = bool(answer.sql) and same_result(catalogue.path(example.db_id), example.query, answer.sql)
    try:
        if not right and _share("correct", example.question) < args.correct_share:
            stub.Feedback(
                controller_pb2.FeedbackRequest(answer_id=answer.answer_id, corrected_sql=example.query)
            )
            return "corrected"
        if _share("mark", example.question) < args.mark_share:
            verdict = (
                controller_pb2.FEEDBACK_VERDICT_RIGHT if right else controller_pb2.FEEDBACK_VERDICT_WRONG
            )
            stub.Feedback(controller_pb2.FeedbackRequest(answer_id=answer.answer_id, verdict=verdict))
            return "marked"
    except grpc.RpcError as exc:  # e.g. a gold SQL that returns no rows: not a label
        return f"refused ({exc.code().name})"
    return ""


def _wait_round(stub: Any, run_id: str, number: int) -> Any:
    while True:
        rounds = stub.ListRounds(controller_pb2.RunRef(run_id=run_id)).rounds
        done = [r for r in rounds if r.number == number and r.outcome]
        if done:
            return done[0]
        run = stub.GetRun(controller_pb2.RunRef(run_id=run_id))
        if enum_text(controller_pb2.RunState, run.state) in ("failed", "stopped"):
            raise SystemExit(
                f"run {run_id} {enum_text(controller_pb2.RunState, run.state)} in round {number}"
            )
        time.sleep(10)


def _held_out_ex(store: Store, version: str) -> tuple[float, int] | None:
    """EX of a version's latest evaluation on the held-out split alone (not the log's questions)."""
    with store.session() as s:
        evaluation = s.scalars(
            select(Evaluation)
            .where(Evaluation.model_version == version)
            .order_by(Evaluation.created_at.desc())
        ).first()
        if evaluation is None:
            return None
        split = {q: r for q, r in (evaluation.per_question or {}).items() if not q.startswith("log:")}
    return (sum(bool(r[0]) for r in split.values()) / len(split), len(split)) if split else None


def measure_arm(arm: str, args: argparse.Namespace) -> dict[str, Any]:
    home = (args.home / f"{arm}-seed{args.seed}").resolve()
    home.mkdir(parents=True, exist_ok=True)
    _share_converted_models(home)
    model = ""
    if args.model:  # copied under the home: the services load models only from their roots
        model = str(home / "models" / "own" / Path(args.model).name)
        if not Path(model).exists():
            shutil.copytree(args.model, model)
    config = load_config(home=home, **({"generation": {"model": model}} if model else {}))
    catalogue = Catalogue.load(ensure_built(bundled_dataset_path(config)))
    questions = catalogue.examples("train")
    random.Random(args.seed).shuffle(questions)
    overrides: dict[str, Any] = {
        "name": f"bench-flywheel-{arm}",
        "questions_from": "log",
        "continuous": True,
        "min_new_questions": 1,  # the run is paused while a batch is asked: resuming starts the round
        "round_interval_seconds": 10 * 24 * 3600.0,  # the batches decide, not the clock
        "questions_per_round": 0,  # every question of the log not yet labelled
        "seed": args.seed,
        **({"base_model": model} if model else {}),
        **({"samples_per_question": args.samples} if args.samples else {}),
        **({"eval_limit": args.eval_limit} if args.eval_limit else {}),
    }
    spec = mode_spec(args.spec, "unlabelled", overrides)
    stack = LocalStack(config)
    started = time.monotonic()
    table = []
    try:
        stack.start(timeout=1200)
        stub = DeadlineStub(
            controller_pb2_grpc.ControllerServiceStub(make_channel(config.target("controller"))), 900
        )
        run_id = stub.StartRun(controller_pb2.StartRunRequest(spec=spec)).run_id
        store = Store.open(config.resolved_store_url)
        given: dict[str, int] = {}
        for number in range(1, args.batches + 1):
            stub.PauseRun(controller_pb2.RunRef(run_id=run_id))  # one round per batch, after it
            batch = questions[(number - 1) * args.batch : number * args.batch]
            asked_at = time.monotonic()
            for example in batch:
                answer = stub.Ask(controller_pb2.AskRequest(question=example.question, db_id=example.db_id))
                if arm == "feedback":
                    what = _feedback(stub, catalogue, example, answer, args)
                    if what:
                        given[what] = given.get(what, 0) + 1
            ask_minutes = (time.monotonic() - asked_at) / 60
            stub.ResumeRun(controller_pb2.ResumeRunRequest(run_id=run_id))
            rnd = _wait_round(stub, run_id, number)
            serving = stub.GetRun(controller_pb2.RunRef(run_id=run_id)).serving_version
            with store.session() as s:
                logged = s.scalar(select(func.count()).select_from(AskedQuestion))
                minutes = s.scalar(
                    select(Round.figures).where(Round.run_id == run_id, Round.number == number)
                )
            with store.session() as s:
                labels = [v for k, v in label_outcomes(s, catalogue, run_id).items() if k[0] == number]
            held = _held_out_ex(store, serving)
            row = {
                "round": number,
                "questions_in_log": logged,
                "labelled_by_majority": len(labels),
                "labels_right": sum(bool(right) for _, right in labels),
                "feedback_so_far": dict(given),
                "outcome": enum_text(controller_pb2.RoundOutcome, rnd.outcome),
                "serving": serving,
                "serving_ex": round(held[0], 4) if held else None,
                "serving_ex_interval": (
                    [round(x, 4) for x in wilson_interval(round(held[0] * held[1]), held[1])]
                    if held
                    else None
                ),
                "held_out_questions": held[1] if held else 0,
                "ask_minutes": round(ask_minutes, 1),
                "round_figures": minutes or {},
            }
            table.append(row)
            print(f"[{arm}] {json.dumps(row)}", flush=True)
        stub.StopRun(controller_pb2.RunRef(run_id=run_id))
        store.close()
    finally:
        stack.stop()
    exs = [r["serving_ex"] for r in table if r["serving_ex"] is not None]
    return {
        "arm": arm,
        "run_id": run_id,
        "rounds": table,
        "serving_ex_never_dropped": all(b >= a for a, b in zip(exs, exs[1:], strict=False)),
        "total_minutes": round((time.monotonic() - started) / 60, 1),
    }


def print_arms(results: list[dict[str, Any]]) -> None:
    print(
        "\narm       round  log  labelled (right)  feedback so far                 serving EX [95% CI]     outcome"
    )
    for result in results:
        for r in result["rounds"]:
            print(
                f"{result['arm']:<9} {r['round']:>5} {r['questions_in_log']:>4} {r['labelled_by_majority']:>9} "
                f"({r['labels_right']:>3})     {json.dumps(r['feedback_so_far']):<31} {r['serving_ex']!s:>6} "
                f"{r['serving_ex_interval']!s:<17} {r['outcome']}"
            )
        print(f"{result['arm']}: serving EX never dropped: {result['serving_ex_never_dropped']}")
    by_arm = {r["arm"]: r["rounds"][-1]["serving_ex"] for r in results if r["rounds"]}
    if by_arm.get("feedback") is not None and by_arm.get("plain") is not None:
        gain = by_arm["feedback"] - by_arm["plain"]
        print(f"at equal questions, feedback - plain: {gain:+.4f} EX (target >= +0.03)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path(".bench/flywheel.json"))
    parser.add_argument("--spec", type=Path, default=SPEC, help="YAML run spec (its unlabelled mode)")
    parser.add_argument("--arms", default=",".join(ARMS))
    parser.add_argument("--batches", type=int, default=3, help="batches of asks, one round each")
    parser.add_argument("--batch", type=int, default=40, help="questions asked per batch")
    parser.add_argument("--correct-share", type=float, default=0.1, help="wrong answers given the gold SQL")
    parser.add_argument("--mark-share", type=float, default=0.1, help="answers marked right or wrong")
    parser.add_argument("--samples", type=int, default=0, help="override the spec's samples_per_question")
    parser.add_argument("--eval-limit", type=int, default=0, help="override the spec's eval_limit")
    parser.add_argument("--model", default="", help="a model folder instead of the packaged default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--home", type=Path, default=Path(".bench/flywheel-home"))
    args = parser.parse_args()
    results = []
    for arm in args.arms.split(","):
        if arm not in ARMS:
            raise SystemExit(f"unknown arm {arm!r}; expected {', '.join(ARMS)}")
        print(f"{datetime.now():%H:%M:%S} starting {arm}", flush=True)
        results.append(measure_arm(arm, args))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2, default=str))
    print_arms(results)
    print(f"\nfigures: {args.out}")


if __name__ == "__main__":
    main()
