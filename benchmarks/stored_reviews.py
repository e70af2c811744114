"""Who should review a question-only round's labels: the model that wrote them, or the base? A
stored round's verdicts as JUDGE had them before its review (kept: kept, or withheld by the review;
losing: not kept and ran) are reviewed again - log p(question | SQL) of each kept and losing SQL -
by each named reviewer, and the labels are counted as the vote left them, as the run's own review
left them, and as each reviewer's veto at the run's margin would (the run's rule,
label_review.review). Labels are checked against the withheld gold of the home's bundled dataset
(read here for the report only). The same labels for every reviewer: a paired comparison. Prints a
table and writes JSON; asserts nothing.

    python -m benchmarks.stored_reviews --home HOME --round 2 --reviewers MODEL[,MODEL...]
        [--run RUN_ID] [--precision int8] [--out .bench/stored_reviews.json]

A reviewer is what `sqldistill eval --model` takes (a version folder is asked with its own shots, a
base with the run's few_shot_k), loaded one at a time, as the service loads it.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from offline.evaluation import open_critic
from offline.models import resolve_eval_model
from offline.prediction import load_generator
from services.controller.enums import Mode
from services.controller.label_review import REASON_PREFIX, review
from services.controller.settings import RunSettings
from shared.catalogue import Catalogue
from shared.errors import InvalidArgument
from shared.fewshot import few_shot_pool
from shared.limits import MAX_REVIEW_SQL
from shared.store import Candidate, Run, Store, Verdict


def stored_round(home: Path, round_number: int, run_id: str) -> tuple[RunSettings, list[dict[str, Any]]]:
    """The run's settings and, per labelled question with losing SQL that ran (what JUDGE reviews),
    its kept and losing SQL before the review and whether the run's review withheld it."""
    store = Store.open(f"sqlite:///{home.resolve() / 'store.db'}", migrate=False)  # read, never migrated
    try:
        with store.session() as s:
            runs = list(s.scalars(select(Run.id).order_by(Run.created_at)))
            if not run_id and len(runs) != 1:
                raise SystemExit(f"{home} holds {len(runs)} runs ({', '.join(runs)}): name one with --run")
            run = s.get(Run, run_id or runs[0])
            if run is None:
                raise SystemExit(f"{home} holds no run {run_id!r}")
            settings = RunSettings.from_dict(run.spec)
            rows = s.execute(
                select(
                    Candidate.db_id,
                    Candidate.question,
                    Candidate.sql,
                    Verdict.kept,
                    Verdict.status,
                    Verdict.reasons,
                )
                .join(Verdict, Verdict.candidate_id == Candidate.id)
                .where(
                    Candidate.run_id == run.id,
                    Candidate.round == round_number,
                    Candidate.source == Mode.UNLABELLED,
                )
                .order_by(Candidate.db_id, Candidate.question, Candidate.id)
            ).all()
    finally:
        store.close()
    by_question: dict[tuple[str, str], dict[str, Any]] = {}
    for db_id, question, sql, kept, status, reasons in rows:
        q = by_question.setdefault(
            (db_id, question),
            {"db_id": db_id, "question": question, "kept": [], "losing": [], "run_withheld": False},
        )
        withheld = any(r.startswith(REASON_PREFIX) for r in reasons)
        q["run_withheld"] |= withheld
        if kept or withheld:  # kept before the review
            q["kept"].append(sql)
        elif status == "OK":  # ran, and lost the vote (or was not kept for what it returned)
            q["losing"].append(sql)
    # a kept group has one result: its first SQL is the label
    return settings, [{**q, "sql": q["kept"][0]} for q in by_question.values() if q["kept"]]


def score_labels(home: Path, labels: list[dict[str, Any]]) -> int:
    """Marks each label (its "sql"; "" = none) right or wrong by the withheld gold of the home's
    bundled dataset; returns how many labels have no gold here (left unscored, counted as not right)."""
    catalogue = Catalogue.load(home / "bundled")
    gold = {(e.db_id, e.question): e.query for e in catalogue.examples("train")}
    critic = open_critic(catalogue)
    missing = 0
    try:
        for x in labels:
            query = gold.get((x["db_id"], x["question"]))
            missing += bool(x["sql"]) and query is None
            x["right"] = bool(
                x["sql"]
                and query
                and critic.execution_match(str(critic.db_path(x["db_id"])), query, x["sql"])[0]
            )
    finally:
        critic.close()
    return missing


