"""A stored round trained again with other training settings on the same frozen dataset, then scored
as the gate scores (`sqldistill eval` on the run's held-out split, test suites on) and paired
against the round's own version and the base on the same questions: what a training setting is
worth with the labels held fixed (a second epoch, another learning rate) - the same labels, so the
difference is the setting's and the trainer's seed alone. Prints and writes JSON; asserts nothing.

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

from benchmarks.run_figures import ex_by_question
from services.trainer.job_spec import TrainingParams, TrainSpec
from shared.config import REPO_ROOT
from shared.stats import compare_paired
from shared.store import Evaluation, ModelVersion, Run, Store, TrainingJob


def stored_round(home: Path, round_number: int) -> dict[str, Any]:
    """The round's training job (its spec in home/jobs), its version and the gate's evaluations of
    that version and of the base, from the home's store (its one run)."""
    store = Store.open(f"sqlite:///{(home / 'store.db').resolve()}", migrate=False)
    try:
        with store.session() as s:
            (run,) = s.scalars(select(Run)).all()
            job = s.scalars(
                select(TrainingJob)
                .where(TrainingJob.run_id == run.id, TrainingJob.round == round_number)
                .order_by(TrainingJob.created_at.desc())
            ).first()
            if job is None or job.state != "SUCCEEDED":
                raise SystemExit(f"{home}: round {round_number} has no finished training job")
            split = run.spec.get("eval_split") or "dev"
            evaluations = {
                e.model_version: e
                for e in s.scalars(select(Evaluation).where(Evaluation.split.like(f"{split}:%")))
            }
            base = next(v.version for v in s.scalars(select(ModelVersion)) if not v.artifact_path)
            return {
                "job": job.id,
                "version": job.version,
                "split": split,
                "version_ex": ex_by_question(evaluations[job.version]),
                "base_ex": ex_by_question(evaluations[base]),
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


def _paired(new: dict[str, bool], old: dict[str, bool]) -> dict[str, Any]:
    c = compare_paired(new, old)  # the retrained version as the candidate
    return {
        "wins": c.wins,
        "losses": c.losses,
        "difference": round(c.difference, 4),
        "p": round(c.p_value, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, required=True, help="a bench run's home (one run)")
    parser.add_argument("--round", type=int, default=1)
    parser.add_argument("--set", action="append", default=[], help="a training param: name=value")
    parser.add_argument("--out", type=Path, default=Path(".bench/retrain.json"))
    args = parser.parse_args()
    home = args.home.resolve()
    found = stored_round(home, args.round)
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
        + ["--dataset", str(home / "bundled"), "--split", found["split"], "--test-suite"]
        + ["--out", str(folder / "preds.txt"), "--report", str(report)],
        check=True,
        cwd=REPO_ROOT,
        env=env,
    )
    queries = json.loads(report.read_text())["queries"]
    new = {q["id"]: bool(q["execution_match"]) for q in queries}
    result = {
        "home": str(home),
        "round": args.round,
        "set": args.set,
        "params": dataclasses.asdict(params),
        "minutes": {"train": round(train_minutes, 1), "eval": round((time.monotonic() - started) / 60, 1)},
        "ex": round(sum(new.values()) / len(new), 4),
        "round_version_ex": round(sum(found["version_ex"].values()) / len(found["version_ex"]), 4),
        "base_ex": round(sum(found["base_ex"].values()) / len(found["base_ex"]), 4),
        "vs_round_version": _paired(new, found["version_ex"]),
        "vs_base": _paired(new, found["base_ex"]),
    }
    print(json.dumps(result, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
