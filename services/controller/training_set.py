"""What a round trains on: the kept pairs of this round, or of rounds 1..r when accumulating,
deduplicated and capped per question. Pure functions over store rows, so the rule is testable alone.

Accumulating (with training from the base each round, as ReST-EM does) lets each version learn from
everything the critic has ever accepted, instead of only what the latest model happened to get right.
The cap of K distinct SQL per question keeps easy questions, which are solved by every sample, from
outweighing hard ones that are solved once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from shared.catalogue import Catalogue, Example
from shared.training_data import TrainingPair

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class KeptRow:
    key: str  # the candidate's content key: a stable order
    db_id: str
    question: str
    sql: str
    canonical_sql: str | None
    round: int


def normalise_question(question: str) -> str:
    """Case, spacing and trailing punctuation do not make a question new."""
    return _SPACE.sub(" ", question.strip().lower()).rstrip(" ?.!")


def select_training_pairs(rows: Iterable[KeptRow], max_sql_per_question: int) -> list[TrainingPair]:
    """One pair per (database, question, canonical SQL), at most max_sql_per_question per question;
    earlier rounds first, then content order, so the same rows always give the same list."""
    if max_sql_per_question <= 0:
        raise ValueError("max_sql_per_question must be positive")
    seen: set[tuple[str, str, str]] = set()
    per_question: dict[tuple[str, str], int] = {}
    pairs = []
    for row in sorted(rows, key=lambda r: (r.round, r.key)):
        question_key = (row.db_id, normalise_question(row.question))
        sql_key = (*question_key, row.canonical_sql or " ".join(row.sql.split()).lower())
        if sql_key in seen or per_question.get(question_key, 0) >= max_sql_per_question:
            continue
        seen.add(sql_key)
        per_question[question_key] = per_question.get(question_key, 0) + 1
        pairs.append(TrainingPair(row.db_id, row.question, row.sql))
    return pairs


def seed_rows(examples: Iterable[Example]) -> list[KeptRow]:
    """The few-shot seed examples as round-0 rows: they sort first and win any duplicate. A version
    asked without examples in its prompt would otherwise never see them."""
    return [KeptRow(f"seed:{e.id}", e.db_id, e.question, e.query, None, 0) for e in examples if e.query]


def with_evidence(pairs: list[TrainingPair], catalogue: Catalogue) -> list[TrainingPair]:
    """Each pair whose question is a dataset question (labelled or question-only modes) trains with
    that question's evidence, as inference will ask it; self-instruct questions have none."""
    evidence: dict[tuple[str, str], str] = {}
    for split in ("seed", "train"):  # the splits runs train from
        if split in catalogue.split_files:
            for e in catalogue.examples(split):
                if e.evidence:
                    evidence.setdefault((e.db_id, e.question), e.evidence)
    if not evidence:
        return pairs
    return [replace(p, evidence=evidence.get((p.db_id, p.question), "")) for p in pairs]
