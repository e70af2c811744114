"""Does a review - how likely the model finds the question given the SQL, log p(question | SQL) -
tell right question-only labels from wrong ones? The same questions' samples are voted as a
question-only run votes them; each labelled question's winning group and every other executable
group are reviewed (each distinct SQL; a group scores as its best), and the labels are counted as the majority gives them and as a
review veto would leave them (a label is withheld when another group's SQL explains the question
better by more than a margin, in nats). Labels are checked against the withheld gold, read here
for the report only. Prints a table and writes JSON (per question, for re-analysis); asserts
nothing.

    python -m benchmarks.review_labels --dataset DIR [--split train] [--limit 96] [--samples 8]
        [--model default] [--precision auto] [--out .bench/review_labels.json]
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

from benchmarks.repair_labels import labelling_parser, open_labeller
from offline.prediction import generator_writer
from services.controller.label_review import review
from shared import defaults
from shared.answering import QuestionIn

CHUNK = 16  # questions per generation call
MARGINS = (0.0, 0.5, 1.0, 2.0, 3.0)


def arms(questions: list[dict], margins: tuple[float, ...] = MARGINS) -> list[dict]:
    """Labels and right ones: by the majority alone, then with a review veto at each margin."""
    labelled = [q for q in questions if q["labelled"]]
    rows = [
        {
            "arm": "majority",
            "labelled": len(labelled),
            "right": sum(q["groups"][0]["right"] for q in labelled),
        }
    ]
    for margin in margins:
        kept = [q for q in labelled if not vetoed(q, margin)]
        rows.append(
            {
                "arm": f"veto > {margin:g} nats",
                "labelled": len(kept),
                "right": sum(q["groups"][0]["right"] for q in kept),
            }
        )
    return rows


def vetoed(question: dict, margin: float) -> bool:
    """The run's rule (label_review.review): another group's SQL explains the question better than
    the winner's by more than `margin`."""
    winner, *others = question["groups"]
    return review([winner["review"]], [g["review"] for g in others], margin).withheld


def main() -> None:
    args = labelling_parser(__doc__, 96, ".bench/review_labels.json").parse_args()
    labeller = open_labeller(args)
    examples, model, generator, critic, sampling = (
        labeller.examples,
        labeller.model,
        labeller.generator,
        labeller.critic,
        labeller.sampling,
    )
    write = generator_writer(generator, model.few_shot_k)
    seconds = {"sample": 0.0, "review": 0.0}
    questions: list[dict] = []
    try:
        for start in range(0, len(examples), CHUNK):
            chunk = examples[start : start + CHUNK]
            asked = [QuestionIn(str(i), e.db_id, e.question, e.evidence) for i, e in enumerate(chunk)]
            clock = time.monotonic()
            written = write(asked, args.samples, replace(sampling, seed=sampling.seed + start))
            seconds["sample"] += time.monotonic() - clock
            for example, sqls in zip(chunk, written, strict=True):
                result = critic.vote(example.db_id, list(sqls)) if sqls else None
                if result is None or not result.groups:
                    questions.append({"question": example.question, "labelled": False, "groups": []})
                    continue
                members = [list(dict.fromkeys(sqls[i] for i in group)) for group in result.groups]
                flat = [sql for group in members for sql in group]
                clock = time.monotonic()
                reviews, _ = generator.review(example.db_id, example.question, flat, model.few_shot_k)
                seconds["review"] += time.monotonic() - clock
                path = str(critic.db_path(example.db_id))
                groups, at = [], 0
                for group, distinct in zip(result.groups, members, strict=True):
                    scores = reviews[at : at + len(distinct)]
                    at += len(distinct)
                    groups.append(
                        {
                            "size": len(group),
                            "sql": distinct[0],
                            "review": max(scores),  # a group explains the question as well as its best SQL
                            "right": bool(critic.execution_match(path, example.query, distinct[0])[0]),
                        }
                    )
                labelled = not result.winner_empty and result.decided(
                    defaults.MAJORITY_SHARE, defaults.MAJORITY_MIN_VOTES
                )
                questions.append(
                    {
                        "question": example.question,
                        "db_id": example.db_id,
                        "labelled": labelled,
                        "groups": groups,
                    }
                )
    finally:
        critic.close()
    table = arms(questions)
    print(f"{len(questions)} questions x {args.samples} samples ({model.label}, {args.precision})")
    for row in table:
        share = row["right"] / row["labelled"] if row["labelled"] else 0.0
        print(
            f"{row['arm']:18s} labelled {row['labelled']:3d}  right {row['right']:3d}  precision {share:.3f}"
        )
    print(f"sampling {seconds['sample'] / 60:.1f} min, reviewing {seconds['review'] / 60:.1f} min")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "args": {k: str(v) for k, v in vars(args).items()},
                "arms": table,
                "seconds": seconds,
                "questions": questions,
            },
            indent=2,
        )
    )
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
