"""Repair from the database's own error: SQL that failed to run is shown to the model with SQLite's
message, and the model writes the SQL again (prompts.REPAIR_TEMPLATE).

Written once for every place SQL is written - a round's sampling (labelled, question-only and
self-instruct), the gate, `sqldistill eval` and Ask - over the same two callables as answering: a
writer and a voter (the critic's vote runs each SQL and says, per sample, the error of one that
failed to parse or run). A repaired SQL is a sample of its own: it votes like any other, with the
votes of the samples it stands in for."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from shared.answer_types import Ballots, QuestionIn, SqlWriter, Voter
from shared.prompts import clean_sql
from shared.sampling import Sampling


@dataclass(frozen=True)
class Repaired:
    """SQL written by a repair, the SQL it repairs and the error that SQL met."""

    sql: str
    failed_sql: str
    error: str


def repair(
    questions: Sequence[QuestionIn],
    written: Sequence[Sequence[str]],
    write: SqlWriter,
    check: Voter,
    sampling: Sampling,
    attempts: int,
) -> list[list[Repaired]]:
    """Each question's repairs, in order. Every distinct SQL of `written[i]` that fails with an error
    is written again once, with it; its repair stands in for each sample that wrote the failing SQL
    (a failing SQL written three times gives its repair three votes, as the samples would have had).
    A repair that fails too is repaired in the next attempt, up to `attempts` in all; each SQL runs
    once. A "repair" that writes the failing SQL again (what a small model often does) is dropped."""
    repairs: list[list[Repaired]] = [[] for _ in questions]
    pending = [Counter(s for s in sqls if s) for sqls in written]
    tried: list[set[str]] = [set() for _ in questions]
    for _ in range(max(0, attempts)):
        items, owners = [], []
        for index, (q, counts) in enumerate(zip(questions, pending, strict=True)):
            fresh = [sql for sql in counts if sql not in tried[index]]
            tried[index].update(fresh)
            if fresh:
                items.append(Ballots(q.id, q.db_id, fresh))
                owners.append(index)
        if not items:
            break
        asks, targets = [], []
        for index, item, outcome in zip(owners, items, check(items), strict=True):
            q = questions[index]
            for sql, error in zip(item.sql, outcome.errors, strict=False):
                if error:
                    asks.append(QuestionIn(q.id, q.db_id, q.question, q.evidence, sql, error))
                    targets.append(index)
        before, pending = pending, [Counter() for _ in questions]
        if not asks:
            break
        for index, ask, out in zip(targets, asks, write(asks, 1, sampling), strict=True):
            if out and out[0] and _same_text(out[0], ask.failed_sql):
                continue  # the failing SQL written again: it would fail again
            if out and out[0]:
                votes = before[index][ask.failed_sql]
                repairs[index] += [Repaired(out[0], ask.failed_sql, ask.error)] * votes
                pending[index][out[0]] += votes
    return repairs


def _same_text(a: str, b: str) -> bool:
    return clean_sql(a) == clean_sql(b)
