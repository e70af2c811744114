"""A gate that needs no gold SQL: the candidate and the serving version answer the same held-out
questions, and each question is judged without gold in one of two ways (`gate_free_method`).

- review (compare_by_review): the greedy answers settle a question where one runs and the other
  fails; where both run with different results, a reviewer (the base model, or the serving
  version: `gate_reviewer`) says which SQL explains the question better, log p(question | SQL). Sampling plays no part, so a version whose
  samples agree with themselves gains nothing by it.
- vote (compare_without_gold): both also sample; the critic's vote over the pooled samples of both
  (as many from each) gives a pseudo-label where the pooled majority is clear (the run's own
  majority rule, majority_share / majority_min_votes); each version's greedy answer is scored
  against it. A sharper version's samples carry the pool toward its own greedy answer.

The share of each version's greedy answers that execute is shown beside either.

Free of gRPC: the step hands in its writers, its voter and its scorer (services/controller/steps/
evaluate.py), so the rule is tested on its own (tests/unit/test_gold_free_gate.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shared.answering import Answer, Ballots, QuestionIn, VoteOutcome, Voter

# (question, pseudo-label, a version's greedy SQL) -> whether the SQL returns the label's result.
Scorer = Callable[[Sequence[tuple[QuestionIn, str, str]]], list[bool]]
# (question, SQL) -> log p(question | SQL) for each SQL, or None when the reviewer cannot score them.
Reviewer = Callable[[QuestionIn, Sequence[str]], "list[float] | None"]


@dataclass(frozen=True)
class GoldFreeComparison:
    """Both versions on the held-out questions, judged by pseudo-labels."""

    questions: int  # held-out questions asked
    candidate: dict[str, bool]  # question id -> greedy answer matches its pseudo-label (labelled only)
    serving: dict[str, bool]
    candidate_executes: float  # share of the candidate's greedy answers that execute
    serving_executes: float
    reviewed: int = 0  # review: questions whose two answers ran with different results

    @property
    def labelled(self) -> int:
        return len(self.candidate)


def clear_majority(outcome: VoteOutcome, share: float, min_votes: int) -> bool:
    """The run's keep rule for a vote without gold: more than `share` of the executable samples and
    at least `min_votes` of them (services/critic/voting.VoteResult.decided, from a vote's outcome),
    on a result with rows - a pool agreeing on nothing is no label (the judge keeps no such pair)."""
    return (
        outcome.winner >= 0
        and not outcome.empty
        and outcome.agreement >= min_votes
        and outcome.agreement > share * outcome.executable
    )


def pooled(candidate: Answer, serving: Answer) -> list[str]:
    """Each version's greedy answer and samples, the same number from each (the fewer of the two)."""
    mine, theirs = candidate.ballots(), serving.ballots()
    n = min(len(mine), len(theirs))
    return mine[:n] + theirs[:n]


def pseudo_labels(
    questions: Sequence[QuestionIn],
    candidate: Sequence[Answer],
    serving: Sequence[Answer],
    vote: Voter,
    share: float,
    min_votes: int,
) -> dict[str, str]:
    """question id -> the SQL of the pooled majority's group, where the majority is clear."""
    items = []
    for q, mine, theirs in zip(questions, candidate, serving, strict=True):
        ballots = pooled(mine, theirs)
        if ballots:
            items.append(Ballots(q.id, q.db_id, ballots))
    labels = {}
    for item, outcome in zip(items, vote(items) if items else [], strict=True):
        if clear_majority(outcome, share, min_votes):
            labels[item.id] = item.sql[outcome.winner]
    return labels


def ran(questions: Sequence[QuestionIn], answers: Sequence[Answer], vote: Voter) -> list[bool]:
    """Whether each greedy answer executes (an empty answer does not): a vote over each alone."""
    items = [Ballots(q.id, q.db_id, [a.greedy]) for q, a in zip(questions, answers, strict=True) if a.greedy]
    outcomes = dict(zip([i.id for i in items], vote(items) if items else [], strict=True))
    return [q.id in outcomes and outcomes[q.id].executable > 0 for q in questions]


def executes(questions: Sequence[QuestionIn], answers: Sequence[Answer], vote: Voter) -> float:
    """Share of the greedy answers that execute."""
    return sum(ran(questions, answers, vote)) / len(questions) if questions else 0.0


def compare_without_gold(
    questions: Sequence[QuestionIn],
    candidate: Sequence[Answer],
    serving: Sequence[Answer],
    vote: Voter,
    score: Scorer,
    share: float,
    min_votes: int,
) -> GoldFreeComparison:
    """Both versions' greedy answers scored against the pooled pseudo-labels, per question."""
    labels = pseudo_labels(questions, candidate, serving, vote, share, min_votes)
    labelled = [(i, q) for i, q in enumerate(questions) if q.id in labels]
    asked = [(q, labels[q.id], candidate[i].greedy) for i, q in labelled]
    asked += [(q, labels[q.id], serving[i].greedy) for i, q in labelled]
    matches = score(asked) if asked else []
    half = len(labelled)
    return GoldFreeComparison(
        questions=len(questions),
        candidate={q.id: ok for (_, q), ok in zip(labelled, matches[:half], strict=True)},
        serving={q.id: ok for (_, q), ok in zip(labelled, matches[half:], strict=True)},
        candidate_executes=executes(questions, candidate, vote),
        serving_executes=executes(questions, serving, vote),
    )


def compare_by_review(
    questions: Sequence[QuestionIn],
    candidate: Sequence[Answer],
    serving: Sequence[Answer],
    vote: Voter,
    score: Scorer,
    review: Reviewer,
) -> GoldFreeComparison:
    """Per question, whether each version's greedy answer is judged no worse than the other's: both
    are when they return the same result, or when the reviewer cannot tell them apart (or cannot
    score them); neither is when neither runs; an answer that runs beats one that does not; of two
    different results, the one whose SQL explains the question better wins."""
    ran_c, ran_s = ran(questions, candidate, vote), ran(questions, serving, vote)
    both = [i for i in range(len(questions)) if ran_c[i] and ran_s[i]]
    same = score([(questions[i], serving[i].greedy, candidate[i].greedy) for i in both]) if both else []
    differ = {i for i, agree in zip(both, same, strict=True) if not agree}
    mine, theirs = {}, {}
    for i, q in enumerate(questions):
        c_ok, s_ok = ran_c[i], ran_s[i]
        if i in differ:
            scores = review(q, [candidate[i].greedy, serving[i].greedy])
            if scores is not None and scores[0] != scores[1]:
                c_ok, s_ok = scores[0] > scores[1], scores[1] > scores[0]
        mine[q.id], theirs[q.id] = c_ok, s_ok
    n = len(questions)
    return GoldFreeComparison(
        questions=n,
        candidate=mine,
        serving=theirs,
        candidate_executes=sum(ran_c) / n if n else 0.0,
        serving_executes=sum(ran_s) / n if n else 0.0,
        reviewed=len(differ),
    )