def scores_by(
    model_name: str, home: Path, precision: str, shots: int, questions: list[dict[str, Any]]
) -> tuple[list[list[float] | None], float]:
    """Each question's review scores (kept SQL, then losing), or None where the model refuses them
    (past its context window: the label stands, as in a run); and the minutes it took."""
    catalogue = Catalogue.load(home / "bundled")
    own_prompt = (Path(model_name) / "manifest.json").is_file()  # a version: asked with its own shots
    model = resolve_eval_model(model_name, shots=None if own_prompt else shots)
    generator = load_generator(
        catalogue, model, home / "models", few_shot_pool(catalogue), precision=precision
    )
    started = time.monotonic()
    scores: list[list[float] | None] = []
    for q in questions:
        if not q["losing"]:
            scores.append(None)
            continue
        sqls = q["kept"] + q["losing"]
        try:
            scored: list[float] = []
            for start in range(0, len(sqls), MAX_REVIEW_SQL):  # as the controller's client splits them
                scored += generator.review(
                    q["db_id"], q["question"], sqls[start : start + MAX_REVIEW_SQL], model.few_shot_k
                )[0]
            scores.append(scored)
        except InvalidArgument:
            scores.append(None)
    minutes = (time.monotonic() - started) / 60
    del generator
    gc.collect()
    return scores, minutes


def arm(questions: list[dict[str, Any]], withheld: list[bool]) -> dict[str, Any]:
    """Labels left and right ones when `withheld` says which labels a review withheld."""
    left = [q for q, w in zip(questions, withheld, strict=True) if not w]
    gone = [q for q, w in zip(questions, withheld, strict=True) if w]
    right = sum(q["right"] for q in left)
    return {
        "labelled": len(left),
        "right": right,
        "precision": right / len(left) if left else 0.0,
        "withheld": len(gone),
        "withheld_right": sum(q["right"] for q in gone),
    }


def vetoes(questions: list[dict[str, Any]], scores: list[list[float] | None], margin: float) -> list[bool]:
    """The run's rule: withheld when a losing SQL explains the question better than every kept SQL by
    more than the margin."""
    return [
        s is not None and review(s[: len(q["kept"])], s[len(q["kept"]) :], margin).withheld
        for q, s in zip(questions, scores, strict=True)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, required=True, help="a bench home: store.db, bundled/, models/")
    parser.add_argument("--run", default="", help="the run (default: the store's only one)")
    parser.add_argument("--round", type=int, default=1)
    parser.add_argument("--reviewers", required=True, help="comma-separated models (sqldistill eval --model)")
    parser.add_argument("--precision", default="int8", help="as GENERATE's default sampling on a CPU")
    parser.add_argument("--out", type=Path, default=Path(".bench/stored_reviews.json"))
    args = parser.parse_args()

    settings, questions = stored_round(args.home, args.round, args.run)
    missing = score_labels(args.home, questions)
    margin = settings.label_review_margin
    rows = [
        {"reviewer": "none (the vote)", **arm(questions, [False] * len(questions)), "minutes": 0.0},
        {
            "reviewer": "the run's own review",
            **arm(questions, [q["run_withheld"] for q in questions]),
            "minutes": 0.0,
        },
    ]
    for name in filter(None, args.reviewers.split(",")):
        scores, minutes = scores_by(name, args.home, args.precision, settings.few_shot_k, questions)
        decided = vetoes(questions, scores, margin)
        rows.append({"reviewer": name, **arm(questions, decided), "minutes": minutes})
        for q, s, w in zip(questions, scores, decided, strict=True):
            q.setdefault("reviews", {})[name] = {"scores": s, "withheld": w}
    print(
        f"round {args.round} of {args.home}: {len(questions)} labels before the review "
        f"({sum(bool(q['losing']) for q in questions)} with losing SQL that ran), margin {margin:g} nats"
        + (f"; {missing} without gold here (counted wrong)" if missing else "")
    )
    for row in rows:
        print(
            f"{row['reviewer'][-44:]:44s} labelled {row['labelled']:3d}  right {row['right']:3d}  "
            f"precision {row['precision']:.3f}  withheld {row['withheld']:2d} (right {row['withheld_right']})  "
            f"{row['minutes']:.1f} min"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {"args": {k: str(v) for k, v in vars(args).items()}, "arms": rows, "questions": questions},
            indent=2,
        )
    )
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
