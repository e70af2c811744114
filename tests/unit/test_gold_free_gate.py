"""The gold-free gate's rules on their own (services/controller/gold_free_gate.py). By vote:
pseudo-labels from the pooled samples of both versions, as many from each, where the majority is
clear; each version's greedy answer scored against them; the share that executes. By review: the
reviewer decides only between two answers that run with different results. The voter and scorer here group SQL by
its text - the critic's own vote and scoring run in tests/e2e/test_controller.py."""

from __future__ import annotations

from collections import Counter

from services.controller.gold_free_gate import (
    clear_majority,
    compare_by_review,
    compare_without_gold,
    pooled,
    pseudo_labels,
)
from shared.answering import Answer, Ballots, QuestionIn, VoteOutcome

BROKEN = "SELECT broken"  # the text voter's failing SQL: it never executes


def text_vote(items: list[Ballots]) -> list[VoteOutcome]:
    """A vote by identical text (the critic's groups by result); BROKEN never executes."""
    out = []
    for item in items:
        ran = [s for s in item.sql if s != BROKEN]
        if not ran:
            out.append(VoteOutcome())
            continue
        top, size = Counter(ran).most_common(1)[0]
        out.append(VoteOutcome(item.sql.index(top), size, len(ran)))
    return out


def text_score(asked):
    return [label == sql for _q, label, sql in asked]


def answer(greedy: str, *samples: str) -> Answer:
    return Answer(greedy, greedy, list(samples))


Q = [QuestionIn(str(i), "db", f"question {i}") for i in range(4)]


def test_the_pool_takes_as_many_answers_from_each_version():
    many, few = answer("a", "a", "a", "a"), answer("b", "b")
    assert pooled(many, few) == ["a", "a", "b", "b"]  # two of the four, as the other has two
    assert pooled(answer("", "a"), answer("b")) == ["a", "b"]  # an empty greedy answer is not a vote


def test_a_pseudo_label_needs_a_clear_majority_of_the_pool():
    candidate = [answer("x", "x", "x"), answer("x", "x", "x"), answer("x", "y", "z"), answer(BROKEN, BROKEN)]
    serving = [answer("y", "x", "x"), answer("y", "y", "y"), answer("y", "z", "x"), answer(BROKEN, BROKEN)]
    labels = pseudo_labels(Q, candidate, serving, text_vote, share=0.5, min_votes=2)
    # q0: 5 of 6 say x; q1: 3 against 3, no majority; q2: two of six; q3: nothing executes.
    assert labels == {"0": "x"}
    assert pseudo_labels(Q, candidate, serving, text_vote, share=0.9, min_votes=2) == {}
    assert not clear_majority(VoteOutcome(0, 1, 1), share=0.5, min_votes=2)  # one vote is no majority
    assert clear_majority(VoteOutcome(0, 5, 5), share=0.5, min_votes=2)
    assert not clear_majority(VoteOutcome(0, 5, 5, empty=True), share=0.5, min_votes=2)  # agreeing on nothing


def test_each_greedy_answer_is_scored_against_the_label_and_executability_is_counted():
    candidate = [answer("x", "x", "x"), answer("p", "p", "p"), answer(BROKEN, "q", "q"), answer("", "r")]
    serving = [answer("y", "x", "x"), answer("p", "p", "p"), answer("q", "q", "q"), answer(BROKEN, BROKEN)]
    result = compare_without_gold(Q, candidate, serving, text_vote, text_score, share=0.5, min_votes=2)
    assert result.questions == 4 and result.labelled == 3
    assert result.candidate == {"0": True, "1": True, "2": False}
    assert result.serving == {"0": False, "1": True, "2": True}
    assert (result.candidate_executes, result.serving_executes) == (0.5, 0.75)


