"""Paired statistics against hand-computed cases, and the rollout gate built on them."""

from __future__ import annotations

import pytest

from services.controller.evaluation_keys import unique_ids
from services.controller.gate import decide, power_figures, power_note
from shared.stats import compare_paired, mcnemar_exact, smallest_detectable_difference, wilson_interval


@pytest.mark.parametrize(
    ("wins", "losses", "expected"),
    [
        (0, 0, 1.0),
        (6, 0, 2 / 64),  # 2 * (1/2)^6
        (9, 1, 22 / 1024),  # 2 * (C(10,0) + C(10,1)) / 2^10
        (1, 9, 22 / 1024),  # symmetric
        (5, 5, 1.0),  # capped at 1
        (17, 4, 2 * 7547 / 2**21),  # 1 + 21 + 210 + 1330 + 5985 = 7547
    ],
)
def test_exact_mcnemar(wins, losses, expected):
    assert mcnemar_exact(wins, losses) == pytest.approx(expected, rel=1e-12)


def test_wilson_interval():
    low, high = wilson_interval(5, 10)
    assert (low, high) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    assert wilson_interval(0, 20)[0] == 0.0 and 0.0 < wilson_interval(0, 20)[1] < 0.2
    assert wilson_interval(0, 0) == (0.0, 0.0)


def test_paired_comparison_by_hand():
    # 100 questions: 17 only the candidate solves, 4 only the parent, 40 both, 39 neither.
    ids = [str(i) for i in range(100)]
    candidate = {i: int(i) < 17 or 21 <= int(i) < 61 for i in ids}
    parent = {i: 17 <= int(i) < 61 for i in ids}
    c = compare_paired(candidate, parent)
    assert (c.questions, c.wins, c.losses) == (100, 17, 4)
    assert c.candidate_accuracy == pytest.approx(0.57) and c.parent_accuracy == pytest.approx(0.44)
    assert c.difference == pytest.approx(0.13)
    half = 1.959963984540054 * (21 - 13**2 / 100) ** 0.5 / 100  # 0.08613
    assert (c.difference_low, c.difference_high) == (pytest.approx(0.13 - half), pytest.approx(0.13 + half))
    assert c.p_value == pytest.approx(0.0071974, abs=1e-6)


def test_only_shared_questions_are_compared():
    c = compare_paired({"a": True, "b": True, "x": True}, {"a": False, "b": True, "y": False})
    assert (c.questions, c.wins, c.losses) == (2, 1, 0)
    assert compare_paired({}, {"a": True}).questions == 0


def _comparison(wins: int, losses: int, n: int = 90):
    candidate = {str(i): i < wins for i in range(n)}
    parent = {str(i): wins <= i < wins + losses for i in range(n)}
    return compare_paired(candidate, parent)


def test_margin_gate_rolls_out_a_gain_above_the_margin():
    assert decide(_comparison(5, 2), "margin", 0.0, 0.05).roll_out  # +3 of 90
    assert not decide(_comparison(2, 2), "margin", 0.0, 0.05).roll_out  # a tie is not a gain
    assert not decide(_comparison(5, 2), "margin", 0.05, 0.05).roll_out  # +0.033 <= 0.05
    assert not decide(_comparison(2, 5), "margin", 0.0, 0.05).roll_out


def test_significant_gate_also_needs_a_small_p_value():
    small_gain = _comparison(5, 2)  # p = 0.45
    assert not decide(small_gain, "significant", 0.0, 0.05).roll_out
    assert "not significant" in decide(small_gain, "significant", 0.0, 0.05).reason
    assert decide(_comparison(17, 4), "significant", 0.0, 0.05).roll_out  # p = 0.007


def test_nothing_scored_is_never_rolled_out():
    decision = decide(compare_paired({}, {}), "margin", 0.0, 0.05)
    assert not decision.roll_out and "no held-out question" in decision.reason


def test_the_gate_states_the_smallest_difference_its_question_count_could_detect():
    # Six wins and no losses is the first split with p < 0.05 (2 / 2**6 = 0.031; five give 0.0625).
    assert smallest_detectable_difference(40, 0.05) == pytest.approx(6 / 40)
    assert smallest_detectable_difference(400, 0.05) == pytest.approx(6 / 400)
    assert smallest_detectable_difference(5, 0.05) == 1.0  # not even a clean sweep could be significant


def test_the_gate_names_its_power_and_warns_below_a_hundred_questions():
    assert power_note(0, 0.05) == "" and power_figures(0, 0.05) == {"gate_detectable_difference": 1.0}
    few = power_note(40, 0.05)
    assert "0.150" in few and "warning: a decision on fewer than 100 questions" in few
    many = power_note(400, 0.05)
    assert "0.015" in many and "warning" not in many
    assert power_figures(400, 0.05)["gate_detectable_difference"] == pytest.approx(6 / 400)


def test_a_split_whose_files_repeat_an_id_is_compared_question_by_question():
    ids = unique_ids(["q1", "q2", "q1", "q1"])
    assert ids == ["q1", "q2", "q1#2", "q1#3"]  # unique ids as they were, repeats apart
    new = {i: True for i in ids}
    old = {i: i != "q1#3" for i in ids}
    paired = compare_paired(new, old)
    assert (paired.questions, paired.wins, paired.losses) == (4, 1, 0)  # raw ids would keep two
