"""Question-only labels reviewed by their writer (or the base it was trained from: label_reviewer).
A vote cannot see a habit the samples share (a LIMIT 1 on a list question, ids where names were
asked): the majority agrees on it. Asking the model the other way round - how likely is the
question, given the SQL - can: SQL that answers another question explains this one worse. After the critic's vote, each labelled question with
losing SQL that ran is reviewed; when a losing SQL explains the question better than every kept one
by more than the margin (nats), the label is withheld (its verdicts are no longer kept, with the
reason), and the question comes back in a later round like one without a majority.

Idempotent: a withheld question has nothing kept and is not reviewed again, so a step resumed
after a crash reviews only what is left and changes nothing twice."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from shared.store import Candidate, Store, Verdict

REASON_PREFIX = "review:"  # how a withheld label's verdicts say why (counted from the store)

# (db_id, question, SQL) -> log p(question | SQL) for each SQL, by the round's reviewer; None when the
# reviewer cannot score them (e.g. SQL past its context window): the label then stands unreviewed.
Reviewer = Callable[[str, str, Sequence[str]], list[float] | None]


@dataclass(frozen=True)
class Review:
    withheld: bool
    gap: float  # the best losing SQL's score minus the best kept one's (nats)


def review(kept: Sequence[float], losing: Sequence[float], margin: float) -> Review:
    """Withhold when a losing SQL explains the question better than every kept SQL by more than
    `margin`; a group is as good as its best SQL."""
    if not kept or not losing:
        return Review(False, 0.0)
    gap = max(losing) - max(kept)
    return Review(gap > margin, gap)


def review_labels(
    store: Store,
    run_id: str,
    number: int,
    reviewer: Reviewer,
    margin: float,
    check_stop: Callable[[], None] = lambda: None,
) -> dict[str, int]:
    """Reviews the round's labelled questions that have losing SQL which ran; returns the figures
    (questions reviewed this time, labels withheld in the round so far)."""
    with store.session() as s:
        rows = s.execute(
            select(
                Candidate.id, Candidate.db_id, Candidate.question, Candidate.sql, Verdict.kept, Verdict.status
            )
            .join(Verdict, Verdict.candidate_id == Candidate.id)
            .where(Candidate.run_id == run_id, Candidate.round == number, Candidate.source == "unlabelled")
            .order_by(Candidate.db_id, Candidate.question, Candidate.id)
        ).all()
    by_question: dict[tuple[str, str], list] = {}
    for row in rows:
        by_question.setdefault((row.db_id, row.question), []).append(row)
    reviewed = 0
    for (db_id, question), found in by_question.items():
        kept = [r for r in found if r.kept]
        losing = [r for r in found if not r.kept and r.status == "OK"]  # ran, and lost the vote
        if not kept or not losing:
            continue
        check_stop()
        scores = reviewer(db_id, question, [r.sql for r in kept] + [r.sql for r in losing])
        if scores is None:
            continue
        reviewed += 1
        decided = review(scores[: len(kept)], scores[len(kept) :], margin)
        if decided.withheld:
            reason = (
                f"{REASON_PREFIX} SQL outside the majority explains the question better by "
                f"{decided.gap:.2f} nats (margin {margin:g})"
            )
            with store.session() as s:
                for r in kept:
                    verdict = s.get(Verdict, r.id)
                    verdict.kept = False
                    verdict.reasons = [*verdict.reasons, reason]
    return {"reviewed": reviewed, "review_withheld": withheld_labels(store, run_id, number)}


def withheld_labels(store: Store, run_id: str, number: int) -> int:
    """Questions of the round whose label a review withheld."""
    with store.session() as s:
        rows = s.execute(
            select(Candidate.db_id, Candidate.question, Verdict.reasons)
            .join(Verdict, Verdict.candidate_id == Candidate.id)
            .where(Candidate.run_id == run_id, Candidate.round == number, Candidate.source == "unlabelled")
        ).all()
    return len({(r.db_id, r.question) for r in rows if any(x.startswith(REASON_PREFIX) for x in r.reasons)})