def test_by_review_only_different_results_are_reviewed_and_an_answer_that_runs_beats_one_that_fails():
    questions = [QuestionIn(str(i), "db", f"question {i}") for i in range(6)]
    candidate = [answer(x) for x in ("same", "good", "worse", BROKEN, "runs", "tie")]
    serving = [answer(x) for x in ("same", "bad", "better", "runs", BROKEN, "tie2")]
    asked = []
    preference = {"good": -1.0, "bad": -5.0, "worse": -9.0, "better": -2.0, "tie": -3.0, "tie2": -3.0}

    def review(question, sqls):
        asked.append((question.id, list(sqls)))
        return [preference[sql] for sql in sqls]

    result = compare_by_review(questions, candidate, serving, text_vote, text_score, review)
    assert sorted(q for q, _ in asked) == ["1", "2", "5"]  # both ran, with different results
    assert asked[0][1] == ["good", "bad"]  # the candidate's SQL first
    assert result.candidate == {"0": True, "1": True, "2": False, "3": False, "4": True, "5": True}
    assert result.serving == {"0": True, "1": False, "2": True, "3": True, "4": False, "5": True}
    assert (result.reviewed, result.questions, result.labelled) == (3, 6, 6)
    assert (result.candidate_executes, result.serving_executes) == (5 / 6, 5 / 6)
    unscored = compare_by_review(questions, candidate, serving, text_vote, text_score, lambda q, s: None)
    assert unscored.candidate["1"] and unscored.serving["1"]  # no scores: neither wins on it
    neither = compare_by_review(Q[:1], [answer(BROKEN)], [answer("")], text_vote, text_score, review)
    assert (neither.candidate, neither.serving) == ({"0": False}, {"0": False})
    swapped = compare_by_review(questions, serving, candidate, text_vote, text_score, review)
    assert (swapped.candidate, swapped.serving) == (
        result.serving,
        result.candidate,
    )  # one reviewer: mirrored


def test_the_calibration_counts_agreement_wrong_rollouts_and_how_the_differences_track():
    from benchmarks.gate_calibration import summarise

    def pair(order, gold_diff, gold_out, free_diff, free_out):
        return {
            "order": order,
            "gold": {"difference": gold_diff, "roll_out": gold_out},
            "gold_free": {"difference": free_diff, "roll_out": free_out},
        }

    pairs = [
        pair(0, 0.08, True, 0.07, True),  # both roll out
        pair(1, -0.08, False, -0.07, False),  # the same pair the other way: both reject
        pair(0, 0.02, True, -0.01, False),  # gold rolls out, gold-free does not
        pair(1, -0.02, False, 0.01, True),  # ... and the other way round: a rollout gold calls worse
        pair(0, -0.05, False, -0.06, False),
        pair(1, 0.05, True, 0.06, True),
    ]
    summary = summarise(pairs)
    assert (summary["decisions"], summary["agree"], summary["agreement"]) == (6, 4, 0.667)
    assert (summary["gold_rollouts"], summary["gold_free_rollouts"], summary["wrong_rollouts"]) == (3, 3, 1)
    assert (summary["pairs"], summary["same_sign"]) == (3, 2)  # each unordered pair once
    assert summary["difference_correlation"] > 0.9
    assert summarise(pairs[:2])["difference_correlation"] is None  # one pair says nothing
    assert summarise(pairs, "gold_free_review")["decisions"] == 0  # pairs decided by vote only


def test_the_reviewer_is_the_serving_version_or_the_base_it_was_trained_from():
    """gate_reviewer: a trained serving version reviews with its adapter and its own prompt; the base
    reviewer is the same base model without the adapter, asked as a base (few_shot_k shots)."""
    from services.controller.settings import RunSettings
    from services.controller.steps.gold_free import reviewer_of
    from services.controller.versions import ServedModel, base_version_id
    from shared.store import ModelVersion

    trained = ModelVersion(
        version="abc-r2",
        base="/models/coder",
        artifact_path="/versions/abc-r2",
        hyperparameters={"method": "lora", "prompt": {"few_shot_k": 0}},
    )
    own, own_shots = reviewer_of(trained, RunSettings(few_shot_k=3, gate_reviewer="serving"))
    assert own == ServedModel("abc-r2", "/models/coder", "/versions/abc-r2") and own_shots == 0
    base, base_shots = reviewer_of(trained, RunSettings(few_shot_k=3, gate_reviewer="base"))
    assert base == ServedModel(base_version_id("/models/coder"), "/models/coder", "") and base_shots == 3
