"""One round of recursive distillation as a persisted state machine:

    GENERATE -> JUDGE -> TRAIN -> EVALUATE -> ROLLOUT | REJECT -> DONE

Each step reads what earlier steps stored, does its work in idempotent pieces (candidates and
verdicts are keyed, generation tasks leave a marker when their candidates are stored, the training
job is keyed by run, round and dataset hash), and stores its results before the round's step
advances. Killing the controller anywhere and restarting it resumes the round where it stood.

Crash points for the recovery tests (services/controller/faults.py): <STEP>:start and <STEP>:end for
every step, plus GENERATE:mid, JUDGE:mid, TRAIN:submitted, EVALUATE:mid.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from sqlalchemy import select

from services.controller.clients import ServiceClients, with_retry
from services.controller.faults import crash_point
from services.controller.gate import decide
from services.controller.rollout import Rollout, RolloutError, ServedModel
from services.controller.settings import RunSettings
from services.controller.training_set import KeptRow, seed_rows, select_training_pairs
from shared.catalogue import Catalogue, Example
from shared.datasets import TrainingPair, file_hash, freeze, render_rows
from shared.pb import common_pb2, critic_pb2, generation_pb2, trainer_pb2
from shared.prompts import SQL_TEMPLATE
from shared.sql import HARDNESS_LEVELS
from shared.stats import compare_paired
from shared.store import Candidate, Dataset, Evaluation, Event, ModelVersion, Round, Run, Store, Verdict

log = logging.getLogger("sqldistill.controller")
STEPS = ("GENERATE", "JUDGE", "TRAIN", "EVALUATE", "ROLLOUT", "REJECT", "DONE")
LABELLED_CHUNK = 16
JUDGE_CHUNK = 128


class StopRequested(Exception):
    """The run was paused or stopped; the current step ends at a safe point and resumes later."""


def _hash(*parts: Any) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


@dataclass
class Context:
    store: Store
    clients: ServiceClients
    catalogue: Catalogue
    home: Path
    rollout: Rollout
    should_stop: Callable[[], bool] = lambda: False


def base_version_id(base_model: str) -> str:
    name = Path(base_model).name if base_model else "default"
    return f"base-{name}-{_hash(base_model or 'default')[:6]}"


def recorded_prompt_k(version: ModelVersion) -> int | None:
    """The shots a trained version was trained with (recorded with it); None for a base model or a
    version recorded before prompts were."""
    prompt = (version.hyperparameters or {}).get("prompt") or {}
    return int(prompt["few_shot_k"]) if version.artifact_path and "few_shot_k" in prompt else None


def prompt_k(version: ModelVersion, settings: RunSettings) -> int:
    """The number of shots a version is asked with: a trained version's own, the run's few_shot_k
    for a base model."""
    recorded = recorded_prompt_k(version)
    if recorded is not None:
        return recorded
    return settings.train_few_shot_k if version.artifact_path else settings.few_shot_k


def teacher_model(settings: RunSettings) -> ServedModel | None:
    """The model that writes a run's candidates when it is not the serving version."""
    if not settings.teacher_model:
        return None
    return ServedModel(f"teacher-{Path(settings.teacher_model).name}", settings.teacher_model)


def served_model(version: ModelVersion) -> ServedModel:
    if not version.artifact_path:  # a base model: served as is
        return ServedModel(version.version, version.base)
    if version.hyperparameters.get("method", "lora") == "full":
        return ServedModel(version.version, version.artifact_path)
    return ServedModel(version.version, version.base, version.artifact_path)


