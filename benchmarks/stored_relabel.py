"""Who should write a later question-only round's labels: the version trained on earlier labels (as
a run does), or the base with its few-shot examples? The questions a stored round asked are sampled
again by each named writer (as the run sampled: its samples per question, temperature, top-p,
example sets and GENERATE precision), voted by the run's majority rule, reviewed by the same model
at the run's margin where the run reviews, and the labels checked against the withheld gold of the
home's bundled dataset (read here for the report only), beside the labels the run itself kept in
that round. Prints a table and writes JSON; asserts nothing.

    python -m benchmarks.stored_relabel --home HOME --round 2 --writers MODEL[,MODEL...]
        [--run RUN_ID] [--precision int8] [--seed 1] [--out .bench/stored_relabel.json]

A writer is what `sqldistill eval --model` takes (a version folder is asked with its own shots, a
base with the run's few_shot_k).
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.stored_labels import stored_samples
from benchmarks.stored_reviews import score_labels, stored_round
from offline.evaluation import open_critic
from offline.models import resolve_eval_model
from offline.prediction import load_generator
from services.controller.label_review import review
from services.controller.settings import RunSettings
from shared.answering import QuestionIn
from shared.catalogue import Catalogue
from shared.errors import InvalidArgument
from shared.fewshot import few_shot_pool
from shared.limits import MAX_REVIEW_SQL

if TYPE_CHECKING:
    from services.critic.logic import Critic
    from services.generation.logic import Generator

CHUNK = 16  # questions per generation call, as GENERATE's tasks


def asked_questions(home: Path, round_number: int, run_id: str) -> list[tuple[str, str]]:
    return list(stored_samples(home / "store.db", round_number, run_id))


def relabel(
    name: str, home: Path, settings: RunSettings, asked: list[tuple[str, str]], precision: str, seed: int
) -> tuple[list[dict[str, Any]], float]:
    """Each asked question's label by this writer (its SQL, or "" when no majority or withheld)."""
    catalogue = Catalogue.load(home / "bundled")
    own_prompt = (Path(name) / "manifest.json").is_file()
    model = resolve_eval_model(name, shots=None if own_prompt else settings.few_shot_k)
    generator = load_generator(
        catalogue, model, home / "models", few_shot_pool(catalogue), precision=precision
    )
    critic = open_critic(catalogue)
    sampling = settings.sampling(seed)
    started = time.monotonic()
    labels: list[dict[str, Any]] = []
    try:
        for start in range(0, len(asked), CHUNK):
            chunk = asked[start : start + CHUNK]
            questions = [QuestionIn(str(i), db, q) for i, (db, q) in enumerate(chunk)]
            results, _ = generator.generate_sql(
                questions,
                settings.samples_per_question,
                model.few_shot_k,
                sampling,
                example_sets=settings.example_sets,
            )
            by_id = {r.question_id: list(r.sql) for r in results}
            for i, (db_id, question) in enumerate(chunk):
                sqls = by_id.get(str(i), [])
                labels.append(_label(generator, critic, model.few_shot_k, settings, db_id, question, sqls))
            print(f"  {name[-30:]}: {start + len(chunk)} of {len(asked)} questions", flush=True)
    finally:
        critic.close()
    minutes = (time.monotonic() - started) / 60
    del generator
    gc.collect()
    return labels, minutes


def _label(
    generator: Generator,
    critic: Critic,
    shots: int,
    settings: RunSettings,
    db_id: str,
    question: str,
    sqls: list[str],
) -> dict[str, Any]:
    result = critic.vote(db_id, sqls) if sqls else None
    if (
        result is None
        or result.winner_empty
        or not result.decided(settings.majority_share, settings.majority_min_votes)
    ):
        return {"db_id": db_id, "question": question, "sql": "", "withheld": False}
    kept = list(dict.fromkeys(sqls[i] for i in result.winning))
    losing = list(
        dict.fromkeys(
            sqls[i] for g, members in enumerate(result.groups) if g != result.winner for i in members
        )
    )
    withheld = False
    if settings.label_review and losing:
        both = kept + losing
        try:
            scores: list[float] = []
            for at in range(0, len(both), MAX_REVIEW_SQL):
                scores += generator.review(db_id, question, both[at : at + MAX_REVIEW_SQL], shots)[0]
            withheld = review(scores[: len(kept)], scores[len(kept) :], settings.label_review_margin).withheld
        except InvalidArgument:
            pass
    return {"db_id": db_id, "question": question, "sql": kept[0], "withheld": withheld}


def scored(home: Path, labels: list[dict[str, Any]]) -> dict[str, Any]:
    score_labels(home, labels)
    voted = [x for x in labels if x["sql"]]
    kept = [x for x in voted if not x["withheld"]]
    return {
        "voted": len(voted),
        "voted_right": sum(x["right"] for x in voted),
        "labelled": len(kept),
        "right": sum(x["right"] for x in kept),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--run", default="")
    parser.add_argument("--round", type=int, default=2)
    parser.add_argument("--writers", required=True, help="comma-separated models (sqldistill eval --model)")
    parser.add_argument("--precision", default="int8", help="as GENERATE's default sampling on a CPU")
    parser.add_argument("--seed", type=int, default=1, help="sampling seed (a run's round r uses its own)")
    parser.add_argument("--out", type=Path, default=Path(".bench/stored_relabel.json"))
    args = parser.parse_args()

    settings, stored = stored_round(args.home, args.round, args.run)
    asked = asked_questions(args.home, args.round, args.run)
    run_labels = [{**q, "withheld": q["run_withheld"]} for q in stored]
    rows = [{"writer": "the run's own labels", **scored(args.home, run_labels), "minutes": 0.0}]
    per_writer: dict[str, list[dict[str, Any]]] = {}
    for name in filter(None, args.writers.split(",")):
        labels, minutes = relabel(name, args.home, settings, asked, args.precision, args.seed)
        rows.append({"writer": name, **scored(args.home, labels), "minutes": minutes})
        per_writer[name] = labels
    print(
        f"round {args.round} of {args.home}: {len(asked)} questions asked, {settings.samples_per_question} samples each"
    )
    for row in rows:
        share = row["right"] / row["labelled"] if row["labelled"] else 0.0
        print(
            f"{row['writer'][-40:]:40s} voted {row['voted']:3d} ({row['voted_right']} right)  "
            f"after review {row['labelled']:3d} ({row['right']} right, {share:.3f})  {row['minutes']:.1f} min"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows, "labels": per_writer}, indent=2
        )
    )
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
