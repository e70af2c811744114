"""Preferences from execution, for `train_method: dpo`: for each question of the round's training
questions that has kept SQL, the kept SQL is preferred to SQL the critic judged on the same question
and did not keep - SQL that failed to run, returned nothing, lost the vote or (labelled) did not
match the gold. Hostile (denied), timed-out and capped SQL are verdicts, never training text."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from services.controller.settings import RunSettings
from shared.store import Candidate, Store, Verdict
from shared.training_data import PreferencePair

MAX_PAIRS_PER_QUESTION = 2  # pairs per question: one question's habits do not fill the set
REJECTABLE = ("OK", "ERROR")  # statuses whose SQL may be the dispreferred side


def preference_pairs(store: Store, run_id: str, number: int, settings: RunSettings) -> list[PreferencePair]:
    """The round's pairs (rounds 1..number when accumulating), in a stable order."""
    rounds = Candidate.round <= number if settings.accumulate else Candidate.round == number
    with store.session() as s:
        rows = s.execute(
            select(Candidate.db_id, Candidate.question, Candidate.sql, Verdict.kept, Verdict.status)
            .join(Verdict, Verdict.candidate_id == Candidate.id)
            .where(Candidate.run_id == run_id, rounds)
            .order_by(Candidate.db_id, Candidate.question, Candidate.key)
        ).all()
    chosen: dict[tuple[str, str], list[str]] = defaultdict(list)
    rejected: dict[tuple[str, str], list[str]] = defaultdict(list)
    for db_id, question, sql, kept, status in rows:
        side = chosen if kept else rejected if status in REJECTABLE else None
        if side is not None and sql and sql not in side[(db_id, question)]:
            side[(db_id, question)].append(sql)
    pairs = []
    for key, good in chosen.items():
        bad = [sql for sql in rejected.get(key, []) if sql not in good]
        for i, worse in enumerate(bad[:MAX_PAIRS_PER_QUESTION]):
            pairs.append(PreferencePair(key[0], key[1], good[i % len(good)], worse))
    return pairs
