"""TRAIN: the kept pairs (accumulated, deduplicated, with the seed examples) rendered into a frozen
dataset, one training job per (run, round, dataset hash) watched to its end, and the new version
recorded with the prompt it was trained on."""

from __future__ import annotations

from sqlalchemy import select

from services.controller.enums import Step, VersionStatus
from services.controller.faults import crash_point
from services.controller.preferences import preference_pairs
from services.controller.question_log import log_databases, logged_questions, question_key, split_log
from services.controller.settings import RunSettings
from services.controller.steps.base import StepBase, StepResult
from services.controller.trainer_client import JobRequest, manifest_of
from services.controller.training_set import KeptRow, seed_rows, select_training_pairs, with_evidence
from shared.event_kinds import EventKind
from shared.model_refs import model_path
from shared.pb import trainer_pb2
from shared.store import Candidate, Dataset, ModelVersion, Run, Verdict
from shared.training_data import TrainingPair, freeze, render_preferences, render_rows


class Train(StepBase):
    def kept_pairs(self, run_id: str, number: int, settings: RunSettings) -> list[TrainingPair]:
        """What round `number` trains on: its kept pairs, or those of rounds 1..number when
        accumulating, after the seed examples when train_on_seed; deduplicated and capped per
        question (services/controller/training_set.py); on the question log, only questions still
        in it and not held out. Empty when the critic kept nothing."""
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
        allowed = self._log_training_keys(settings)
        if allowed is not None:  # what was forgotten since, or is held out, never trains
            kept = [k for k in kept if question_key(k.db_id, k.question) in allowed]
        if settings.train_on_seed and "seed" in self.ctx.catalogue.split_files:
            kept += seed_rows(self.ctx.catalogue.examples("seed"))
        return with_evidence(select_training_pairs(kept, settings.max_sql_per_question), self.ctx.catalogue)

    def _log_training_keys(self, settings: RunSettings) -> set[tuple[str, str]] | None:
        """A run on the question log: the keys of the questions that may train now; None otherwise."""
        if settings.questions_from != "log":
            return None
        eval_dbs = {e.db_id for e in self.ctx.catalogue.examples(settings.eval_split)}
        logged = logged_questions(self.ctx.store, log_databases(settings.db_ids, self.ctx.catalogue.db_ids))
        return {q.key for q in split_log(logged, settings.log_holdout, eval_dbs).training}

    def preference_rows(self, run_id: str, number: int, settings: RunSettings) -> list[dict[str, str]]:
        """train_method dpo: the round's preferences from execution, rendered beside the kept pairs."""
        if settings.train_method != "dpo":
            return []
        allowed = self._log_training_keys(settings)
        pairs = preference_pairs(self.ctx.store, run_id, number, settings)
        if allowed is not None:
            pairs = [p for p in pairs if question_key(p.db_id, p.question) in allowed]
        return render_preferences(pairs, self.ctx.catalogue, settings.train_few_shot_k)

    def run(self, run: Run, settings: RunSettings, number: int) -> StepResult:
        pairs = self.kept_pairs(run.id, number, settings)
        if not pairs:
            self.event(
                run.id, number, "TRAIN", EventKind.SKIPPED, "nothing was kept: no new version this round"
            )
            return Step.REJECT, {"dataset_size": 0}
        preferences = self.preference_rows(run.id, number, settings)
        rows = render_rows(pairs, self.ctx.catalogue, settings.train_few_shot_k) + preferences
        path, digest = freeze(rows, self.ctx.home / "datasets")
        with self.ctx.store.session() as s:
            self.ctx.store.insert_ignore(
                s,
                Dataset,
                [{"hash": digest, "run_id": run.id, "round": number, "path": str(path), "size": len(rows)}],
            )
            self.round_row(s, run.id, number).dataset_hash = digest
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
            batch_size=settings.train_batch_size,
            int8_base=settings.train_int8_base,
            gradient_checkpointing=settings.train_gradient_checkpointing,
            precision=settings.train_precision,
        )
        job = self.trainer.submit(
            JobRequest(
                run_id=run.id,
                round=number,
                dataset_hash=digest,
                dataset_path=str(path),
                base_model=model_path(settings.base_model),
                version=version,
                params=params,
                parent_version=parent,
            )
        )
        self.update_round(run.id, number, training_job_id=job.job_id)
        self.event(
            run.id,
            number,
            "TRAIN",
            EventKind.JOB_SUBMITTED,
            f"training job {job.job_id} for version {job.version}",
            {"dataset_size": len(rows)},
        )
        crash_point("TRAIN:submitted")
        final = None
        while final is None:
            self.check_stop()
            updates = self.trainer.watch(job.job_id, settings.watch_timeout_seconds)
            final = next((u for u in reversed(updates) if u.HasField("job")), None)
            for u in updates:
                if u.state == trainer_pb2.JOB_STATE_RUNNING and u.step and u.step % 10 == 0:
                    self.event(
                        run.id,
                        number,
                        "TRAIN",
                        EventKind.PROGRESS,
                        f"step {u.step}/{u.total_steps}",
                        {"step": u.step, "loss": u.loss, "tokens_per_second": u.tokens_per_second},
                    )
        done = final.job
        if done.state != trainer_pb2.JOB_STATE_SUCCEEDED:
            self.event(run.id, number, "TRAIN", EventKind.FAILED, f"training failed: {done.error[-500:]}")
            return Step.REJECT, {"dataset_size": len(rows), "training_failed": 1}
        manifest = manifest_of(done)  # the trainer's reply carries it: its files are its own
        if not manifest:  # a version recorded without its method and prompt would be served wrongly
            raise RuntimeError(f"the trainer's reply for job {done.job_id} carries no manifest")
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
                        "status": VersionStatus.CANDIDATE,
                        "hyperparameters": {
                            **manifest.get("hyperparameters", {}),
                            "prompt": manifest.get("prompt") or {"few_shot_k": settings.train_few_shot_k},
                        },
                        "metrics": manifest.get("metrics", {}),
                    }
                ],
            )
            self.round_row(s, run.id, number).model_version = done.version
        return Step.EVALUATE, {
            "dataset_size": len(rows),
            "preference_pairs": len(preferences),
            "final_loss": float(done.final_loss),
        }
