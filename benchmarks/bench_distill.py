"""Recursive distillation, measured (`make bench-distill`): the default model on CPU, rounds on the
bundled databases through the real services, in two modes - labelled (train-split questions; gold
SQL used only by the critic) and self-instruct (no gold anywhere in the loop) - each evaluated on the
bundled held-out questions. Per round it prints generated, kept, training-set size, minutes per step,
EX with its 95% interval, wins/losses against the base (paired, same questions), and the gate's
decision. Each mode runs in its own home (its own store), so the modes do not share a lineage.
Figures read back from a run's store: benchmarks/run_figures.py.

    python -m benchmarks.bench_distill [--modes labelled,self_instruct] [--rounds 3] [--spec FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from benchmarks.run_figures import run_result
from cli.local_stack import LocalStack
from shared.bundled.build import ensure_built
from shared.bundled.locate import bundled_dataset_path
from shared.catalogue import Catalogue
from shared.config import REPO_ROOT, load_config
from shared.grpc_client import DeadlineStub, make_channel
from shared.pb import controller_pb2, controller_pb2_grpc
from shared.pbconvert import enum_text
from shared.run_spec import build_run_spec

SPEC = Path(__file__).with_name("distill.yaml")


def _share_converted_models(home: Path) -> None:
    """Point the bench home's base models at the repo's (converted once, 2.5 GB each)."""
    shared = REPO_ROOT / "var" / "models" / "base"
    target = home / "models" / "base"
    if shared.is_dir() and not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(shared, target)


def _wait(stub: Any, run_id: str) -> controller_pb2.Run:
    while True:
        run = stub.GetRun(controller_pb2.RunRef(run_id=run_id))
        if enum_text(controller_pb2.RunState, run.state) in ("completed", "failed", "stopped"):
            return run
        time.sleep(10)


def mode_spec(path: Path, mode: str, overrides: dict[str, Any]) -> controller_pb2.RunSpec:
    """The bench spec's fields, its `modes` entry for this mode over them, then the overrides."""
    fields = yaml.safe_load(path.read_text()) or {}
    per_mode = (fields.pop("modes", None) or {}).get(mode) or {}
    sampling = fields.pop("sampling", None) or {}
    return build_run_spec(None, {**fields, **sampling, **per_mode, "mode": mode, **overrides})


SPIDER_TRAIN_MAX_BYTES = 1_000_000  # skip the few large databases: their test suites take minutes


def spider_train_dataset(home: Path, source: Path, count: int, seed: int) -> tuple[Path, list[str]]:
    """A Spider-format folder beside the bench home: `count` databases drawn (seeded) from a folder
    of real schemas such as ../shared/spider-train, for self-instruct to train on, and the bundled
    databases with their seed and held-out questions, for the prompts' examples and the evaluation
    (the same 90 held-out questions as every other mode). Databases are linked, never copied."""
    import random

    folder = home / "dataset"
    bundled = Catalogue.load(ensure_built(bundled_dataset_path(load_config(home=home))))
    candidates = sorted(
        p.name
        for p in (source / "database").iterdir()
        if (p / f"{p.name}.sqlite").is_file()
        and (p / f"{p.name}.sqlite").stat().st_size <= SPIDER_TRAIN_MAX_BYTES
        and p.name not in bundled.databases
    )
    chosen = sorted(random.Random(seed).sample(candidates, min(count, len(candidates))))
    (folder / "database").mkdir(parents=True, exist_ok=True)
    for db_id in chosen:
        link = folder / "database" / db_id
        if not link.exists():
            os.symlink((source / "database" / db_id).resolve(), link)
    for db_id, path in bundled.databases.items():
        link = folder / "database" / db_id
        if not link.exists():
            os.symlink(path.parent.resolve(), link)
    for split in ("seed", "dev"):
        for path in bundled.split_files.get(split, ()):
            (folder / path.name).write_bytes(path.read_bytes())
    return folder, chosen


def measure_mode(
    mode: str, args: argparse.Namespace, extra: dict[str, Any] | None = None, label: str = ""
) -> dict[str, Any]:
    """One run of this mode in its own home (named by `label`, default the mode), with `extra`
    spec fields over the bench spec's (an ablation's arm)."""
    name = label or mode
    home = (args.home / f"{name}-seed{args.seed}" if args.seed is not None else args.home / name).resolve()
    if args.spider_train:
        home = home.with_name(home.name + f"-spider{args.spider_dbs}")
    home.mkdir(parents=True, exist_ok=True)
    _share_converted_models(home)
    config = load_config(home=home)
    training_dbs: list[str] = []
    if args.spider_train:
        if mode != "self_instruct":
            raise SystemExit("--spider-train is for the self_instruct mode: its databases have no questions")
        dataset, training_dbs = spider_train_dataset(home, args.spider_train, args.spider_dbs, args.seed or 0)
        config = load_config(home=home, dataset=dataset)
        print(f"[{mode}] training databases from {args.spider_train}: {', '.join(training_dbs)}", flush=True)
    stack = LocalStack(config)
    started = time.monotonic()
    try:
        stack.start(timeout=1200)
        stub = DeadlineStub(
            controller_pb2_grpc.ControllerServiceStub(make_channel(config.target("controller"))), 60
        )
        overrides: dict[str, Any] = {"name": f"bench-{name}", **(extra or {})}
        if args.rounds:
            overrides["rounds"] = args.rounds
        if args.seed is not None:
            overrides["seed"] = args.seed
        if training_dbs:
            overrides["db_ids"] = training_dbs
        spec = mode_spec(args.spec, mode, overrides)
        run = stub.StartRun(controller_pb2.StartRunRequest(spec=spec))
        print(f"[{name}] run {run.run_id} started", flush=True)
        final = _wait(stub, run.run_id)
    finally:
        stack.stop()
    return run_result(mode, name, home, config, final.run_id, (time.monotonic() - started) / 60)


