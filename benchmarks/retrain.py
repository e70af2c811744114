"""A stored round trained again with other training settings on the same frozen dataset, then scored
as the gate scores (`sqldistill eval` on the run's held-out split and limit, test suites on) and
paired - EX and TS - against the round's own version and the base on the same questions: what a
training setting is worth with the labels held fixed (a second epoch, another learning rate) - the
same labels, so the difference is the setting's and the trainer's seed alone. Prints and writes
JSON; asserts nothing.

    python -m benchmarks.retrain --home HOME [--round 1] --set epochs=1 [--set learning_rate=1e-4] [--out F]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from services.controller.evaluation_keys import unique_ids
from services.controller.settings import RunSettings
from services.trainer.job_spec import TrainingParams, TrainSpec
from shared.config import REPO_ROOT
from shared.stats import compare_paired
from shared.store import Evaluation, ModelVersion, Run, Store, TrainingJob


def stored_round(home: Path, round_number: int) -> dict[str, Any]:
    """The round's training job (its spec in home/jobs), its version and the gate's evaluations of
    that version and of the base (the run's split, limit, test suites and voting), from the home's
    store (its one run)."""
    store = Store.open(f"sqlite:///{(home / 'store.db').resolve()}", migrate=False)
    try:
        with store.session() as s:
            (run,) = s.scalars(select(Run)).all()
            settings = RunSettings.from_dict(run.spec)
            job = s.scalars(
                select(TrainingJob)
                .where(TrainingJob.run_id == run.id, TrainingJob.round == round_number)
                .order_by(TrainingJob.created_at.desc())
            ).first()
            if job is None or job.state != "SUCCEEDED":
                raise SystemExit(f"{home}: round {round_number} has no finished training job")
            head = f"{settings.eval_split}:{settings.eval_limit or 'all'}:ts={int(settings.test_suite)}:"

            def gate_evaluation(version: str) -> Evaluation:
                found = [
                    e
                    for e in s.scalars(
                        select(Evaluation)
                        .where(Evaluation.model_version == version, Evaluation.split.startswith(head))
                        .order_by(Evaluation.id)
                    )
                    if ("vote=" in e.split) == bool(settings.eval_samples)
                ]
                if not found:
                    raise SystemExit(f"{home}: no evaluation of {version} on {head}")
                return found[-1]

            base = next(v.version for v in s.scalars(select(ModelVersion)) if not v.artifact_path)
            mine, base_eval = gate_evaluation(job.version), gate_evaluation(base)
            return {
                "job": job.id,
                "version": job.version,
                "settings": settings,
                "version_scores": mine.per_question,
                "base_scores": base_eval.per_question,
            }
    finally:
        store.close()


def changed_params(params: TrainingParams, settings: list[str]) -> TrainingParams:
    """The training params with each `name=value` applied, typed as the field's default is."""
    changes: dict[str, Any] = {}
    fields = {f.name: f for f in dataclasses.fields(TrainingParams)}
    for setting in settings:
        name, _, value = setting.partition("=")
        if name not in fields:
            raise SystemExit(f"--set {setting}: TrainingParams has no field {name!r}")
        kind = type(getattr(params, name))
        changes[name] = value.lower() in ("1", "true", "yes") if kind is bool else kind(value)
    return dataclasses.replace(params, **changes)


def _paired(new: dict[str, list[bool]], old: dict[str, list[bool]]) -> dict[str, Any]:
    """The retrained version (the candidate) against another on the questions both answered: EX and
    TS (the gate's measure when test suites are on)."""
    out: dict[str, Any] = {}
    for index, measure in enumerate(("ex", "ts")):
        c = compare_paired(
            {k: bool(v[index]) for k, v in new.items()}, {k: bool(v[index]) for k, v in old.items()}
        )
        out[measure] = {
            "questions": c.questions,
            "wins": c.wins,
            "losses": c.losses,
            "difference": round(c.difference, 4),
            "p": round(c.p_value, 4),
        }
    return out


def _share(scores: dict[str, list[bool]], index: int) -> float:
    return round(sum(bool(v[index]) for v in scores.values()) / len(scores), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, required=True, help="a bench run's home (one run)")
    parser.add_argument("--round", type=int, default=1)
    parser.add_argument("--set", action="append", default=[], help="a training param: name=value")
    parser.add_argument("--out", type=Path, default=Path(".bench/retrain.json"))
    args = parser.parse_args()
    home = args.home.resolve()
    found = stored_round(home, args.round)
    settings = found["settings"]
    if settings.eval_samples:
        raise SystemExit("the run's gate voted over samples; this re-scores greedy answers only")
    spec = TrainSpec.load(home / "jobs" / found["job"] / "spec.json")
    params = changed_params(spec.params, args.set)
    name = "retrain-r{}-{}".format(args.round, "-".join(s.replace("=", "") for s in args.set) or "same")
    folder = home / "retrain" / name
    folder.mkdir(parents=True, exist_ok=True)
    spec = dataclasses.replace(
        spec,
        job_id=name,
        output_dir=str(folder / "version"),
        work_dir=str(folder / "work"),
        version=f"{found['version']}-{name}",
        params=params,
    )
    (folder / "work").mkdir(exist_ok=True)
    spec.dump(folder / "spec.json")
    env = {**os.environ, "SQLDISTILL_HOME": str(home)}
    started = time.monotonic()
    if not (folder / "version" / "manifest.json").is_file():  # a finished retrain is scored again only
        subprocess.run(
            [sys.executable, "-m", "services.trainer.train", str(folder / "spec.json")],
            check=True,
            cwd=REPO_ROOT,
            env=env,
        )
    train_minutes = (time.monotonic() - started) / 60
    started = time.monotonic()
    report = folder / "eval.json"
    subprocess.run(
        [sys.executable, "-m", "cli.main", "eval", "--model", str(folder / "version")]
        + ["--dataset", str(home / "bundled"), "--split", settings.eval_split, "--test-suite"]
        + (["--limit", str(settings.eval_limit)] if settings.eval_limit else [])
        + ["--out", str(folder / "preds.txt"), "--report", str(report)],
        check=True,
        cwd=REPO_ROOT,
        env=env,
    )
    queries = json.loads(report.read_text())["queries"]
    ids = unique_ids([q["id"] for q in queries])  # as the gate keys a split's questions
    new = {
        i: [bool(q["execution_match"]), bool(q["test_suite_match"])]
        for i, q in zip(ids, queries, strict=True)
    }
    result = {
        "home": str(home),
        "round": args.round,
        "set": args.set,
        "params": dataclasses.asdict(params),
        "minutes": {"train": round(train_minutes, 1), "eval": round((time.monotonic() - started) / 60, 1)},
        "ex": _share(new, 0),
        "ts": _share(new, 1),
        "round_version": {"ex": _share(found["version_scores"], 0), "ts": _share(found["version_scores"], 1)},
        "base": {"ex": _share(found["base_scores"], 0), "ts": _share(found["base_scores"], 1)},
        "vs_round_version": _paired(new, found["version_scores"]),
        "vs_base": _paired(new, found["base_scores"]),
    }
    print(json.dumps(result, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
