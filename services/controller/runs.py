"""Runs: start, pause, resume, stop, one worker thread per active run driving its rounds, resume
after a restart, manual rollback, and the event stream."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import select

from services.controller.rollout import RolloutError
from services.controller.rounds import (
    Context,
    RoundRunner,
    StopRequested,
    base_version_id,
    lineage_of,
    prompt_k,
    served_model,
    set_serving,
)
from services.controller.settings import GATE_MODES, MODES, RunSettings
from shared.errors import FailedPrecondition, InvalidArgument, NotFound
from shared.store import Event, ModelVersion, Round, Run

log = logging.getLogger("sqldistill.controller")
ACTIVE = ("running", "paused")
TERMINAL = ("stopped", "completed", "failed")
GATED_STATUSES = ("serving", "retired")  # rolled out once (or a base): what a roll-back may serve unforced


class RunManager:
    def __init__(self, ctx: Context, retry_pause_seconds: float = 5.0) -> None:
        self.ctx = ctx
        self.runner = RoundRunner(ctx)
        self.retry_pause_seconds = retry_pause_seconds
        self._threads: dict[str, threading.Thread] = {}
        self._wake: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()

    # --- lifecycle ------------------------------------------------------------------------------
    def start_run(self, settings: RunSettings) -> Run:
        self._validate(settings)
        lineage = lineage_of(settings.base_model)
        with self.ctx.store.session() as s:
            busy = s.scalar(select(Run).where(Run.lineage == lineage, Run.state.in_(ACTIVE)))
            if busy is not None:
                raise FailedPrecondition(
                    f"run {busy.id} is already {busy.state} for model lineage {lineage!r}; "
                    "stop it first (one run at a time per lineage)"
                )
            base_version = base_version_id(settings.base_model)
            if s.get(ModelVersion, base_version) is None:
                s.add(
                    ModelVersion(
                        version=base_version, base=settings.base_model, artifact_path="", status="retired"
                    )
                )
                s.flush()
            serving = s.scalar(
                select(ModelVersion).where(
                    ModelVersion.status == "serving", ModelVersion.base == settings.base_model
                )
            )
            if serving is None:
                set_serving(s, base_version)
                serving_version = base_version
            else:
                serving_version = serving.version
            run = Run(
                id=uuid.uuid4().hex[:12],
                name=settings.name,
                lineage=lineage,
                spec=settings.to_dict(),
                state="running",
                current_round=0,
                serving_version=serving_version,
            )
            s.add(run)
        self.runner.event(
            run.id,
            None,
            None,
            "run_started",
            f"run {run.id} started ({settings.mode}, "
            + ("continuous" if settings.continuous else f"{settings.rounds} rounds")
            + ")",
        )
        self._spawn(run.id)
        return self.get(run.id)

    def _validate(self, settings: RunSettings) -> None:
        catalogue = self.ctx.catalogue
        if settings.mode not in MODES:
            raise InvalidArgument(f"mode must be one of {', '.join(MODES)}, got {settings.mode!r}")
        if settings.rounds < 1 and not settings.continuous:
            raise InvalidArgument("rounds must be >= 1; set continuous to run until stopped")
        unknown = [d for d in settings.db_ids if d not in catalogue.databases]
        if unknown:
            raise InvalidArgument(f"unknown databases: {', '.join(unknown)}")
        if settings.eval_split not in catalogue.split_files:
            raise InvalidArgument(
                f"evaluation split {settings.eval_split!r} not in the dataset (has {', '.join(catalogue.splits) or 'none'})"
            )
        trained_splits = {"train"} | ({"seed"} if settings.train_on_seed else set())
        if settings.eval_split in trained_splits:
            raise InvalidArgument(f"eval_split {settings.eval_split!r} is a split this run trains on")
        # Whatever way they were chosen, the databases the run generates on must be unseen at evaluation.
        eval_dbs = {e.db_id for e in catalogue.examples(settings.eval_split)}
        train_dbs = (
            {e.db_id for e in catalogue.examples("train")} if "train" in catalogue.split_files else set()
        )
        generation_dbs = set(settings.db_ids) or train_dbs or set(catalogue.db_ids)
        overlap = sorted(generation_dbs & eval_dbs)
        if overlap:
            raise InvalidArgument(
                f"training databases overlap the held-out evaluation databases: {', '.join(overlap[:5])}"
            )
        if settings.mode in ("labelled", "both") and "train" not in catalogue.split_files:
            raise InvalidArgument("labelled mode needs a 'train' split with gold SQL")
        if settings.candidates_per_db <= 0 or settings.samples_per_question <= 0:
            raise InvalidArgument("candidates_per_db and samples_per_question must be positive")
        if settings.gate_margin < 0:
            raise InvalidArgument("gate_margin must be >= 0")
        if settings.train_method not in ("lora", "full"):
            raise InvalidArgument("train_method must be lora or full")
        if settings.gate_mode not in GATE_MODES:
            raise InvalidArgument(
                f"gate_mode must be one of {', '.join(GATE_MODES)}, got {settings.gate_mode!r}"
            )
        if not 0 < settings.gate_alpha < 1:
            raise InvalidArgument("gate_alpha must be within (0, 1)")
        if not 0 <= settings.train_few_shot_k <= 16 or not 0 <= settings.few_shot_k <= 16:
            raise InvalidArgument("few_shot_k and train_few_shot_k must be within [0, 16]")
        if settings.max_sql_per_question <= 0 or settings.train_epochs <= 0:
            raise InvalidArgument("max_sql_per_question and train_epochs must be positive")

    def _set_state(self, run_id: str, state: str, allowed_from: tuple[str, ...]) -> Run:
        with self.ctx.store.session() as s:
            run = s.get(Run, run_id)
            if run is None:
                raise NotFound(f"no run {run_id!r}")
            if run.state not in allowed_from:
                raise FailedPrecondition(f"run {run_id} is {run.state}; cannot make it {state}")
            run.state = state
        self.runner.event(run_id, None, None, f"run_{state}", f"run {run_id} {state}")
        self._wake.setdefault(run_id, threading.Event()).set()
        return self.get(run_id)

    def pause(self, run_id: str) -> Run:
        return self._set_state(run_id, "paused", ("running",))

    def resume(self, run_id: str) -> Run:
        run = self._set_state(run_id, "running", ("paused", "running"))
        self._spawn(run_id)
        return run

    def stop(self, run_id: str) -> Run:
        return self._set_state(run_id, "stopped", ACTIVE)

    def recover(self) -> list[str]:
        """After a restart: pick up every run that was running, where it stood."""
        with self.ctx.store.session() as s:
            ids = [r.id for r in s.scalars(select(Run).where(Run.state == "running"))]
        for run_id in ids:
            self.runner.event(run_id, None, None, "run_resumed", "controller restarted: resuming")
            self._spawn(run_id)
        return ids

    def close(self) -> None:
        self._closing.set()
        for event in self._wake.values():
            event.set()

    # --- worker -----------------------------------------------------------------------------------
    def _spawn(self, run_id: str) -> None:
        with self._lock:
            thread = self._threads.get(run_id)
            if thread is not None and thread.is_alive():
                return
            self._wake.setdefault(run_id, threading.Event())
            thread = threading.Thread(target=self._drive, args=(run_id,), name=f"run-{run_id}", daemon=True)
            self._threads[run_id] = thread
            thread.start()

    def _state(self, run_id: str) -> str:
        with self.ctx.store.session() as s:
            return s.get(Run, run_id).state

    def _drive(self, run_id: str) -> None:
        def should_stop() -> bool:
            return self._closing.is_set() or self._state(run_id) != "running"

        ctx = Context(
            self.ctx.store, self.ctx.clients, self.ctx.catalogue, self.ctx.home, self.ctx.rollout, should_stop
        )
        runner = RoundRunner(ctx)
        while not self._closing.is_set():
            state = self._state(run_id)
            if state != "running":
                return  # paused or stopped: resume() spawns a new worker
            with self.ctx.store.session() as s:
                run = s.get(Run, run_id)
                settings = RunSettings.from_dict(run.spec)
                rnd = s.scalar(
                    select(Round).where(Round.run_id == run_id, Round.step != "DONE").order_by(Round.number)
                )
                if rnd is None:
                    finished = s.query(Round).filter(Round.run_id == run_id).count()
                    if not settings.continuous and finished >= settings.rounds:
                        run.state = "completed"
                        s.add(
                            Event(
                                run_id=run_id,
                                kind="run_completed",
                                message=f"run {run_id} completed {finished} rounds",
                            )
                        )
                        return
                    rnd = Round(run_id=run_id, number=finished + 1, step="GENERATE")
                    s.add(rnd)
                    run.current_round = rnd.number
                    s.add(
                        Event(
                            run_id=run_id,
                            round=rnd.number,
                            step="GENERATE",
                            kind="step_started",
                            message=f"round {rnd.number}: GENERATE",
                        )
                    )
                    s.flush()
                s.expunge(run)
                s.expunge(rnd)
            try:
                runner.advance(run, settings, rnd)
            except StopRequested:
                continue
            except Exception as exc:  # noqa: BLE001 - a step that keeps failing fails the run, visibly
                log.exception("run %s round %d step %s failed", run_id, rnd.number, rnd.step)
                runner.event(run_id, rnd.number, rnd.step, "step_failed", f"{type(exc).__name__}: {exc}")
                if self._failures(run_id, rnd.number, rnd.step) >= 3:
                    with self.ctx.store.session() as s:
                        s.get(Run, run_id).state = "failed"
                    runner.event(
                        run_id, rnd.number, rnd.step, "run_failed", f"step {rnd.step} failed 3 times: {exc}"
                    )
                    return
                self._wake[run_id].wait(self.retry_pause_seconds)
                self._wake[run_id].clear()

    def _failures(self, run_id: str, number: int, step: str) -> int:
        with self.ctx.store.session() as s:
            return (
                s.query(Event)
                .filter(
                    Event.run_id == run_id,
                    Event.round == number,
                    Event.step == step,
                    Event.kind == "step_failed",
                )
                .count()
            )

    # --- queries ----------------------------------------------------------------------------------
    def get(self, run_id: str) -> Run:
        if not run_id:
            raise InvalidArgument("run_id is required")
        with self.ctx.store.session() as s:
            run = s.get(Run, run_id)
            if run is None:
                raise NotFound(f"no run {run_id!r}")
            s.expunge(run)
            return run

    def current_step(self, run_id: str) -> str:
        with self.ctx.store.session() as s:
            rnd = s.scalar(select(Round).where(Round.run_id == run_id).order_by(Round.number.desc()))
            return rnd.step if rnd else ""

    def runs(self) -> list[Run]:
        with self.ctx.store.session() as s:
            runs = list(s.scalars(select(Run).order_by(Run.created_at)))
            for run in runs:
                s.expunge(run)
            return runs

    def rounds(self, run_id: str) -> list[dict[str, Any]]:
        self.get(run_id)
        from shared.store import Evaluation

        out = []
        with self.ctx.store.session() as s:
            run = s.get(Run, run_id)
            settings = RunSettings.from_dict(run.spec)
            for rnd in s.scalars(select(Round).where(Round.run_id == run_id).order_by(Round.number)):
                version = s.get(ModelVersion, rnd.model_version) if rnd.model_version else None
                evaluation = (
                    s.scalar(
                        select(Evaluation).where(
                            Evaluation.model_version == rnd.model_version,
                            Evaluation.split == self.runner._split_key(settings, prompt_k(version, settings)),
                        )
                    )
                    if version is not None
                    else None
                )
                out.append({"round": rnd, "evaluation": evaluation, "figures": dict(rnd.figures)})
                s.expunge(rnd)
                if evaluation is not None:
                    s.expunge(evaluation)
        return out

    def models(self) -> list[tuple[ModelVersion, Any]]:
        from shared.store import Evaluation

        with self.ctx.store.session() as s:
            out = []
            for version in s.scalars(select(ModelVersion).order_by(ModelVersion.created_at)):
                evaluation = s.scalars(
                    select(Evaluation)
                    .where(Evaluation.model_version == version.version)
                    .order_by(Evaluation.created_at.desc())
                ).first()
                s.expunge(version)
                if evaluation is not None:
                    s.expunge(evaluation)
                out.append((version, evaluation))
            return out

    def candidates(self, run_id: str, round_number: int, kept: bool, limit: int) -> list[tuple[Any, Any]]:
        from shared.store import Candidate, Verdict

        self.get(run_id)
        if limit < 0 or limit > 1000:
            raise InvalidArgument("limit must be within [0, 1000]")
        with self.ctx.store.session() as s:
            query = (
                select(Candidate, Verdict)
                .join(Verdict, Verdict.candidate_id == Candidate.id)
                .where(Candidate.run_id == run_id, Verdict.kept.is_(kept))
                .order_by(Candidate.round, Candidate.key)
                .limit(limit or 50)
            )
            if round_number:
                query = query.where(Candidate.round == round_number)
            rows = s.execute(query).all()
            for candidate, verdict in rows:
                s.expunge(candidate)
                s.expunge(verdict)
            return [(c, v) for c, v in rows]

    def rollback(self, version: str, force: bool = False, requested_by: str = "") -> ModelVersion:
        """Serve an earlier version again: one that passed the gate (or a base), or, forced, any."""
        if not version:
            raise InvalidArgument("version is required")
        if len(requested_by) > 128:
            raise InvalidArgument("requested_by is at most 128 characters")
        with self.ctx.store.session() as s:
            target = s.get(ModelVersion, version)
            if target is None:
                raise NotFound(f"no model version {version!r}")
            if target.status not in GATED_STATUSES and not force:
                why = "the gate rejected it" if target.status == "rejected" else "it was never evaluated"
                raise FailedPrecondition(f"{version} is {target.status}: {why}; set force to serve it anyway")
            current = s.scalar(
                select(ModelVersion).where(ModelVersion.status == "serving", ModelVersion.base == target.base)
            )
            s.expunge(target)
            if current is not None:
                s.expunge(current)
        try:
            self.ctx.rollout.apply(served_model(target), served_model(current) if current else None)
        except RolloutError as exc:
            raise FailedPrecondition(str(exc)) from exc
        with self.ctx.store.session() as s:
            set_serving(s, version)
            s.add(
                Event(
                    kind="rollback",
                    message=f"rolled back to {version}"
                    + (f" from {current.version}" if current else "")
                    + (f"; forced by {requested_by or 'an unnamed caller'}" if force else ""),
                )
            )
            result = s.get(ModelVersion, version)
            s.expunge(result)
            return result

    def events(
        self, run_id: str, is_active: Callable[[], bool], poll_seconds: float = 0.3
    ) -> Iterator[Event]:
        """The run's events from the start, then new ones as they happen, until the run ends."""
        self.get(run_id)
        last = 0
        while is_active():
            with self.ctx.store.session() as s:
                batch = list(
                    s.scalars(select(Event).where(Event.run_id == run_id, Event.id > last).order_by(Event.id))
                )
                for event in batch:
                    s.expunge(event)
                state = s.get(Run, run_id).state
            for event in batch:
                last = event.id
                yield event
            if not batch and state in TERMINAL:
                return
            time.sleep(poll_seconds)
