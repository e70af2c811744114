"""The values every answering caller passes around - a question, the SQL to vote over, what a vote
decided - and the two callables answering and repair are written over (a writer and a voter), so
the same rules run over gRPC and in process."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shared.sampling import Sampling


@dataclass(frozen=True)
class QuestionIn:
    """A question to answer on one database (evidence: BIRD's hint, "" elsewhere). With
    `failed_sql` (and its `error`), it asks for a repair of SQL that failed to run."""

    id: str
    db_id: str
    question: str
    evidence: str = ""
    failed_sql: str = ""
    error: str = ""


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
    errors: tuple[str, ...] = ()  # per ballot: the database's error when it failed to run, else ""


# Each question's SQL, n per question, in the order of the questions.
SqlWriter = Callable[[Sequence[QuestionIn], int, Sampling], list[list[str]]]
# One outcome per Ballots, in order.
Voter = Callable[[list[Ballots]], list[VoteOutcome]]
