"""The question-only ablation (`make bench-distill`): one run per arm and seed of
benchmarks/ablation.yaml (today's recipe, + repair, + DPO, + int8 sampling, all), each through the
real services in its own home (bench_distill.measure_mode), evaluated on the bundled held-out
questions. Per arm and seed: questions labelled by majority and how many were right by the withheld
gold (read for the report only), minutes per step, EX with its interval, wins/losses against the
base and the parent, and the gold gate's decision; with --gold-free-gate also what the gold-free
gate decides on the same pair (benchmarks/gate_agreement.py), for its calibration. Prints a table,
writes JSON, asserts nothing.

    python -m benchmarks.bench_ablation [--arms recipe,dpo] [--seeds 0,1] [--rounds N]
        [--gold-free-gate] [--out .bench/ablation.json] [--reread | --extend-to ROUNDS]
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from benchmarks.bench_distill import SPEC, extend_run, measure_mode
from benchmarks.run_figures import run_result
from services.controller.settings import RunSettings
from shared.bundled.build import ensure_built
from shared.bundled.locate import bundled_dataset_path
from shared.config import Config, load_config
from shared.store import Run, Store

ARMS = Path(__file__).with_name("ablation.yaml")


def finished_run(
    home: Path, name: str, states: tuple[str, ...] = ("completed",)
) -> tuple[Path, Config, str] | None:
    """(home, config, run id) of the last run of this name (the bench names a run after its arm) in
    one of these states in an arm's home, if there is one."""
    if not (home / "store.db").is_file():
        return None
    config = load_config(home=home.resolve())
    store = Store.open(config.resolved_store_url)
    try:
        with store.session() as s:
            run = s.scalars(
                select(Run).where(Run.state.in_(states), Run.name == name).order_by(Run.created_at.desc())
            ).first()
            return (home.resolve(), config, run.id) if run else None
    finally:
        store.close()


def gate_pairs(result: dict[str, Any]) -> list[tuple[int, str, str]]:
    """(round, candidate, parent) for every round that trained a version."""
    return [
        (r["round"], r["version"], r["parent"])
        for r in result["rounds"]
        if r.get("version") and r.get("parent")
    ]


def gold_free_decisions(result: dict[str, Any], samples: int, precision: str) -> list[dict[str, Any]]:
    """The gold-free gate on each of the run's (candidate, parent) pairs beside the gold gate."""
    from benchmarks.gate_agreement import agreement

    home = Path(result["home"])
    dataset = ensure_built(bundled_dataset_path(load_config(home=home)))
    out = []
    for number, candidate, parent in gate_pairs(result):
        print(f"[{result['arm']}] gold-free gate, round {number}: {candidate} vs {parent}", flush=True)
        document = agreement(
            candidate,
            parent,
            dataset,
            samples=samples,
            store_url=result["store_url"],
            precision=precision,
            home=home,
            cache=home.parent / "gate-answers",  # a version answers once, the base once for every arm
        )
        out.append({"round": number} | document)
    return out