class RoundRunner:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._digests: dict[tuple[str, int, int], str] = {}

    # --- bookkeeping -----------------------------------------------------------------------------
    def event(
        self,
        run_id: str,
        round_number: int | None,
        step: str | None,
        kind: str,
        message: str = "",
        figures: dict[str, float] | None = None,
    ) -> None:
        with self.ctx.store.session() as s:
            s.add(
                Event(
                    run_id=run_id,
                    round=round_number,
                    step=step,
                    kind=kind,
                    message=message,
                    figures=figures or {},
                )
            )

    def _task_done(self, run_id: str, round_number: int, task: str) -> bool:
        with self.ctx.store.session() as s:
            return (
                s.scalar(
                    select(Event.id).where(
                        Event.run_id == run_id,
                        Event.round == round_number,
                        Event.kind == "task_done",
                        Event.message == task,
                    )
                )
                is not None
            )

    def _check_stop(self) -> None:
        if self.ctx.should_stop():
            raise StopRequested()

    def _set_step(self, run_id: str, number: int, step: str, **fields: Any) -> None:
        with self.ctx.store.session() as s:
            rnd = s.scalar(select(Round).where(Round.run_id == run_id, Round.number == number))
            rnd.step = step
            for key, value in fields.items():
                if key == "figures":
                    rnd.figures = {**rnd.figures, **value}
                else:
                    setattr(rnd, key, value)
            if step == "DONE":
                rnd.finished_at = datetime.now(UTC)
        self.event(run_id, number, step, "step_started", f"round {number}: {step}")

    def load(self, model: ServedModel, slot: int = generation_pb2.MODEL_SLOT_SERVING) -> None:
        """Load model into a slot of the generation service: SERVING only to restore what the store
        says serves; WORK for a candidate under evaluation or a teacher (what serves is untouched)."""
        generation = self.ctx.clients.generation
        with_retry(
            lambda: generation.LoadModel(generation_pb2.LoadModelRequest(model=model.ref(), slot=slot)),
            f"load {model.version}",
            should_stop=self.ctx.should_stop,
        )

    def in_work_slot(self, model: ServedModel) -> None:
        """Make the work slot hold model, loading it only if it holds something else (or nothing)."""
        generation = self.ctx.clients.generation
        try:
            held = generation.DescribeModel(
                generation_pb2.DescribeModelRequest(slot=generation_pb2.MODEL_SLOT_WORK)
            ).version
        except grpc.RpcError:
            held = ""
        if held != model.version:
            self.load(model, generation_pb2.MODEL_SLOT_WORK)

    # --- driver ----------------------------------------------------------------------------------
    def advance(self, run: Run, settings: RunSettings, rnd: Round) -> str:
        """Run the round's current step to its end; returns the next step."""
        step = rnd.step
        crash_point(f"{step}:start")
        handler = {
            "GENERATE": self.generate,
            "JUDGE": self.judge,
            "TRAIN": self.train,
            "EVALUATE": self.evaluate,
            "ROLLOUT": self.rollout,
            "REJECT": self.reject,
        }[step]
        next_step, figures = handler(run, settings, rnd.number)
        crash_point(f"{step}:end")
        self.event(run.id, rnd.number, step, "step_done", f"round {rnd.number}: {step} done", figures)
        self._set_step(run.id, rnd.number, next_step, figures=figures)
        return next_step

    # --- GENERATE --------------------------------------------------------------------------------
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

    def _sampling(
        self, settings: RunSettings, seed: int, temperature: float | None = None
    ) -> common_pb2.SamplingParams:
        return common_pb2.SamplingParams(
            temperature=settings.temperature if temperature is None else temperature,
            top_p=settings.top_p,
            max_new_tokens=settings.max_new_tokens,
            seed=seed,
        )

    def _store_candidates(self, run_id: str, number: int, task: str, rows: Iterable[dict[str, Any]]) -> int:
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
                    figures={"candidates": inserted},
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
        key = _hash(source, db_id, question, sql)
        return {
            "id": _hash(run_id, number, key)[:32],
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

    def generate(self, run: Run, settings: RunSettings, number: int) -> tuple[str, dict[str, float]]:
        generation = self.ctx.clients.generation
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
        if settings.mode in ("labelled", "both"):
            examples = self._train_examples(settings)
            rng = random.Random(seed_base)
            if settings.questions_per_round and settings.questions_per_round < len(examples):
                examples = rng.sample(examples, settings.questions_per_round)
            for index in range(0, len(examples), LABELLED_CHUNK):
                task = f"labelled:{index // LABELLED_CHUNK}"
                if self._task_done(run.id, number, task):
                    continue
                self._check_stop()
                chunk = examples[index : index + LABELLED_CHUNK]
                request = generation_pb2.GenerateSqlRequest(
                    questions=[
                        generation_pb2.QuestionItem(id=e.id, db_id=e.db_id, question=e.question)
                        for e in chunk
                    ],
                    n=settings.samples_per_question,
                    few_shot_k=shots,
                    sampling=self._sampling(settings, seed_base + index),
                    slot=slot,
                )
                reply = with_retry(
                    lambda request=request: generation.GenerateSql(request),
                    "generate SQL",
                    should_stop=self.ctx.should_stop,
                )
                self._check_writer(reply.model_version, writer)
                by_id = {e.id: e for e in chunk}
                rows = [
                    self._candidate_row(
                        run.id,
                        number,
                        "labelled",
                        by_id[r.question_id].db_id,
                        by_id[r.question_id].question,
                        sql,
                        by_id[r.question_id].query,
                        by_id[r.question_id].hardness,
                        reply.model_version,
                    )
                    for r in reply.results
                    for sql in r.sql
                ]
                self._store_candidates(run.id, number, task, rows)
                crash_point("GENERATE:mid")
        if settings.mode in ("self_instruct", "both"):
            for db_index, db_id in enumerate(self._databases(settings)):
                task = f"self_instruct:{db_id}"
                if self._task_done(run.id, number, task):
                    continue
                self._check_stop()
                rows = self._self_instruct(
                    run.id, number, settings, db_id, seed_base + 500 + db_index, writer, shots, slot
                )
                self._store_candidates(run.id, number, task, rows)
                crash_point("GENERATE:mid")
        with self.ctx.store.session() as s:
            total = s.query(Candidate).filter(Candidate.run_id == run.id, Candidate.round == number).count()
        return "JUDGE", {"generated": total}

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
    ) -> list[dict[str, Any]]:
        generation = self.ctx.clients.generation
        pairs = []
        for offset, (level, count) in enumerate(self._hardness_buckets(settings, settings.candidates_per_db)):
            request = generation_pb2.GeneratePairsRequest(
                db_id=db_id,
                n=count,
                hardness=level,
                few_shot_k=settings.few_shot_k,
                sampling=self._sampling(settings, seed + 10 * offset),
                slot=slot,
            )
            pairs += with_retry(
                lambda request=request: list(generation.GeneratePairs(request)),
                f"generate pairs for {db_id}",
                should_stop=self.ctx.should_stop,
            )
        for pair in pairs:
            self._check_writer(pair.model_version, writer)
        resampled: dict[str, list[str]] = {}
        if pairs and settings.consistency_samples:
            questions = [
                generation_pb2.QuestionItem(id=str(i), db_id=db_id, question=p.question)
                for i, p in enumerate(pairs)
            ]
            request = generation_pb2.GenerateSqlRequest(
                questions=questions,
                n=settings.consistency_samples,
                few_shot_k=shots,
                sampling=self._sampling(settings, seed + 99),
                slot=slot,
            )
            reply = with_retry(
                lambda: generation.GenerateSql(request), "resample SQL", should_stop=self.ctx.should_stop
            )
            resampled = {r.question_id: list(r.sql) for r in reply.results}
        return [
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
            for i, p in enumerate(pairs)
        ]

    # --- JUDGE -------------------------------------------------------------------------------------
    def judge(self, run: Run, settings: RunSettings, number: int) -> tuple[str, dict[str, float]]:
        critic = self.ctx.clients.critic
        options = critic_pb2.JudgeOptions(
            test_suite=settings.test_suite, consistency_samples=settings.consistency_samples, dedupe=False
        )
        while True:
            self._check_stop()
            with self.ctx.store.session() as s:
                pending = s.scalars(
                    select(Candidate)
                    .outerjoin(Verdict, Verdict.candidate_id == Candidate.id)
                    .where(
                        Candidate.run_id == run.id, Candidate.round == number, Verdict.candidate_id.is_(None)
                    )
                    .order_by(Candidate.id)
                    .limit(JUDGE_CHUNK)
                ).all()
            if not pending:
                break
            request = critic_pb2.JudgeRequest(
                options=options,
                candidates=[
                    common_pb2.Candidate(
                        id=c.id,
                        db_id=c.db_id,
                        question=c.question,
                        sql=c.sql,
                        gold_sql=c.gold_sql or "",
                        source=c.source,
                        hardness=c.hardness or "",
                        resampled_sql=list(c.resampled_sql),
                    )
                    for c in pending
                ],
            )
            verdicts = with_retry(
                lambda request=request: list(critic.JudgeCandidates(request, timeout=600)),
                "judge",
                should_stop=self.ctx.should_stop,
            )
            with self.ctx.store.session() as s:
                self.ctx.store.insert_ignore(
                    s,
                    Verdict,
                    [
                        {
                            "candidate_id": v.candidate_id,
                            "kept": v.kept,
                            "reasons": list(v.reasons),
                            "status": critic_pb2.ExecutionStatus.Name(v.status).removeprefix(
                                "EXECUTION_STATUS_"
                            ),
                            "canonical_sql": v.canonical_sql or None,
                            "hardness": v.hardness or None,
                            "execution_match": v.execution_match if v.has_gold else None,
                            "test_suite_match": v.test_suite_match
                            if v.has_gold and settings.test_suite
                            else None,
                            "consistency": v.consistency if not v.has_gold else None,
                        }
                        for v in verdicts
                    ],
                )
            crash_point("JUDGE:mid")
        with self.ctx.store.session() as s:
            rows = s.execute(
                select(Verdict.kept)
                .join(Candidate, Candidate.id == Verdict.candidate_id)
                .where(Candidate.run_id == run.id, Candidate.round == number)
            ).all()
        return "TRAIN", {"judged": len(rows), "kept": sum(1 for (kept,) in rows if kept)}

    # --- TRAIN -------------------------------------------------------------------------------------
    def kept_pairs(self, run_id: str, number: int, settings: RunSettings) -> list[TrainingPair]:
        """What round `number` trains on: its kept pairs, or those of rounds 1..number when
        accumulating, after the seed examples when train_on_seed; deduplicated and capped per
        question (services/controller/training_set.py). Empty when the critic kept nothing."""
        rounds = Candidate.round <= number if settings.accumulate else Candidate.round == number
        with self.ctx.store.session() as s:
            rows = s.execute(
                select(
                    Candidate.key,
                    Candidate.db_id,
                    Candidate.question,
                    Candidate.sql,
                    Verdict.canonical_sql,
                    Candidate.round,
                )
                .join(Verdict, Verdict.candidate_id == Candidate.id)
                .where(Candidate.run_id == run_id, rounds, Verdict.kept.is_(True))
            ).all()
        if not rows:
            return []
        kept = [KeptRow(*row) for row in rows]
        if settings.train_on_seed and "seed" in self.ctx.catalogue.split_files:
            kept += seed_rows(self.ctx.catalogue.examples("seed"))
        return select_training_pairs(kept, settings.max_sql_per_question)

    def train(self, run: Run, settings: RunSettings, number: int) -> tuple[str, dict[str, float]]:
        pairs = self.kept_pairs(run.id, number, settings)
        if not pairs:
            self.event(run.id, number, "TRAIN", "skipped", "nothing was kept: no new version this round")
            return "REJECT", {"dataset_size": 0}
        rows = render_rows(pairs, self.ctx.catalogue, settings.train_few_shot_k)
        path, digest = freeze(rows, self.ctx.home / "datasets")
        with self.ctx.store.session() as s:
            self.ctx.store.insert_ignore(
                s,
                Dataset,
                [{"hash": digest, "run_id": run.id, "round": number, "path": str(path), "size": len(rows)}],
            )
            rnd = s.scalar(select(Round).where(Round.run_id == run.id, Round.number == number))
            rnd.dataset_hash = digest
            serving = run.serving_version
        version = f"{run.id[:8]}-r{number}"
        parent = ""
        if settings.train_from_parent and serving:
            with self.ctx.store.session() as s:
                current = s.get(ModelVersion, serving)
                parent = serving if current is not None and current.artifact_path else ""
        params = trainer_pb2.TrainingParams(
            method=settings.train_method,
            seed=settings.seed,
            max_steps=settings.train_max_steps,
            epochs=settings.train_epochs,
            learning_rate=settings.learning_rate,
            batch_size=4,
        )
        request = trainer_pb2.SubmitJobRequest(
            run_id=run.id,
            round=number,
            dataset_hash=digest,
            dataset_path=str(path),
            base_model=common_pb2.ModelRef(path=settings.base_model or "default"),
            parent_version=parent,
            version=version,
            params=params,
        )
        trainer = self.ctx.clients.trainer
        job = with_retry(
            lambda: trainer.SubmitJob(request), "submit training job", should_stop=self.ctx.should_stop
        )
        with self.ctx.store.session() as s:
            s.scalar(
                select(Round).where(Round.run_id == run.id, Round.number == number)
            ).training_job_id = job.job_id
        self.event(
            run.id,
            number,
            "TRAIN",
            "job_submitted",
            f"training job {job.job_id} for version {job.version}",
            {"dataset_size": len(rows)},
        )
        crash_point("TRAIN:submitted")
        final = None
        while final is None:
            self._check_stop()
            updates = with_retry(
                lambda: list(trainer.WatchJob(trainer_pb2.JobRef(job_id=job.job_id), timeout=3600)),
                "watch training job",
                should_stop=self.ctx.should_stop,
            )
            final = next((u for u in reversed(updates) if u.HasField("job")), None)
            for u in updates:
                if u.state == trainer_pb2.JOB_STATE_RUNNING and u.step and u.step % 10 == 0:
                    self.event(
                        run.id,
                        number,
                        "TRAIN",
                        "progress",
                        f"step {u.step}/{u.total_steps}",
                        {"step": u.step, "loss": u.loss, "tokens_per_second": u.tokens_per_second},
                    )
        done = final.job
        if done.state != trainer_pb2.JOB_STATE_SUCCEEDED:
            self.event(run.id, number, "TRAIN", "failed", f"training failed: {done.error[-500:]}")
            return "REJECT", {"dataset_size": len(rows), "training_failed": 1}
        manifest = json.loads((Path(done.artifact_path) / "manifest.json").read_text())
        with self.ctx.store.session() as s:
            self.ctx.store.insert_ignore(
                s,
                ModelVersion,
                [
                    {
                        "version": done.version,
                        "base": settings.base_model,
                        "parent": parent or serving,
                        "run_id": run.id,
                        "round": number,
                        "dataset_hash": digest,
                        "artifact_path": done.artifact_path,
                        "status": "candidate",
                        "hyperparameters": {
                            **manifest.get("hyperparameters", {}),
                            "prompt": manifest.get("prompt") or {"few_shot_k": settings.train_few_shot_k},
                        },
                        "metrics": manifest.get("metrics", {}),
                    }
                ],
            )
            s.scalar(
                select(Round).where(Round.run_id == run.id, Round.number == number)
            ).model_version = done.version
        return "EVALUATE", {"dataset_size": len(rows), "final_loss": float(done.final_loss)}

    # --- EVALUATE ----------------------------------------------------------------------------------
    def eval_examples(self, settings: RunSettings) -> list[Example]:
        examples = self.ctx.catalogue.examples(settings.eval_split)
        return examples[: settings.eval_limit] if settings.eval_limit else examples

    def _split_key(self, settings: RunSettings, shots: int) -> str:
        """What an evaluation is reused for: everything that changes its score - the held-out
        questions and databases (content), limit, test suites, the prompt (template, shots) and the
        decoding (greedy, token budget). A readable head and a digest of the rest."""
        examples = self.eval_examples(settings)
        content = {
            "examples": [[e.id, e.db_id, e.question, e.query] for e in examples],
            "databases": {
                db: self._file_digest(self.ctx.catalogue.path(db)) for db in {e.db_id for e in examples}
            },
            "template": SQL_TEMPLATE,
            "shots": shots,
            "decoding": {"temperature": 0.0, "max_new_tokens": settings.max_new_tokens},
            "test_suite": settings.test_suite,
        }
        digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]
        return f"{settings.eval_split}:{settings.eval_limit or 'all'}:ts={int(settings.test_suite)}:k={shots}:{digest}"

    def _file_digest(self, path: Path) -> str:
        """SHA-256 of a database file, remembered while its size and mtime stay the same."""
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if key not in self._digests:
            self._digests[key] = file_hash(path)
        return self._digests[key]

    def ensure_evaluated(self, version: ModelVersion, settings: RunSettings) -> Evaluation:
        """The version's accuracy on the held-out set, asked with its own prompt, per question;
        computed once and kept in the store."""
        shots = prompt_k(version, settings)
        key = self._split_key(settings, shots)
        with self.ctx.store.session() as s:
            found = s.scalar(
                select(Evaluation).where(Evaluation.model_version == version.version, Evaluation.split == key)
            )
            if found is not None:
                return found
        examples = self.eval_examples(settings)
        self.in_work_slot(served_model(version))  # evaluated beside what serves, never in its place
        generation, critic = self.ctx.clients.generation, self.ctx.clients.critic
        predictions = []
        for index in range(0, len(examples), LABELLED_CHUNK):
            self._check_stop()
            chunk = examples[index : index + LABELLED_CHUNK]
            request = generation_pb2.GenerateSqlRequest(
                questions=[
                    generation_pb2.QuestionItem(id=e.id, db_id=e.db_id, question=e.question) for e in chunk
                ],
                n=1,
                few_shot_k=shots,
                sampling=common_pb2.SamplingParams(temperature=0.0, max_new_tokens=settings.max_new_tokens),
                slot=generation_pb2.MODEL_SLOT_WORK,
            )
            reply = with_retry(
                lambda request=request: generation.GenerateSql(request),
                "generate for evaluation",
                should_stop=self.ctx.should_stop,
            )
            if reply.model_version != version.version:
                raise RolloutError(
                    f"evaluating {version.version} but the work slot holds {reply.model_version}"
                )
            by_id = {r.question_id: (r.sql[0] if r.sql else "") for r in reply.results}
            predictions += [
                critic_pb2.Prediction(
                    id=e.id,
                    db_id=e.db_id,
                    question=e.question,
                    gold_sql=e.query,
                    predicted_sql=by_id.get(e.id, ""),
                )
                for e in chunk
            ]
            crash_point("EVALUATE:mid")
        reply = with_retry(
            lambda: critic.Evaluate(
                critic_pb2.EvaluateRequest(predictions=predictions, test_suite=settings.test_suite),
                timeout=1800,
            ),
            "evaluate",
            should_stop=self.ctx.should_stop,
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
                    }
                ],
            )
            return s.scalar(
                select(Evaluation).where(Evaluation.model_version == version.version, Evaluation.split == key)
            )

    def evaluate(self, run: Run, settings: RunSettings, number: int) -> tuple[str, dict[str, float]]:
        with self.ctx.store.session() as s:
            rnd = s.scalar(select(Round).where(Round.run_id == run.id, Round.number == number))
            new = s.get(ModelVersion, rnd.model_version)
            serving = s.get(ModelVersion, s.get(Run, run.id).serving_version)
        old_eval = self.ensure_evaluated(serving, settings)
        new_eval = self.ensure_evaluated(new, settings)
        column = 1 if settings.test_suite else 0  # the gate's metric: TS when computed, else EX
        metric = "test_suite" if settings.test_suite else "execution"
        comparison = compare_paired(
            {q: bool(r[column]) for q, r in (new_eval.per_question or {}).items()},
            {q: bool(r[column]) for q, r in (old_eval.per_question or {}).items()},
        )
        decision = decide(comparison, settings.gate_mode, settings.gate_margin, settings.gate_alpha)
        figures = {
            "new_execution": new_eval.execution,
            "serving_execution": old_eval.execution,
            "new_test_suite": new_eval.test_suite or 0.0,
            "serving_test_suite": old_eval.test_suite or 0.0,
            **{f"paired_{k}": v for k, v in comparison.as_figures().items()},
        }
        self.event(
            run.id,
            number,
            "EVALUATE",
            "gate",
            f"{new.version} vs serving {serving.version} ({metric}, {settings.gate_mode} gate): "
            f"{decision.reason} -> {'roll out' if decision.roll_out else 'reject'}",
            figures,
        )
        return ("ROLLOUT" if decision.roll_out else "REJECT"), figures

    # --- ROLLOUT / REJECT --------------------------------------------------------------------------
    def rollout(self, run: Run, settings: RunSettings, number: int) -> tuple[str, dict[str, float]]:
        with self.ctx.store.session() as s:
            rnd = s.scalar(select(Round).where(Round.run_id == run.id, Round.number == number))
            new = s.get(ModelVersion, rnd.model_version)
            current = s.get(ModelVersion, s.get(Run, run.id).serving_version)
        try:
            self.ctx.rollout.apply(served_model(new), served_model(current) if current else None)
        except RolloutError as exc:
            self.event(run.id, number, "ROLLOUT", "rollout_failed", str(exc))
            with self.ctx.store.session() as s:
                s.get(ModelVersion, new.version).status = "rejected"
                s.scalar(
                    select(Round).where(Round.run_id == run.id, Round.number == number)
                ).outcome = "rollout_failed"
            return "DONE", {"rolled_out": 0}
        with self.ctx.store.session() as s:
            set_serving(s, new.version, run.id)
            s.scalar(
                select(Round).where(Round.run_id == run.id, Round.number == number)
            ).outcome = "rolled_out"
        self.event(run.id, number, "ROLLOUT", "rollout", f"{new.version} is serving")
        return "DONE", {"rolled_out": 1}

    def reject(self, run: Run, settings: RunSettings, number: int) -> tuple[str, dict[str, float]]:
        with self.ctx.store.session() as s:
            rnd = s.scalar(select(Round).where(Round.run_id == run.id, Round.number == number))
            serving = s.get(ModelVersion, s.get(Run, run.id).serving_version)
            if rnd.model_version:
                s.get(ModelVersion, rnd.model_version).status = "rejected"
            rnd.outcome = "rejected"
        if serving is not None and self.ctx.rollout.serving_version() != serving.version:
            self.load(served_model(serving))  # something else changed what serves: restore it
        return "DONE", {"rolled_out": 0}


def set_serving(session: Any, version: str, run_id: str | None = None) -> None:
    """Mark version serving and whatever served before it retired, for its lineage."""
    target = session.get(ModelVersion, version)
    for other in session.scalars(
        select(ModelVersion).where(ModelVersion.status == "serving", ModelVersion.version != version)
    ):
        if other.base == target.base:
            other.status = "retired"
    target.status = "serving"
    for run in session.scalars(select(Run).where(Run.lineage == lineage_of(target.base))):
        run.serving_version = version


def lineage_of(base_model: str) -> str:
    return base_model or "default"
