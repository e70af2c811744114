"""Who should review a question-only round's labels: the model that wrote them, or the base? The
round's stored ballots (each asked question's samples, as the run voted them) are voted again,
each labelled question's winning group and every other group that ran are reviewed - log p(question
| SQL), a group as good as its best SQL - by each named reviewer, and the labels are counted as the
majority gives them and as each reviewer's veto at the run's margin would leave them (the run's rule,
label_review.review). Labels are checked against the withheld gold of the home's bundled dataset
(read here for the report only). The same ballots for every reviewer: a paired comparison. Prints
a table and writes JSON; asserts nothing.

    python -m benchmarks.stored_reviews --home HOME --round 2 --reviewers MODEL[,MODEL...]
        [--run RUN_ID] [--precision int8] [--margin 2.0] [--out .bench/stored_reviews.json]

A reviewer is what `sqldistill eval --model` takes (a version folder is asked with its own shots,
a base with the default few-shot examples), loaded one at a time.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from pathlib import Path
from typing import Any

from benchmarks.stored_labels import stored_samples
from offline.evaluation import open_critic
from offline.models import resolve_eval_model
from offline.prediction import load_generator
from services.controller.label_review import review
from services.controller.settings import LABEL_REVIEW_MARGIN
from shared import defaults
from shared.catalogue import Catalogue
from shared.errors import InvalidArgument
from shared.fewshot import few_shot_pool


def ballots(home: Path, round_number: int, run_id: str) -> list[dict[str, Any]]:
    """Each asked question's distinct SQL per result group (winner first) and whether the strict
    majority labels it; each group scored right or wrong by the withheld gold."""
    catalogue = Catalogue.load(home / "bundled")
    gold = {
        (e["db_id"], e["question"]): e["query"]
        for e in json.loads((home / "bundled" / "train.json").read_text())
    }
    critic = open_critic(catalogue)
    questions = []
    try:
        for (db_id, question), sqls in stored_samples(home / "store.db", round_number, run_id).items():
            result = critic.vote(db_id, sqls)
            if result.winner < 0:
                questions.append({"db_id": db_id, "question": question, "labelled": False, "groups": []})
                continue
            order = [result.winner, *(g for g in range(len(result.groups)) if g != result.winner)]
            path = str(critic.db_path(db_id))
            groups = []
            for g in order:
                distinct = list(dict.fromkeys(sqls[i] for i in result.groups[g]))
                right = critic.execution_match(path, gold[(db_id, question)], distinct[0])[0]
                groups.append({"size": len(result.groups[g]), "sqls": distinct, "right": bool(right)})
            labelled = not result.winner_empty and result.decided(
                defaults.MAJORITY_SHARE, defaults.MAJORITY_MIN_VOTES
            )
            questions.append({"db_id": db_id, "question": question, "labelled": labelled, "groups": groups})
    finally:
        critic.close()
    return questions


def scores_by(
    model_name: str, home: Path, precision: str, questions: list[dict[str, Any]]
) -> tuple[list[list[float] | None], float]:
    """Per labelled question with losing groups: each group's review score (its best SQL's), or
    None where the model cannot score them; and the minutes it took."""
    catalogue = Catalogue.load(home / "bundled")
    model = resolve_eval_model(model_name)
    generator = load_generator(
        catalogue, model, home / "models", few_shot_pool(catalogue, exclude="train"), precision=precision
    )
    started = time.monotonic()
    scores: list[list[float] | None] = []
    for q in questions:
        if not q["labelled"] or len(q["groups"]) < 2:
            scores.append(None)
            continue
        flat = [sql for group in q["groups"] for sql in group["sqls"]]
        try:
            reviewed, _ = generator.review(q["db_id"], q["question"], flat, model.few_shot_k)
        except InvalidArgument:  # e.g. past the context window: the label stands, as in a run
            scores.append(None)
            continue
        per_group, at = [], 0
        for group in q["groups"]:
            per_group.append(max(reviewed[at : at + len(group["sqls"])]))
            at += len(group["sqls"])
        scores.append(per_group)
    minutes = (time.monotonic() - started) / 60
    del generator
    gc.collect()
    return scores, minutes


def arm(questions: list[dict[str, Any]], scores: list[list[float] | None] | None, margin: float) -> dict:
    """Labels and right ones, with a reviewer's veto (or the majority alone when scores is None)."""
    labelled = right = withheld = withheld_right = 0
    for k, q in enumerate(questions):
        if not q["labelled"]:
            continue
        s = scores[k] if scores is not None else None
        if s is not None and review(s[:1], s[1:], margin).withheld:
            withheld += 1
            withheld_right += q["groups"][0]["right"]
            continue
        labelled += 1
        right += q["groups"][0]["right"]
    return {
        "labelled": labelled,
        "right": right,
        "precision": right / labelled if labelled else 0.0,
        "withheld": withheld,
        "withheld_right": withheld_right,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, required=True, help="a bench home: store.db, bundled/, models/")
    parser.add_argument("--run", default="", help="the run (default: the store's only one)")
    parser.add_argument("--round", type=int, default=1)
    parser.add_argument("--reviewers", required=True, help="comma-separated models (sqldistill eval --model)")
    parser.add_argument("--precision", default="int8", help="as GENERATE's default sampling on a CPU")
    parser.add_argument("--margin", type=float, default=LABEL_REVIEW_MARGIN)
    parser.add_argument("--out", type=Path, default=Path(".bench/stored_reviews.json"))
    args = parser.parse_args()

    questions = ballots(args.home, args.round, args.run)
    rows = [{"reviewer": "none (majority)", **arm(questions, None, args.margin), "minutes": 0.0}]
    for name in filter(None, args.reviewers.split(",")):
        scores, minutes = scores_by(name, args.home, args.precision, questions)
        rows.append({"reviewer": name, **arm(questions, scores, args.margin), "minutes": minutes})
        for q, s in zip(questions, scores, strict=True):
            q.setdefault("reviews", {})[name] = s
    print(
        f"{len(questions)} questions asked in round {args.round} ({args.home}), margin {args.margin:g} nats"
    )
    for row in rows:
        print(
            f"{row['reviewer'][-40:]:40s} labelled {row['labelled']:3d}  right {row['right']:3d}  "
            f"precision {row['precision']:.3f}  withheld {row['withheld']:2d} "
            f"(right {row['withheld_right']})  {row['minutes']:.1f} min"
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
