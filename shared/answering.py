"""One answer per question, the way every caller answers: the greedy SQL, and with samples, the SQL
that the greedy answer and the samples vote for (the critic's `vote`: the largest group by result;
the greedy answer's group wins a tie and the greedy SQL answers for its group).

With `repair_attempts`, SQL among them that failed to run is written again with the database's error
(shared.repairing) and the repaired SQL joins the vote, so a question answered greedily alone is
answered by its repair when the greedy SQL failed.

Written once for every caller - EVALUATE, Ask, `sqldistill eval` and the benchmarks - over two
callables, so the same rule runs over gRPC (the controller's typed clients) and in process (the
offline library's Generator and Critic)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from shared.answer_types import Ballots, QuestionIn, SqlWriter, VoteOutcome, Voter
from shared.repairing import Repaired, repair
from shared.sampling import Sampling

__all__ = [
    "Answer",
    "Ballots",
    "QuestionIn",
    "SqlWriter",
    "VoteOutcome",
    "Voter",
    "answer_by_vote",
    "repair_answers",
    "settle",
    "write_answers",
]


@dataclass
class Answer:
    """A question's answer and what it was chosen from."""

    sql: str  # "" when the model wrote nothing usable
    greedy: str
    samples: list[str] = field(default_factory=list)
    vote: VoteOutcome | None = None  # None when nothing was voted (greedy only, or one ballot)
    repairs: list[Repaired] = field(default_factory=list)  # of its failing SQL, in order

    def ballots(self) -> list[str]:
        """What this answer's vote is over: the greedy SQL (when there is one), the samples and the
        repairs."""
        return ([self.greedy] if self.greedy else []) + self.samples + [r.sql for r in self.repairs]

    @property
    def repair(self) -> Repaired | None:
        """The repair that wrote the answer, when only a repair wrote it."""
        if not self.sql or self.sql == self.greedy or self.sql in self.samples:
            return None
        return next((r for r in self.repairs if r.sql == self.sql), None)


def answer_by_vote(
    questions: Sequence[QuestionIn],
    write: SqlWriter,
    vote: Voter,
    greedy: Sampling,
    samples: int = 0,
    sampling: Sampling | None = None,
    repair_attempts: int = 0,
) -> list[Answer]:
    """Each question's answer: greedy (`greedy` sampling, temperature 0); with `samples`, the vote
    of the greedy answer and that many samples at `sampling`; with `repair_attempts`, failing SQL
    repaired (greedily) and the repairs in the vote."""
    answers = write_answers(questions, write, greedy, samples, sampling)
    if repair_attempts:
        repair_answers(questions, answers, write, vote, greedy, repair_attempts)
    return settle(questions, answers, vote) if samples or any(a.repairs for a in answers) else answers


def repair_answers(
    questions: Sequence[QuestionIn],
    answers: list[Answer],
    write: SqlWriter,
    vote: Voter,
    sampling: Sampling,
    attempts: int,
) -> list[Answer]:
    """Each answer's failing SQL repaired, the repairs added to its ballots (in place; returned)."""
    found = repair(questions, [a.ballots() for a in answers], write, vote, sampling, attempts)
    for answer, repairs in zip(answers, found, strict=True):
        answer.repairs += repairs
    return answers


def write_answers(
    questions: Sequence[QuestionIn],
    write: SqlWriter,
    greedy: Sampling,
    samples: int = 0,
    sampling: Sampling | None = None,
) -> list[Answer]:
    """Each question's greedy SQL (its answer until a vote settles it) and `samples` more."""
    answers = [
        Answer(sql=(s[0] if s else ""), greedy=(s[0] if s else "")) for s in write(questions, 1, greedy)
    ]
    if samples:
        if sampling is None:
            raise ValueError("samples need a sampling")
        for answer, more in zip(answers, write(questions, samples, sampling), strict=True):
            answer.samples = list(more)
    return answers


def settle(questions: Sequence[QuestionIn], answers: list[Answer], vote: Voter) -> list[Answer]:
    """Each answer with more than its greedy SQL to choose from, replaced by what the vote picks
    (the greedy answer is preferred in a tie); answers are updated in place and returned."""
    items, owners = [], []
    for index, (q, answer) in enumerate(zip(questions, answers, strict=True)):
        ballots = answer.ballots()
        if len(ballots) > 1 or (ballots and not answer.greedy):
            items.append(Ballots(q.id, q.db_id, ballots, 0 if answer.greedy else -1))
            owners.append(index)
    if not items:
        return answers
    for index, item, outcome in zip(owners, items, vote(items), strict=True):
        answers[index].vote = outcome
        answers[index].sql = item.sql[outcome.winner] if outcome.winner >= 0 else answers[index].greedy
    return answers
