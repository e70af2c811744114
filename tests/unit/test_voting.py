"""Execution-majority voting on hand-built denotations: groups, ties, order, column permutation,
empty results, errors and the test-suite rule (every database must agree)."""

from __future__ import annotations

from services.critic.sandbox import ERROR, OK, TIMEOUT, Outcome
from services.critic.voting import Ballot, vote


def ok(*rows):
    return Outcome(OK, rows=list(rows))


def ballot(sql, *outcomes):
    return Ballot(sql=sql, outcomes=tuple(outcomes), tie_key=sql.lower())


def test_the_largest_group_wins_and_agreement_counts_only_executable_samples():
    ballots = [
        ballot("SELECT a", ok((1,), (2,))),
        ballot("SELECT b", ok((2,), (1,))),  # same bag of rows, other order: same answer
        ballot("SELECT c", ok((3,))),
        ballot("SELECT d", Outcome(ERROR, "no such column")),
        ballot("SELECT e", ok((1,), (2,))),
    ]
    result = vote(ballots)
    assert result.winning == (0, 1, 4)
    assert result.executable == 4 and result.agreement == 0.75
    assert result.group_of(3) == -1  # an error is never a group
    assert result.group_of(2) != result.winner
    assert result.decided(0.5, 2) and not result.decided(0.75, 2) and not result.decided(0.5, 4)


def test_order_counts_only_when_both_queries_sort():
    asc = ok((1,), (2,))
    desc = ok((2,), (1,))
    assert (
        len(vote([ballot("SELECT x ORDER BY x", asc), ballot("SELECT x ORDER BY x DESC", desc)]).groups) == 2
    )
    assert len(vote([ballot("SELECT x ORDER BY x", asc), ballot("SELECT x", desc)]).groups) == 1


def test_columns_match_up_to_a_permutation_and_duplicates_count_as_a_bag():
    result = vote(
        [ballot("SELECT a, b", ok((1, "x"), (2, "y"))), ballot("SELECT b, a", ok(("x", 1), ("y", 2)))]
    )
    assert len(result.groups) == 1
    bags = vote([ballot("SELECT a", ok((1,), (1,))), ballot("SELECT DISTINCT a", ok((1,)))])
    assert len(bags.groups) == 2


def test_empty_results_are_one_answer_that_wins_only_when_no_sample_returned_rows():
    empty = [
        ballot("SELECT 1 WHERE 0", ok()),
        ballot("SELECT 2 WHERE 0", ok()),
        ballot("SELECT n", ok((None,))),
    ]
    result = vote([*empty, ballot("SELECT 3", ok((3,)))])
    assert result.groups[result.winner] == (3,) and result.group_of(0) == result.group_of(1) != result.winner
    # The winner is a minority of the executable samples, so it labels nothing.
    assert result.agreement == 0.25 and not result.decided(0.5, 1)
    assert vote(empty).winning == (0, 1)  # only empty answers: the largest of them wins
    nulls = vote(
        [ballot("SELECT n", ok((None,))), ballot("SELECT m", ok((None, None))), ballot("z", ok((1,)))]
    )
    assert nulls.winning == (2,)  # all NULL counts as empty
    # Empty on the original database decides; a variant's empty result does not.
    on_suite = vote(
        [ballot("SELECT a", ok(), ok((1,))), ballot("SELECT a2", ok(), ok((1,))), ballot("b", ok((2,)), ok())]
    )
    assert on_suite.winning == (2,)


def test_nothing_executable_decides_nothing():
    none = vote([ballot("x", Outcome(ERROR, "syntax")), ballot("y", Outcome(TIMEOUT, "slow"))])
    assert none.winner == -1 and none.winning == () and none.agreement == 0.0 and not none.decided(0.0, 1)
    assert none.answer(0) == -1
    assert vote([]).winner == -1


def test_a_truncated_result_is_not_a_vote():
    cut = Outcome(OK, rows=[(1,)], truncated=True)
    assert vote([ballot("a", cut), ballot("b", cut)]).executable == 0


def test_on_a_test_suite_every_database_must_agree_and_failing_on_one_is_an_error():
    # Same answer on the original database, different on the variant: two groups.
    a = ballot("SELECT a", ok((1,)), ok((5,)))
    b = ballot("SELECT b", ok((1,)), ok((6,)))
    c = ballot("SELECT c", ok((1,)), ok((5,)))
    broken = ballot("SELECT d", ok((1,)), Outcome(ERROR, "boom"))
    result = vote([a, b, c, broken])
    assert result.winning == (0, 2) and result.executable == 3


def test_ties_break_by_size_then_the_preferred_sample_then_the_lowest_key():
    ballots = [ballot("SELECT z", ok((1,))), ballot("SELECT y", ok((2,))), ballot("SELECT a", ok((3,)))]
    assert vote(ballots).winning == (2,)  # lowest key among equal groups
    assert vote(ballots, preferred=1).winning == (1,)  # the greedy answer's group wins a tie
    assert vote(ballots, preferred=1).answer(1) == 1 and vote(ballots).answer() == 2
    bigger = [*ballots, ballot("SELECT w", ok((1,)))]
    assert vote(bigger, preferred=1).winning == (0, 3)  # ... but never beats a larger group


def test_the_result_does_not_depend_on_the_order_samples_came_in():
    ballots = [
        ballot("SELECT a", ok((1,))),
        ballot("SELECT b", ok((1,))),
        ballot("SELECT c", ok((2,))),
        ballot("SELECT d", ok((2,))),
    ]
    forward = vote(ballots)
    backward = vote(list(reversed(ballots)))
    assert {ballots[i].sql for i in forward.winning} == {ballots[::-1][i].sql for i in backward.winning}
    assert {ballots[i].sql for i in forward.winning} == {"SELECT a", "SELECT b"}