def print_table(results: list[dict[str, Any]]) -> None:
    print(
        "\narm      seed round labelled right  gen  judge train  eval   EX     95% CI          "
        "W/L base  W/L parent  gate (gold)  by vote  by review"
    )
    for result in results:
        free = {d["round"]: d for d in result.get("gold_free_gate", [])}
        for r in result["rounds"]:
            m = r["minutes"]
            ci = r.get("ex_interval") or ["-", "-"]
            decision = free.get(r["round"])
            free_text = " ".join(
                f"{'roll out' if decision[key]['roll_out'] else 'reject':<8}"
                if decision and key in decision
                else "-"
                for key in ("gold_free", "gold_free_review")
            )
            print(
                f"{result['arm']:<8} {result['seed']:>4} {r['round']:>5} {r.get('labelled', '-')!s:>8} "
                f"{r.get('labels_right', '-')!s:>5} {m.get('GENERATE', 0):>5} {m.get('JUDGE', 0):>5} "
                f"{m.get('TRAIN', 0):>5} {m.get('EVALUATE', 0):>5} {r.get('ex', '-')!s:>6} {str(ci):<15} "
                f"{r.get('wins_vs_base', '-')!s:>3}/{r.get('losses_vs_base', '-')!s:<5} "
                f"{r.get('wins_vs_parent', '-')!s:>4}/{r.get('losses_vs_parent', '-')!s:<6} "
                f"{r['outcome']!s:<12} {free_text}"
            )
        print(
            f"{result['arm']:<8} {result['seed']:>4} base EX {result['base'].get('ex')}; best rolled-out gain "
            f"{result['best_rolled_out_gain_vs_base']}; {result['total_minutes']} min"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--arms-file", type=Path, default=ARMS)
    parser.add_argument("--spec", type=Path, default=SPEC, help="the run spec every arm starts from")
    parser.add_argument("--arms", default="", help="comma-separated arm names (default: all in the file)")
    parser.add_argument("--seeds", default="", help="comma-separated seeds (default: the file's)")
    parser.add_argument("--rounds", type=int, default=0, help="override the spec's rounds")
    parser.add_argument("--home", type=Path, default=Path(".bench/ablation-home"))
    parser.add_argument("--gold-free-gate", action="store_true", help="also decide each pair without gold")
    parser.add_argument("--gate-samples", type=int, default=RunSettings().gate_samples)
    parser.add_argument("--gate-precision", default="fp32")
    parser.add_argument("--out", type=Path, default=Path(".bench/ablation.json"))
    parser.add_argument(
        "--reread",
        action="store_true",
        help="an arm whose home holds a finished run is read back, not run again",
    )
    parser.add_argument(
        "--extend-to",
        type=int,
        default=0,
        help="bring an arm's run (finished or cut short) to this many rounds, then read it back",
    )
    args = parser.parse_args()
    plan = yaml.safe_load(args.arms_file.read_text())
    arms: dict[str, dict[str, Any]] = plan["arms"]
    chosen = args.arms.split(",") if args.arms else list(arms)
    unknown = sorted(set(chosen) - set(arms))
    if unknown:
        raise SystemExit(f"unknown arms {', '.join(unknown)}; {args.arms_file} has {', '.join(arms)}")
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else list(plan["seeds"])
    results: list[dict[str, Any]] = []
    for seed in seeds:
        for arm in chosen:
            print(f"{datetime.now():%H:%M:%S} starting {arm}, seed {seed}", flush=True)
            run_args = argparse.Namespace(
                spec=args.spec, seed=seed, rounds=args.rounds, home=args.home, spider_train=None, spider_dbs=0
            )
            fields = {**(plan.get("common") or {}), **(arms[arm] or {})}
            home = args.home / f"{arm}-seed{seed}"
            if args.extend_to:  # a run cut short while extended is running still: recovery finishes it
                finished = finished_run(home, f"bench-{arm}", ("completed", "running", "paused"))
                if not finished:
                    raise SystemExit(f"--extend-to: {home} holds no run of the {arm} arm to extend")
                extend_run(finished[0], finished[2], args.extend_to)  # read back whatever it ended as
            else:
                finished = finished_run(home, f"bench-{arm}") if args.reread else None
            if finished:
                print(f"[{arm}] re-reading run {finished[2]}", flush=True)
                result = run_result(plan["mode"], arm, *finished) | {"seed": seed}
            else:
                result = measure_mode(plan["mode"], run_args, fields, label=arm) | {"seed": seed}
            if args.gold_free_gate:
                result["gold_free_gate"] = gold_free_decisions(result, args.gate_samples, args.gate_precision)
            results.append(result)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, indent=2, default=str))
            print_table([result])
    print_table(results)
    print(f"\nfigures: {args.out}")


if __name__ == "__main__":
    main()
