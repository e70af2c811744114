"""EVALUATE: the new version and the serving one on the same held-out questions, each asked with its
own prompt from the generation service's work slot (what serves is never touched), scored by the
critic, stored per question and compared by the paired gate."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from services.controller.enums import Outcome, Step
from services.controller.evaluation_keys import split_head, unique_ids
from services.controller.faults import crash_point
from services.controller.gate import decide, power_figures, power_note
from services.controller.generation_client import QUESTIONS_PER_CALL, WORK
from services.controller.question_log import LOG_SPLIT, logged_questions, split_log
from services.controller.settings import RunSettings
from services.controller.steps import gold_free
from services.controller.steps.base import Context, StepBase, StepResult
from services.controller.versions import prompt_k, served_model
from shared.answering import QuestionIn, answer_by_vote
from shared.catalogue import Example
from shared.event_kinds import EventKind
from shared.pb import critic_pb2
from shared.prompts import REPAIR_TEMPLATE, SQL_TEMPLATE
from shared.stats import PairedComparison, compare_paired
from shared.store import Evaluation, ModelVersion, Run
from shared.training_data import file_hash


class Evaluate(StepBase):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._digests: dict[tuple[str, int, int], str] = {}

    def eval_examples(self, settings: RunSettings, log_before: datetime | None = None) -> list[Example]:
        """The held-out split's questions (eval_limit of them); a run on the question log adds the
        log's held-out questions with a person's SQL (asked before log_before: one round's gate
        questions stay the same however many arrive while it runs). When the split has no SQL,
        the log's questions are the gate's alone: gold beats pseudo-labels."""
        examples = self.ctx.catalogue.examples(settings.eval_split)
        examples = examples[: settings.eval_limit] if settings.eval_limit else examples
        if settings.questions_from != "log":
            return examples
        asked = logged_questions(self.ctx.store, self.ctx.catalogue.db_ids, before=log_before)
        logged = split_log(asked, settings.log_holdout).gate
        if logged and not any(e.query for e in examples):
            return logged
        return examples + logged

    def split_key(self, settings: RunSettings, shots: int, examples: list[Example], engine: str = "") -> str:
        """What an evaluation is reused for: everything that changes its score - the held-out
        questions and databases (content), limit, test suites, the prompt (template, shots), the
        decoding (greedy, token budget) and the generation engine. A readable head and a digest of
        the rest."""
        content = {
            "examples": [[e.id, e.db_id, e.question, e.query] for e in examples],
            "databases": {
                db: self._file_digest(self.ctx.catalogue.path(db)) for db in {e.db_id for e in examples}
            },
            "template": SQL_TEMPLATE,
            "shots": shots,
            "decoding": {"temperature": 0.0, "max_new_tokens": settings.max_new_tokens}
            | (
                {
                    "voted_samples": settings.eval_samples,
                    "temperature": settings.temperature,
                    "seed": settings.seed,
                }
                if settings.eval_samples
                else {}
            ),
            "test_suite": settings.test_suite,
            "engine": engine,
        }
        if len({e.id for e in examples}) < len(examples):  # repeated ids, kept apart (unique_ids) since:
            content["ids"] = "numbered"  # never an evaluation stored when they were merged
        if settings.constrain != "off":  # keys of evaluations made before constrain existed hold
            content["constrain"] = settings.constrain
        if settings.eval_repair:  # ... and those made before repair existed
            content["repair"] = {"attempts": settings.eval_repair, "template": REPAIR_TEMPLATE}
        digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]
        return split_head(settings, shots) + digest

    def _file_digest(self, path: Path) -> str:
        """SHA-256 of a database file, remembered while its size and mtime stay the same."""
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if key not in self._digests:
            self._digests[key] = file_hash(path)
        return self._digests[key]

    def ensure_evaluated(
        self, version: ModelVersion, settings: RunSettings, examples: list[Example]
    ) -> Evaluation:
        """The version's accuracy on these held-out questions, asked with its own prompt, per
        question; computed once and kept in the store."""
        shots = prompt_k(version, settings)
        key = self.split_key(settings, shots, examples, self.generation.engine())
        with self.ctx.store.session() as s:
            found = s.scalar(
                select(Evaluation).where(Evaluation.model_version == version.version, Evaluation.split == key)
            )
            if found is not None:
                return found
        self.generation.in_work_slot(served_model(version))  # beside what serves, never in its place
        applied: set[str] = set()  # the grammar strengths generation applied to these answers
        predictions = []
        ids = unique_ids([e.id for e in examples])
        for index in range(0, len(examples), QUESTIONS_PER_CALL):
            self.check_stop()
            chunk = examples[index : index + QUESTIONS_PER_CALL]
            answers = answer_by_vote(
                [QuestionIn(str(i), e.db_id, e.question, e.evidence) for i, e in enumerate(chunk)],
                self.generation.writer(
                    shots=shots,
                    slot=WORK,
                    constrain=settings.constrain,
                    expect=version.version,
                    applied=applied,
                ),
                self.critic.voter(test_suite=settings.test_suite, timeout=settings.evaluate_timeout_seconds),
                greedy=settings.greedy(),
                samples=settings.eval_samples,
                sampling=settings.sampling(settings.seed * 1_000 + index),
                repair_attempts=settings.eval_repair,
            )
            predictions += [
                critic_pb2.Prediction(
                    id=ids[index + i],
                    db_id=e.db_id,
                    question=e.question,
                    gold_sql=e.query,
                    predicted_sql=answer.sql,
                )
                for i, (e, answer) in enumerate(zip(chunk, answers, strict=True))
            ]
            crash_point("EVALUATE:mid")
        reply = self.critic.evaluate(
            predictions, test_suite=settings.test_suite, timeout=settings.evaluate_timeout_seconds
        )
        accuracy = reply.accuracy
        by_hardness = {
            level: {"total": a.total, "execution": a.execution, "test_suite": a.test_suite}
            for level, a in accuracy.by_hardness.items()
        }
        with self.ctx.store.session() as s:
            self.ctx.store.insert_ignore(
                s,
                Evaluation,
                [
                    {
                        "model_version": version.version,
                        "split": key,
                        "total": accuracy.total,
                        "execution": accuracy.execution,
                        "test_suite": accuracy.test_suite if settings.test_suite else None,
                        "by_hardness": by_hardness,
                        "per_question": {
                            q.id: [bool(q.execution_match), bool(q.test_suite_match)] for q in reply.queries
                        },
                        "constrain": "+".join(sorted(applied)) or None,
                    }
                ],
            )
            return s.scalar(
                select(Evaluation).where(Evaluation.model_version == version.version, Evaluation.split == key)
            )

    def run(self, run: Run, settings: RunSettings, number: int) -> StepResult:
        with self.ctx.store.session() as s:
            new = s.get(ModelVersion, self.round_row(s, run.id, number).model_version)
            serving = s.get(ModelVersion, s.get(Run, run.id).serving_version)
            started = self.round_row(s, run.id, number).started_at
        if serving is not None and new.version == serving.version:  # put into service by hand
            with self.ctx.store.session() as s:  # (rollback --force while the run lay failed)
                self.round_row(s, run.id, number).outcome = Outcome.ROLLED_OUT
            self.event(
                run.id, number, Step.EVALUATE, EventKind.GATE, f"{new.version} already serves: not gated"
            )
            return Step.DONE, {"rolled_out": 1}
        examples = self.eval_examples(settings, log_before=started)
        if not settings.gate_gold or not any(e.query for e in examples):
            return self._gold_free(run, settings, number, new, serving, examples)
        examples = [e for e in examples if e.query]  # (a split without SQL beside the log's gold)
        old_eval = self.ensure_evaluated(serving, settings, examples)
        new_eval = self.ensure_evaluated(new, settings, examples)
        column = 1 if settings.test_suite else 0  # the gate's metric: TS when computed, else EX
        metric = "test_suite" if settings.test_suite else "execution"
        comparison = compare_paired(
            {q: bool(r[column]) for q, r in (new_eval.per_question or {}).items()},
            {q: bool(r[column]) for q, r in (old_eval.per_question or {}).items()},
        )
        figures = {
            "new_execution": new_eval.execution,
            "serving_execution": old_eval.execution,
            "new_test_suite": new_eval.test_suite or 0.0,
            "serving_test_suite": old_eval.test_suite or 0.0,
            "eval_samples": settings.eval_samples,  # 0: greedy answers; N: voted over N samples
            **log_figures(new_eval, old_eval, column),
        }
        answers = (
            f"answers voted over {settings.eval_samples} samples"
            if settings.eval_samples
            else "greedy answers"
        )
        how = f"{metric}, {settings.gate_mode} gate, {answers}"
        return self._gate(run, number, settings, new, serving, comparison, how, figures)

    def _gold_free(
        self,
        run: Run,
        settings: RunSettings,
        number: int,
        new: ModelVersion,
        serving: ModelVersion,
        examples: list[Example],
    ) -> StepResult:
        """The gate without gold (steps/gold_free.py): by review, the questions where the versions'
        answers differ, judged by the reviewer (gate_reviewer); by vote, pseudo-EX on the questions whose
        pooled samples agree. Beside either, the share of each version's answers that execute."""
        backend = self.generation.describe()
        method = gold_free.method_of(settings, backend)
        if method != settings.gate_free_method:
            self.event(
                run.id,
                number,
                "EVALUATE",
                EventKind.SKIPPED,
                f"gold-free gate by vote, not {settings.gate_free_method}: the generation backend "
                f"({backend.backend}) does not score text",
            )
        result = gold_free.compare(self, new, serving, settings, examples, method)
        comparison = compare_paired(result.candidate, result.serving)
        figures = {
            "gate_gold_free": 1.0,
            "gate_questions": result.questions,
            "gate_pseudo_labelled": result.labelled,
            "new_pseudo_execution": comparison.candidate_accuracy,
            "serving_pseudo_execution": comparison.parent_accuracy,
            "new_executes": result.candidate_executes,
            "serving_executes": result.serving_executes,
        }
        if method == "vote":
            figures["gate_samples"] = settings.gate_samples
            how = (
                f"gold-free {settings.gate_mode} gate by vote: pseudo-labels from {settings.gate_samples} "
                f"samples of each version on {result.labelled} of {result.questions} held-out questions"
            )
        else:
            figures["gate_reviewed"] = result.reviewed
            figures["gate_base_reviewer"] = float(settings.gate_reviewer == "base")
            reviewer = "serving version" if settings.gate_reviewer == "serving" else "base model"
            how = (
                f"gold-free {settings.gate_mode} gate by review: the {reviewer} judged the "
                f"{result.reviewed} of {result.questions} held-out questions the two answer with different "
                "results; an answer that runs beats one that fails"
            )
        how += f"; answers that execute {result.candidate_executes:.3f} vs {result.serving_executes:.3f}"
        return self._gate(run, number, settings, new, serving, comparison, how, figures)

    def _gate(
        self,
        run: Run,
        number: int,
        settings: RunSettings,
        new: ModelVersion,
        serving: ModelVersion,
        comparison: PairedComparison,
        how: str,
        figures: dict[str, float],
    ) -> StepResult:
        """The gate's decision on a paired comparison, with its power, recorded as the GATE event."""
        decision = decide(comparison, settings.gate_mode, settings.gate_margin, settings.gate_alpha)
        figures = {
            **figures,
            **power_figures(comparison.questions, settings.gate_alpha),
            **{f"paired_{k}": v for k, v in comparison.as_figures().items()},
        }
        self.event(
            run.id,
            number,
            "EVALUATE",
            EventKind.GATE,
            f"{new.version} vs serving {serving.version} ({how}): {decision.reason}"
            f"{power_note(comparison.questions, settings.gate_alpha)} -> "
            f"{'roll out' if decision.roll_out else 'reject'}",
            figures,
        )
        return (Step.ROLLOUT if decision.roll_out else Step.REJECT), figures


def log_figures(new: Evaluation, serving: Evaluation, column: int) -> dict[str, float]:
    """Both versions on the question log's held-out questions alone (what users ask), when the gate
    had any: the share each got right of those."""
    ids = [q for q in (new.per_question or {}) if q.startswith(f"{LOG_SPLIT}:")]
    if not ids:
        return {}
    right = {
        name: sum(bool((e.per_question or {}).get(q, [False, False])[column]) for q in ids) / len(ids)
        for name, e in (("new", new), ("serving", serving))
    }
    return {
        "log_questions": len(ids),
        "new_log_execution": right["new"],
        "serving_log_execution": right["serving"],
    }
