"""Execution-majority voting: SQL samples for one question grouped by what they return.

One function serves every gold-free decision - question-only runs (the majority labels a
question), self-instruct re-answers (a pair is kept when its SQL is in the winning group) and
answer-time self-consistency (the winning group answers). Two samples are in one group when their
results match as execution match compares a prediction with gold (`matching.results_match`: rows
as a bag, in order only when both queries sort, columns up to a permutation) on every database
they were run on (the original and, with test suites on, each variant). A sample that failed to
run on any database (or whose result was cut at the row cap) is never in a group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.critic.matching import order_matters, results_match
from services.critic.sandbox import ERROR, Outcome


@dataclass(frozen=True)
class Ballot:
    """One sample: its SQL, the key that orders ties (canonical form), and its outcome per database."""

    sql: str
    outcomes: tuple[Outcome, ...]
    tie_key: str = ""

    @property
    def executable(self) -> bool:
        return bool(self.outcomes) and all(o.ok and not o.truncated for o in self.outcomes)

    @property
    def error(self) -> str:
        """The database's error when the SQL failed to parse or run on the original database (what
        a repair shows the model); "" when it ran, or failed otherwise (refused, timed out, capped)."""
        first = self.outcomes[0] if self.outcomes else None
        return (first.error or "error") if first is not None and first.status == ERROR else ""

    @property
    def empty(self) -> bool:
        """No rows, or only NULLs, on the original database (the first outcome)."""
        return all(value is None for row in self.outcomes[0].rows for value in row)


@dataclass(frozen=True)
class VoteResult:
    groups: tuple[tuple[int, ...], ...]  # indices into the ballots, in rank order (see vote)
    winner: int  # index of the winning group in `groups`; -1 when no sample executed
    executable: int  # samples that ran on every database
    winner_empty: bool = False  # the winning group's result has no rows (or only NULLs)
    errors: tuple[str, ...] = ()  # per ballot: Ballot.error

    @property
    def winning(self) -> tuple[int, ...]:
        return self.groups[self.winner] if self.winner >= 0 else ()

    @property
    def agreement(self) -> float:
        """Share of the executable samples in the winning group (0 when none executed)."""
        return len(self.winning) / self.executable if self.executable else 0.0

    def answer(self, preferred: int = -1) -> int:
        """The sample that answers: `preferred` when it is in the winning group, else the winning
        group's first sample; -1 when no sample executed."""
        winning = self.winning
        if preferred in winning:
            return preferred
        return min(winning) if winning else -1

    def group_of(self, index: int) -> int:
        return next((g for g, members in enumerate(self.groups) if index in members), -1)

    def decided(self, min_share: float, min_votes: int) -> bool:
        """True when the winning group is a majority in the caller's sense: more than min_share of
        the executable samples and at least min_votes of them."""
        return len(self.winning) >= min_votes and self.agreement > min_share


def _same_denotation(a: Ballot, b: Ballot) -> bool:
    ordered = order_matters(a.sql) and order_matters(b.sql)
    return all(results_match(x.rows, y.rows, ordered) for x, y in zip(a.outcomes, b.outcomes, strict=True))


def vote(ballots: Sequence[Ballot], preferred: int = -1, empty_last: bool = True) -> VoteResult:
    """Groups the ballots by denotation and picks the winner.

    A group with rows beats every empty one (see the module's note; `empty_last=False` ranks
    empty groups like any other, the rule before, kept so an ablation can measure it). Among the rest, ties break
    deterministically: the largest group; then the group holding `preferred` (the
    greedy answer, when the caller has one); then the group whose lowest tie key (canonical SQL)
    is lowest. Grouping visits samples in tie-key order, so the result does not depend on the
    order the samples came in."""
    order = sorted(range(len(ballots)), key=lambda i: (ballots[i].tie_key or ballots[i].sql, i))
    groups: list[list[int]] = []
    for i in order:
        ballot = ballots[i]
        if not ballot.executable:
            continue
        for members in groups:
            if _same_denotation(ballots[members[0]], ballot):
                members.append(i)
                break
        else:
            groups.append([i])
    executable = sum(len(g) for g in groups)

    def rank(members: list[int]) -> tuple[bool, int, int, str]:
        lowest = min(ballots[i].tie_key or ballots[i].sql for i in members)
        return (
            empty_last and ballots[members[0]].empty,
            -len(members),
            0 if preferred in members else 1,
            lowest,
        )

    groups.sort(key=rank)
    return VoteResult(
        groups=tuple(tuple(sorted(g)) for g in groups),
        winner=0 if groups else -1,
        executable=executable,
        winner_empty=bool(groups) and ballots[groups[0][0]].empty,
        errors=tuple(b.error for b in ballots),
    )