def extend_run(home: Path, run_id: str, rounds: int) -> None:
    """Bring a bench home's run to `rounds` rounds (`sqldistill resume --more-rounds`) and wait for
    them, on a stack started over that home as the bench started it. Idempotent: a run already
    given them (or cut short while running them, which the controller's recovery resumes) only
    gets waited for."""
    config = load_config(home=home)
    stack = LocalStack(config)
    try:
        stack.start(timeout=1200)
        stub = DeadlineStub(
            controller_pb2_grpc.ControllerServiceStub(make_channel(config.target("controller"))), 60
        )
        run = stub.GetRun(controller_pb2.RunRef(run_id=run_id))
        if run.spec.rounds < rounds:
            more = rounds - run.spec.rounds
            stub.ResumeRun(controller_pb2.ResumeRunRequest(run_id=run_id, more_rounds=more))
            print(f"[{home.name}] run {run_id}: {more} more round(s), {rounds} in all", flush=True)
        elif enum_text(controller_pb2.RunState, run.state) == "paused":
            stub.ResumeRun(controller_pb2.ResumeRunRequest(run_id=run_id))
        _wait(stub, run_id)
    finally:
        stack.stop()


def print_mode(result: dict[str, Any]) -> None:
    base = result["base"]
    print(
        f"\n== {result['mode']}: run {result['run_id']} {result['state']} in {result['total_minutes']} min; "
        f"base EX {base.get('ex')} {base.get('ex_interval')} on {base.get('questions')} questions"
    )
    print(
        "round generated kept dataset  gen  judge train  eval   EX     95% CI          W/L vs base  gain   p      gate"
    )
    for r in result["rounds"]:
        if "asked" in r:
            print(
                f"      round {r['round']}: {r['asked']} questions asked, {r['labelled']} labelled by majority, "
                f"{r['labels_right']} of those right by the withheld gold"
            )
        if "pairs" in r:
            print(
                f"      round {r['round']}: {r['pairs']} pairs written in {r['pair_seconds']} s, "
                f"{r['near_duplicates']} near-duplicates dropped, re-answers {r['reanswer_seconds']} s; "
                f"{r['questions_kept']} questions kept"
            )
    for r in result["rounds"]:
        m = r["minutes"]
        ci = r.get("ex_interval") or ["-", "-"]
        print(
            f"{r['round']:>5} {r['generated']:>9} {r['kept']:>4} {r['dataset_size']:>7} "
            f"{m.get('GENERATE', 0):>5} {m.get('JUDGE', 0):>5} {m.get('TRAIN', 0):>5} {m.get('EVALUATE', 0):>5} "
            f"{r.get('ex', '-'):>6} {str(ci):<15} {r.get('wins_vs_base', '-')!s:>4}/{r.get('losses_vs_base', '-')!s:<4} "
            f"{r.get('gain_vs_base', '-')!s:>6} {r.get('p_vs_base', '-')!s:>6} {r['outcome']}"
        )
    print(
        f"best rolled-out gain over base: {result['best_rolled_out_gain_vs_base']}; "
        f"every rollout >= its parent: {result['every_rollout_at_least_its_parent']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path(".bench/distill.json"))
    parser.add_argument("--spec", type=Path, default=SPEC, help="YAML run spec shared by the modes")
    parser.add_argument("--modes", default="labelled,unlabelled,self_instruct")
    parser.add_argument("--seed", type=int, default=None, help="override the spec's seed (own home per seed)")
    parser.add_argument("--rounds", type=int, default=0, help="override the spec's rounds")
    parser.add_argument("--home", type=Path, default=Path(".bench/distill-home"))
    parser.add_argument(
        "--spider-train",
        type=Path,
        default=None,
        help="self_instruct on databases drawn from this Spider-format folder (e.g. ../shared/spider-train)",
    )
    parser.add_argument("--spider-dbs", type=int, default=16, help="with --spider-train: databases drawn")
    args = parser.parse_args()
    results = []
    for mode in args.modes.split(","):
        print(f"{datetime.now():%H:%M:%S} starting {mode}", flush=True)
        result = measure_mode(mode, args)
        print_mode(result)
        results.append(result)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nfigures: {args.out}")


if __name__ == "__main__":
    main()
