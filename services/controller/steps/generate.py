"""GENERATE: candidates from the serving version (or the run's teacher, from the work slot) -
labelled SQL for sampled train questions, self-instruct pairs per database with their round-trip
resamples. Each piece of work is a task stored with its done-marker in one transaction."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from services.controller import coverage
from services.controller.clients import with_retry
from services.controller.enums import Mode, Step
from services.controller.faults import crash_point
from services.controller.rollout import RolloutError, ServedModel
from services.controller.settings import RunSettings
from services.controller.steps.base import StepBase, StepResult
from services.controller.versions import key_hash, prompt_k, served_model, teacher_model
from shared.catalogue import Example
from shared.pb import common_pb2, critic_pb2, generation_pb2
from shared.sql import HARDNESS_LEVELS
from shared.store import Candidate, Event, ModelVersion, Run, Verdict

LABELLED_CHUNK = 16  # train questions per GenerateSql call (and per task)


class Generate(StepBase):
    def run(self, run: Run, settings: RunSettings, number: int) -> StepResult:
        with self.ctx.store.session() as s:
            serving = s.get(ModelVersion, s.get(Run, run.id).serving_version)
            s.expunge(serving)
        # Candidates come from the serving version, or from the run's teacher, asked with its own prompt.
        teacher = teacher_model(settings)
        writer = teacher or served_model(serving)
        shots = settings.few_shot_k if teacher else prompt_k(serving, settings)
        if teacher:  # the teacher writes from the work slot; what serves is untouched
            slot = generation_pb2.MODEL_SLOT_WORK
            self.in_work_slot(teacher)
        else:
            slot = generation_pb2.MODEL_SLOT_SERVING
            if self.ctx.rollout.serving_version() != writer.version:
                self.load(writer)  # the store's serving version, restored (e.g. after a restart)
        seed_base = settings.seed * 100_000 + number * 1_000
        if settings.mode in (Mode.LABELLED, Mode.BOTH):
            examples = self._train_examples(settings)
            rng = random.Random(seed_base)
            if settings.questions_per_round and settings.questions_per_round < len(examples):
                examples = rng.sample(examples, settings.questions_per_round)
            self._sample_sql(run.id, number, settings, examples, "labelled", writer, shots, slot, seed_base)
        if settings.mode == Mode.UNLABELLED:
            examples = self._unlabelled_questions(run.id, number, settings, seed_base)
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
        carries the question's other samples instead, which it is judged against by vote."""
        generation = self.ctx.clients.generation
        for index in range(0, len(examples), LABELLED_CHUNK):
            task = f"{source}:{index // LABELLED_CHUNK}"
            if self.task_done(run_id, number, task):
                continue
            self.check_stop()
            chunk = examples[index : index + LABELLED_CHUNK]
            request = generation_pb2.GenerateSqlRequest(
                questions=[
                    generation_pb2.QuestionItem(id=str(i), db_id=e.db_id, question=e.question)
                    for i, e in enumerate(chunk)
                ],
                n=settings.samples_per_question,
                few_shot_k=shots,
                sampling=self.sampling(settings, seed_base + index),
                slot=slot,
            )
            reply = with_retry(
                lambda request=request: generation.GenerateSql(request),
                "generate SQL",
                should_stop=self.ctx.should_stop,
            )
            self._check_writer(reply.model_version, writer)
            rows = []
            for result in reply.results:
                e = chunk[int(result.question_id)]
                samples = list(result.sql)
                for sql in dict.fromkeys(samples):
                    others = list(samples)
                    others.remove(sql)
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
                            version=reply.model_version,
                            resampled=others if source == "unlabelled" else None,
                        )
                    )
            self._store_candidates(run_id, number, task, rows)
            crash_point("GENERATE:mid")

    def _unlabelled_questions(
        self, run_id: str, number: int, settings: RunSettings, seed_base: int
    ) -> list[Example]:
        """This round's questions: those no earlier round of the run labelled (a question without a
        majority comes back: the next version may agree with itself), questions_per_round of them
        when set. Only the question travels on: the split's SQL, if it has any, is dropped here."""
        with self.ctx.store.session() as s:
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
            for e in self._train_examples(settings)
            if (e.db_id, e.question) not in labelled
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
            s.add(
                Event(
                    run_id=run_id,
                    round=number,
                    step="GENERATE",
                    kind="task_done",
                    message=task,
                    figures={"candidates": inserted, **(figures or {})},
                )
            )
        return inserted

    def _candidate_row(
        self,
        run_id: str,
        number: int,
        source: str,
        db_id: str,
        question: str,
        sql: str,
        gold: str = "",
        hardness: str = "",
        version: str = "",
        resampled: list[str] | None = None,
    ) -> dict[str, Any]:
        key = key_hash(source, db_id, question, sql)
        return {
            "id": key_hash(run_id, number, key)[:32],
            "run_id": run_id,
            "round": number,
            "key": key,
            "db_id": db_id,
            "question": question,
            "sql": sql,
            "gold_sql": gold or None,
            "source": source,
            "hardness": hardness or None,
            "model_version": version,
            "resampled_sql": resampled or [],
        }

    def _hardness_buckets(self, settings: RunSettings, n: int) -> list[tuple[str, int]]:
        mix = {k: v for k, v in settings.complexity_mix.items() if k in HARDNESS_LEVELS and v > 0} or {
            k: 1.0 for k in HARDNESS_LEVELS
        }
        total = sum(mix.values())
        counts = {k: int(n * v / total) for k, v in mix.items()}
        for k in sorted(mix, key=lambda k: -mix[k])[: n - sum(counts.values())]:
            counts[k] += 1
        return [(k, c) for k, c in counts.items() if c > 0]

    @staticmethod
    def _check_writer(reply_version: str, writer: ServedModel) -> None:
        """Runs on other lineages may share the generation service: store only what the expected model wrote."""
        if reply_version != writer.version:
            raise RolloutError(
                f"expected candidates from {writer.version}, generation served {reply_version}"
            )

    def _self_instruct(
        self,
        run_id: str,
        number: int,
        settings: RunSettings,
        db_id: str,
        seed: int,
        writer: ServedModel,
        shots: int,
        slot: int,
    ) -> tuple[list[dict[str, Any]], dict[str, float]]:
        """Pairs over the database's tables and join paths; near-duplicates dropped and pairs that
        do not run (or return nothing) set aside before anything is spent re-answering them; then
        each survivor's question is re-answered consistency_samples times, for the critic's vote."""
        generation = self.ctx.clients.generation
        clock = time.monotonic()
        plan = coverage.focuses(self.ctx.catalogue.schema(db_id))
        # One call for the database: its rows take the hardness mix and the focuses in turn, so a
        # batch mixes levels and tables and decodes them together.
        levels = coverage.interleave(self._hardness_buckets(settings, settings.candidates_per_db))
        request = generation_pb2.GeneratePairsRequest(
            db_id=db_id,
            n=settings.candidates_per_db,
            levels=levels,
            few_shot_k=settings.few_shot_k,
            sampling=self.sampling(settings, seed),
            slot=slot,
            focus=[
                generation_pb2.TableFocus(tables=f)
                for f in coverage.rotate(plan, (number - 1) * settings.candidates_per_db)
            ],
        )
        pairs = with_retry(
            lambda: list(generation.GeneratePairs(request)),
            f"generate pairs for {db_id}",
            should_stop=self.ctx.should_stop,
        )
        for pair in pairs:
            self._check_writer(pair.model_version, writer)
        figures = {"pairs": len(pairs), "pair_seconds": time.monotonic() - clock}
        clock = time.monotonic()
        fresh = coverage.drop_near_duplicates(pairs, self._earlier_pairs(run_id, number, db_id))
        runnable = self._runs_and_answers(db_id, fresh, settings) if settings.consistency_samples else set()
        figures |= {
            "near_duplicates": len(pairs) - len(fresh),
            "set_aside": len(fresh) - len(runnable),
            "prefilter_seconds": time.monotonic() - clock,
        }
        clock = time.monotonic()
        resampled: dict[str, list[str]] = {}
        if runnable:
            request = generation_pb2.GenerateSqlRequest(
                questions=[
                    generation_pb2.QuestionItem(id=str(i), db_id=db_id, question=fresh[i].question)
                    for i in sorted(runnable)
                ],
                n=settings.consistency_samples,
                few_shot_k=shots,
                sampling=self.sampling(settings, seed + 99),
                slot=slot,
            )
            reply = with_retry(
                lambda: generation.GenerateSql(request), "resample SQL", should_stop=self.ctx.should_stop
            )
            resampled = {r.question_id: list(r.sql) for r in reply.results}
        figures["reanswer_seconds"] = time.monotonic() - clock
        rows = [
            self._candidate_row(
                run_id,
                number,
                "self_instruct",
                db_id,
                p.question,
                p.sql,
                hardness=p.hardness,
                version=p.model_version,
                resampled=resampled.get(str(i), []),
            )
            for i, p in enumerate(fresh)
        ]
        return rows, figures

    def _earlier_pairs(self, run_id: str, number: int, db_id: str) -> list[tuple[str, str]]:
        with self.ctx.store.session() as s:
            return [
                (q, sql)
                for q, sql in s.execute(
                    select(Candidate.question, Candidate.sql).where(
                        Candidate.run_id == run_id,
                        Candidate.round < number,
                        Candidate.db_id == db_id,
                        Candidate.source == "self_instruct",
                    )
                ).all()
            ]

    def _runs_and_answers(self, db_id: str, pairs: list[Any], settings: RunSettings) -> set[int]:
        """Indices of the pairs whose SQL executes and returns a real answer (the critic's checks
        without a vote): only these are worth re-answering."""
        if not pairs:
            return set()
        request = critic_pb2.JudgeRequest(
            options=critic_pb2.JudgeOptions(test_suite=False, consistency_samples=0, dedupe=False),
            candidates=[
                common_pb2.Candidate(
                    id=str(i), db_id=db_id, question=p.question, sql=p.sql, source="self_instruct"
                )
                for i, p in enumerate(pairs)
            ],
        )
        verdicts = with_retry(
            lambda: list(
                self.ctx.clients.critic.JudgeCandidates(request, timeout=settings.judge_timeout_seconds)
            ),
            "check pairs",
            should_stop=self.ctx.should_stop,
        )
        return {int(v.candidate_id) for v in verdicts if v.kept}
