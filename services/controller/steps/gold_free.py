"""EVALUATE without gold SQL: both versions answer the held-out questions from the work slot (each
with its own prompt), and services/controller/gold_free_gate.py compares them - by review (greedy
answers; the base model, or the serving version, reviews where their results differ) or by vote (also `gate_samples`
samples each, pooled into pseudo-labels) - with the critic's vote and scoring. No gold SQL is read:
a held-out split with it is asked exactly as one without."""

from __future__ import annotations

from collections.abc import Sequence

from services.controller.faults import crash_point
from services.controller.generation_client import QUESTIONS_PER_CALL, WORK
from services.controller.gold_free_gate import GoldFreeComparison, compare_by_review, compare_without_gold
from services.controller.settings import RunSettings
from services.controller.steps.base import StepBase
from services.controller.versions import ServedModel, base_of, prompt_k, served_model
from shared.answering import Answer, QuestionIn, write_answers
from shared.catalogue import Example
from shared.pb import critic_pb2, generation_pb2
from shared.store import ModelVersion


def questions_of(examples: Sequence[Example]) -> list[QuestionIn]:
    """The held-out questions as asked: their text and evidence, never their SQL; ids by position
    (a split's own ids need not be unique across its files)."""
    return [QuestionIn(str(i), e.db_id, e.question, e.evidence) for i, e in enumerate(examples)]


def answers_of(
    step: StepBase,
    version: ModelVersion,
    settings: RunSettings,
    questions: Sequence[QuestionIn],
    samples: int,
) -> list[Answer]:
    """The version's greedy answer and `samples` samples per question, from the work slot."""
    shots = prompt_k(version, settings)
    step.generation.in_work_slot(served_model(version))  # beside what serves, never in its place
    write = step.generation.writer(
        shots=shots, slot=WORK, constrain=settings.constrain, expect=version.version
    )
    answers: list[Answer] = []
    for index in range(0, len(questions), QUESTIONS_PER_CALL):
        step.check_stop()
        chunk = questions[index : index + QUESTIONS_PER_CALL]
        seed = settings.seed * 1_000 + index
        answers += write_answers(chunk, write, settings.greedy(), samples, settings.sampling(seed))
        crash_point("EVALUATE:mid")
    return answers


def method_of(settings: RunSettings, backend: generation_pb2.ModelInfo) -> str:
    """The run's gold-free method, or vote where the generation backend cannot score text."""
    if settings.gate_free_method == "review" and not backend.reviews:
        return "vote"
    return settings.gate_free_method


def reviewer_of(serving: ModelVersion, settings: RunSettings) -> tuple[ServedModel, int]:
    """The model that judges answers with different results, and the shots it is asked with: the
    serving version, or (gate_reviewer base) the base model it was trained from, asked as a base."""
    if settings.gate_reviewer == "base":
        return base_of(serving), settings.few_shot_k
    return served_model(serving), prompt_k(serving, settings)


def compare(
    step: StepBase,
    new: ModelVersion,
    serving: ModelVersion,
    settings: RunSettings,
    examples: Sequence[Example],
    method: str,
) -> GoldFreeComparison:
    questions = questions_of(examples)
    samples = settings.gate_samples if method == "vote" else 0
    candidate = answers_of(step, new, settings, questions, samples)
    current = answers_of(step, serving, settings, questions, samples)  # the work slot now holds it
    timeout = settings.evaluate_timeout_seconds

    def score(asked: Sequence[tuple[QuestionIn, str, str]]) -> list[bool]:
        predictions = [
            critic_pb2.Prediction(
                id=str(k), db_id=q.db_id, question=q.question, gold_sql=label, predicted_sql=sql
            )
            for k, (q, label, sql) in enumerate(asked)
        ]
        reply = step.critic.evaluate(predictions, test_suite=False, timeout=timeout)
        matched = {r.id: r.execution_match for r in reply.queries}
        return [matched.get(str(k), False) for k in range(len(asked))]

    voter = step.critic.voter(timeout=timeout)
    if method == "review":
        reviewer, shots = reviewer_of(serving, settings)
        step.generation.in_work_slot(reviewer)  # a no-op for the serving version, which answered last

        def review(question: QuestionIn, sqls: Sequence[str]) -> list[float] | None:
            step.check_stop()  # None (e.g. SQL past the context window): no winner on it
            return step.generation.review_or_none(
                question.db_id, question.question, sqls, shots=shots, slot=WORK, expect=reviewer.version
            )

        return compare_by_review(questions, candidate, current, voter, score, review)
    return compare_without_gold(
        questions, candidate, current, voter, score, settings.majority_share, settings.majority_min_votes
    )
