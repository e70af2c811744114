"""One answer per question, the way every caller answers: the greedy SQL, and with samples, the SQL
that the greedy answer and the samples vote for (the critic's `vote`: the largest group by result;
the greedy answer's group wins a tie and the greedy SQL answers for its group).

Written once for every caller - EVALUATE, Ask, `sqldistill eval` and the benchmarks - over two
callables, so the same rule runs over gRPC (the controller's typed clients) and in process (the
offline library's Generator and Critic)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from shared.sampling import Sampling


@dataclass(frozen=True)
class QuestionIn:
    """A question to answer on one database (evidence: BIRD's hint, "" elsewhere)."""

    id: str
    db_id: str
    question: str
    evidence: str = ""


@dataclass(frozen=True)
class Ballots:
    """One question's SQL to vote over; `preferred` is the greedy answer's index (-1: none)."""

    id: str
    db_id: str
    sql: list[str]
    preferred: int = -1


@dataclass(frozen=True)
class VoteOutcome:
    """What a vote decided: the answering sample's index into the ballots (-1: none executed), the
    size of its group and how many samples executed."""

    winner: int = -1
    agreement: int = 0
    executable: int = 0
    empty: bool = False  # the winning group's result has no rows


@dataclass
class Answer:
    """A question's answer and what it was chosen from."""

    sql: str  # "" when the model wrote nothing usable
    greedy: str
    samples: list[str] = field(default_factory=list)
    vote: VoteOutcome | None = None  # None when nothing was voted (greedy only, or one ballot)

    def ballots(self) -> list[str]:
        """What this answer's vote is over: the greedy SQL (when there is one) and the samples."""
        return ([self.greedy] if self.greedy else []) + self.samples


# Each question's SQL, n per question, in the order of the questions.
SqlWriter = Callable[[Sequence[QuestionIn], int, Sampling], list[list[str]]]
# One outcome per Ballots, in order.
Voter = Callable[[list[Ballots]], list[VoteOutcome]]


def answer_by_vote(
    questions: Sequence[QuestionIn],
    write: SqlWriter,
    vote: Voter,
    greedy: Sampling,
    samples: int = 0,
    sampling: Sampling | None = None,
) -> list[Answer]:
    """Each question's answer: greedy (`greedy` sampling, temperature 0); with `samples`, the vote
    of the greedy answer and that many samples at `sampling`."""
    answers = write_answers(questions, write, greedy, samples, sampling)
    return settle(questions, answers, vote) if samples else answers


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
