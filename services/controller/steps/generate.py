"""GENERATE: candidates from the serving version (or the run's teacher, from the work slot) - SQL
samples for train questions (labelled: with their gold for the critic; unlabelled: never with it,
each sample carrying its question's other samples as votes), and self-instruct pairs per database
over its tables and join paths with their re-answers. Each piece of work is a task stored with its
done-marker in one transaction."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from sqlalchemy import distinct, func, select

from services.controller.enums import Mode, Step
from services.controller.events import record
from services.controller.faults import crash_point
from services.controller.generation_client import QUESTIONS_PER_CALL, WORK
from services.controller.question_log import log_databases, logged_questions, split_log
from services.controller.settings import RunSettings
from services.controller.steps.base import StepResult
from services.controller.steps.candidates import CandidateWriter
from services.controller.steps.writer import round_writer
from services.controller.versions import ServedModel
from shared.answering import QuestionIn
from shared.catalogue import Example
from shared.event_kinds import EventKind
from shared.store import Candidate, Run, Verdict


class Generate(CandidateWriter):
    def run(self, run: Run, settings: RunSettings, number: int) -> StepResult:
        # Candidates come from the serving version, or from the run's teacher, asked with its own prompt.
        chosen = round_writer(self, run.id, settings)
        writer, shots, slot = chosen.model, chosen.shots, chosen.slot
        if slot == WORK:
            self._record_precision(run.id, number, chosen.precision)
        seed_base = settings.seed * 100_000 + number * 1_000
        if settings.mode in (Mode.LABELLED, Mode.BOTH):
            examples = self._train_examples(settings)
            rng = random.Random(seed_base)
            if settings.questions_per_round and settings.questions_per_round < len(examples):
                examples = rng.sample(examples, settings.questions_per_round)
            self._sample_sql(run.id, number, settings, examples, "labelled", writer, shots, slot, seed_base)
        if settings.mode == Mode.UNLABELLED:
            if settings.questions_from == "log":
                pool, labelled = self._log_questions(run.id, number, settings)
                if labelled:  # a person's SQL: sampled and judged against it, as labelled mode does
                    self._sample_sql(
                        run.id, number, settings, labelled, "labelled", writer, shots, slot, seed_base
                    )
            else:
                pool = self._train_examples(settings)
            examples = self._unlabelled_questions(run.id, number, settings, seed_base, pool)
            self._sample_sql(run.id, number, settings, examples, "unlabelled", writer, shots, slot, seed_base)
        if settings.mode in (Mode.SELF_INSTRUCT, Mode.BOTH):
            for db_index, db_id in enumerate(self._databases(settings)):
                task = f"self_instruct:{db_id}"
                if self.task_done(run.id, number, task):
                    continue
                self.check_stop()
                rows, figures = self._self_instruct(
                    run.id, number, settings, db_id, seed_base + 500 + db_index, writer, shots, slot
                )
                self._store_candidates(run.id, number, task, rows, figures)
                crash_point("GENERATE:mid")
        with self.ctx.store.session() as s:
            total = s.query(Candidate).filter(Candidate.run_id == run.id, Candidate.round == number).count()
        return Step.JUDGE, {"generated": total}

    def _record_precision(self, run_id: str, number: int, precision: str) -> None:
        """The round's figures say how its candidates were sampled (the report and benchmarks read it)."""
        with self.ctx.store.session() as s:
            rnd = self.round_row(s, run_id, number)
            rnd.figures = {**(rnd.figures or {}), "generate_precision": precision}

    def _sample_sql(
        self,
        run_id: str,
        number: int,
        settings: RunSettings,
        examples: list[Example],
        source: str,
        writer: ServedModel,
        shots: int,
        slot: int,
        seed_base: int,
    ) -> None:
        """samples_per_question SQL for each question, a chunk of questions per task. Labelled
        candidates carry their gold SQL (for the critic only); unlabelled ones never do: each
        carries the question's other samples instead, which it is judged against by vote. Samples
        that fail to run are repaired first; the repairs are samples of their own."""
        for index in range(0, len(examples), QUESTIONS_PER_CALL):
            task = f"{source}:{index // QUESTIONS_PER_CALL}"
            if self.task_done(run_id, number, task):
                continue
            self.check_stop()
            chunk = examples[index : index + QUESTIONS_PER_CALL]
            questions = [QuestionIn(str(i), e.db_id, e.question, e.evidence) for i, e in enumerate(chunk)]
            reply = self.generation.generate_sql(
                questions,
                settings.samples_per_question,
                settings.sampling(seed_base + index),
                shots=shots,
                slot=slot,
                constrain=settings.constrain,
                expect=writer.version,
                example_sets=settings.example_sets,
            )
            repairs = self._repairs(questions, reply.sql, settings, writer, shots, slot)
            rows = []
            for e, samples, repaired in zip(chunk, reply.sql, repairs, strict=True):
                for sql, others, repaired_from in self._ballots(samples, repaired):
                    rows.append(
                        self._candidate_row(
                            run_id,
                            number,
                            source,
                            e.db_id,
                            e.question,
                            sql,
                            gold=e.query if source == "labelled" else "",
                            hardness=e.hardness if source == "labelled" else "",
                            version=reply.version,
                            resampled=others if source == "unlabelled" else None,
                            constrain=reply.constrain,
                            repaired=repaired_from,
                        )
                    )
            self._store_candidates(run_id, number, task, rows, {"repairs": sum(len(r) for r in repairs)})
            crash_point("GENERATE:mid")

    def _log_questions(
        self, run_id: str, number: int, settings: RunSettings
    ) -> tuple[list[Example], list[Example]]:
        """The question log as it stood when the round began (a resumed round reads the same
        questions): (questions without a person's SQL, those with it), held-out ones and those on
        the run's held-out databases left out."""
        with self.ctx.store.session() as s:
            started = self.round_row(s, run_id, number).started_at
        dbs = log_databases(settings.db_ids, self.ctx.catalogue.db_ids)
        logged = logged_questions(self.ctx.store, dbs, before=started)
        eval_dbs = {e.db_id for e in self.ctx.catalogue.examples(settings.eval_split)}
        training = split_log(logged, settings.log_holdout, eval_dbs).training
        with_sql = [q.example() for q in training if q.gold_sql]
        if settings.questions_per_round and settings.questions_per_round < len(with_sql):
            with_sql = random.Random(settings.seed * 100_000 + number).sample(
                with_sql, settings.questions_per_round
            )
        return [q.example() for q in training if not q.gold_sql], with_sql

    def _unlabelled_questions(
        self, run_id: str, number: int, settings: RunSettings, seed_base: int, pool: list[Example]
    ) -> list[Example]:
        """This round's questions: those no earlier round of the run labelled (a question without a
        majority comes back: the next version may agree with itself) and that have not been asked
        in max_attempts rounds already, questions_per_round of them when set. Only the question
        travels on: the pool's SQL, if it has any, is dropped here."""
        with self.ctx.store.session() as s:
            asked = s.execute(
                select(Candidate.db_id, Candidate.question, func.count(distinct(Candidate.round)))
                .where(Candidate.run_id == run_id, Candidate.round < number, Candidate.source == "unlabelled")
                .group_by(Candidate.db_id, Candidate.question)
            ).all()
            attempts = {(db_id, question): rounds for db_id, question, rounds in asked}
            labelled = set(
                s.execute(
                    select(Candidate.db_id, Candidate.question)
                    .join(Verdict, Verdict.candidate_id == Candidate.id)
                    .where(
                        Candidate.run_id == run_id,
                        Candidate.round < number,
                        Candidate.source == "unlabelled",
                        Verdict.kept.is_(True),
                    )
                ).all()
            )
        examples = [
            Example(e.db_id, e.question, "", e.split, e.id)
            for e in pool
            if (e.db_id, e.question) not in labelled
            and not (
                settings.max_attempts and attempts.get((e.db_id, e.question), 0) >= settings.max_attempts
            )
        ]
        if settings.questions_per_round and settings.questions_per_round < len(examples):
            examples = random.Random(seed_base).sample(examples, settings.questions_per_round)
        return examples

    def _databases(self, settings: RunSettings) -> list[str]:
        if settings.db_ids:
            return sorted(settings.db_ids)
        train_dbs = {e.db_id for e in self._train_examples(settings, all_dbs=True)}
        return sorted(train_dbs) or self.ctx.catalogue.db_ids

    def _train_examples(self, settings: RunSettings, all_dbs: bool = False) -> list[Example]:
        if "train" not in self.ctx.catalogue.split_files:
            return []
        examples = self.ctx.catalogue.examples("train")
        if settings.db_ids and not all_dbs:
            examples = [e for e in examples if e.db_id in settings.db_ids]
        return examples

    def _store_candidates(
        self, run_id: str, number: int, task: str, rows: Iterable[dict[str, Any]], figures: dict | None = None
    ) -> int:
        """Candidates and the task's done-marker in one transaction: a crash leaves both or neither."""
        with self.ctx.store.session() as s:
            inserted = self.ctx.store.insert_ignore(s, Candidate, list(rows))
            record(
                s,
                EventKind.TASK_DONE,
                task,
                run_id,
                number,
                "GENERATE",
                {"candidates": inserted, **(figures or {})},
            )
        return inserted
