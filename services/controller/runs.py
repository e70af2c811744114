"""Runs: start, pause, resume (with more rounds), stop, one worker thread per active run driving its
rounds, and resume after a restart (manual roll-back is rollback.py's)."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from services.controller.enums import RunState, VersionStatus
from services.controller.events import record
from services.controller.question_log import as_utc, log_databases, new_since
from services.controller.rounds import RoundRunner
from services.controller.run_views import RunViews
from services.controller.settings import RunSettings
from services.controller.steps.base import Context, StopRequested
from services.controller.validation import validate_settings
from services.controller.versions import base_version_id, lineage_of, serving_of, set_serving
from shared.errors import FailedPrecondition, InvalidArgument, NotFound
from shared.event_kinds import EventKind
from shared.store import Event, ModelVersion, Round, Run

log = logging.getLogger("sqldistill.controller")
ACTIVE = (RunState.RUNNING, RunState.PAUSED)
# A run waiting on the question log is woken by asks and feedback through this controller; questions
# imported straight into the store (`sqldistill questions import`) are seen within this long.
LOG_POLL_SECONDS = 60.0


def _check_lineage_free(s: Any, lineage: str) -> None:
    """One active run per model lineage: versions of a lineage come out of one run at a time."""
    busy = s.scalar(select(Run).where(Run.lineage == lineage, Run.state.in_(ACTIVE)))
    if busy is not None:
        raise FailedPrecondition(
            f"run {busy.id} is already {busy.state} for model lineage {lineage!r}; "
            "stop it first (one run at a time per lineage)"
        )


class RunManager:
    """Starts and drives runs (one worker thread each); `queries` is the read side."""

    def __init__(self, ctx: Context, retry_pause_seconds: float = 5.0) -> None:
        self.ctx = ctx
        ctx.on_logged = self.wake_waiting
        self.queries = RunViews(ctx.store)
        self.runner = RoundRunner(ctx)
        self.retry_pause_seconds = retry_pause_seconds
        self._threads: dict[str, threading.Thread] = {}
        self._wake: dict[str, threading.Event] = {}  # a run's state changed, or the controller closes
        self._log_wake: dict[str, threading.Event] = {}  # the question log grew (only log waits listen)
        self._lock = threading.Lock()  # the worker threads: one per run, never two
        self._rounds_lock = threading.Lock()  # a run's completion against its round count being raised
        self._closing = threading.Event()

    # --- lifecycle ------------------------------------------------------------------------------
    def start_run(self, settings: RunSettings) -> Run:
        validate_settings(settings, self.ctx.catalogue)
        lineage = lineage_of(settings.base_model)
        with self.ctx.store.session() as s:
            _check_lineage_free(s, lineage)
            base_version = base_version_id(settings.base_model)
            if s.get(ModelVersion, base_version) is None:
                s.add(
                    ModelVersion(
                        version=base_version,
                        base=settings.base_model,
                        artifact_path="",
                        status=VersionStatus.RETIRED,
                    )
                )
                s.flush()
            serving = serving_of(s, settings.base_model)
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
                state=RunState.RUNNING,
                current_round=0,
                serving_version=serving_version,
            )
            s.add(run)
        self.runner.event(
            run.id,
            None,
            None,
            EventKind.RUN_STARTED,
            f"run {run.id} started ({settings.mode}, "
            + ("continuous" if settings.continuous else f"{settings.rounds} rounds")
            + ")",
        )
        self._spawn(run.id)
        return self.queries.get(run.id)

    def _set_state(self, run_id: str, state: str, allowed_from: tuple[str, ...]) -> Run:
        with self.ctx.store.session() as s:
            run = s.get(Run, run_id)
            if run is None:
                raise NotFound(f"no run {run_id!r}")
            if run.state not in allowed_from:
                raise FailedPrecondition(f"run {run_id} is {run.state}; cannot make it {state}")
            run.state = state
        self.runner.event(run_id, None, None, EventKind(f"run_{state}"), f"run {run_id} {state}")
        self._wake.setdefault(run_id, threading.Event()).set()
        self._log_wake.setdefault(run_id, threading.Event()).set()
        return self.queries.get(run_id)

    def pause(self, run_id: str) -> Run:
        with self._rounds_lock:  # not between a worker's completing check and its write
            return self._set_state(run_id, RunState.PAUSED, (RunState.RUNNING,))

    def resume(self, run_id: str, more_rounds: int = 0) -> Run:
        """Resume a paused run; with more_rounds, the run (a completed one too) also gets that many
        rounds more than it was started with, and goes on from where it ended."""
        if more_rounds < 0:
            raise InvalidArgument(f"more_rounds must be >= 0, got {more_rounds}")
        with self._rounds_lock:  # a worker completing the run now waits, then sees the new count
            if more_rounds:
                self._add_rounds(run_id, more_rounds)
            run = self._set_state(run_id, RunState.RUNNING, (RunState.PAUSED, RunState.RUNNING))
        self._spawn(run_id)
        return run

    def _add_rounds(self, run_id: str, more_rounds: int) -> None:
        """Raise the run's round count; a completed run becomes paused (so resume picks it up) unless
        another run of its lineage is active by now."""
        with self.ctx.store.session() as s:
            run = s.get(Run, run_id)
            if run is None:
                raise NotFound(f"no run {run_id!r}")
            settings = RunSettings.from_dict(run.spec)
            if settings.continuous:
                raise InvalidArgument(f"run {run_id} is continuous: it has no round count to raise")
            if run.state not in (*ACTIVE, RunState.COMPLETED):
                raise FailedPrecondition(
                    f"run {run_id} is {run.state}; only a completed or active run gets more rounds"
                )
            if run.state == RunState.COMPLETED:
                validate_settings(settings, self.ctx.catalogue)  # databases or splits may be gone since
                _check_lineage_free(s, run.lineage)  # (a completed run is not active: never itself)
                run.state = RunState.PAUSED
            rounds = settings.rounds + more_rounds
            run.spec = {**run.spec, "rounds": rounds}
            record(s, EventKind.RUN_EXTENDED, f"run {run_id} extended to {rounds} rounds", run_id)

    def stop(self, run_id: str) -> Run:
        with self._rounds_lock:
            return self._set_state(run_id, RunState.STOPPED, ACTIVE)

    def recover(self) -> list[str]:
        """After a restart: pick up every run that was running, where it stood."""
        with self.ctx.store.session() as s:
            ids = [r.id for r in s.scalars(select(Run).where(Run.state == RunState.RUNNING))]
        for run_id in ids:
            self.runner.event(run_id, None, None, EventKind.RUN_RESUMED, "controller restarted: resuming")
            self._spawn(run_id)
        return ids

    def close(self) -> None:
        self._closing.set()
        for event in [*self._wake.values(), *self._log_wake.values()]:
            event.set()

    # --- worker -----------------------------------------------------------------------------------
    def _spawn(self, run_id: str) -> None:
        with self._lock:
            thread = self._threads.get(run_id)
            if thread is not None and thread.is_alive():
                return
            self._wake.setdefault(run_id, threading.Event())
            self._log_wake.setdefault(run_id, threading.Event())
            thread = threading.Thread(target=self._drive, args=(run_id,), name=f"run-{run_id}", daemon=True)
            self._threads[run_id] = thread
            thread.start()

    def _state(self, run_id: str) -> str:
        with self.ctx.store.session() as s:
            return s.get(Run, run_id).state

    def _drive(self, run_id: str) -> None:
        """The run's worker: drives rounds until the run is not running, then leaves - unless it was
        made running again meanwhile (a resume that found this thread still alive spawned none)."""
        while True:
            try:
                self._drive_rounds(run_id)
            except Exception:  # noqa: BLE001 - between steps (the store, the question log, a split): a
                # worker that died here would leave its run RUNNING with nothing driving it
                log.exception("run %s: failed between steps; trying again", run_id)
                self._wake[run_id].wait(self.retry_pause_seconds)
                self._wake[run_id].clear()
            with self._lock:
                if self._closing.is_set() or self._state(run_id) != RunState.RUNNING:
                    self._threads.pop(run_id, None)
                    return

    def _drive_rounds(self, run_id: str) -> None:
        def should_stop() -> bool:
            return self._closing.is_set() or self._state(run_id) != RunState.RUNNING

        ctx = Context(
            self.ctx.store, self.ctx.clients, self.ctx.catalogue, self.ctx.home, self.ctx.rollout, should_stop
        )
        runner = RoundRunner(ctx)
        while not self._closing.is_set():
            state = self._state(run_id)
            if state != RunState.RUNNING:
                return  # paused or stopped: resume() spawns a new worker
            with self._rounds_lock, self.ctx.store.session() as s:
                run = s.get(Run, run_id)
                settings = RunSettings.from_dict(run.spec)
                rnd = s.scalar(
                    select(Round).where(Round.run_id == run_id, Round.step != "DONE").order_by(Round.number)
                )
                wait = 0.0
                if rnd is None:
                    finished = s.query(Round).filter(Round.run_id == run_id).count()
                    if not settings.continuous and finished >= settings.rounds:
                        run.state = RunState.COMPLETED
                        record(
                            s, EventKind.RUN_COMPLETED, f"run {run_id} completed {finished} rounds", run_id
                        )
                        return
                    if settings.continuous and settings.questions_from == "log":
                        wait = self._log_wait(s, run, settings)
                if not wait:  # (else asleep below, outside the session, until the log grows or time passes)
                    if rnd is None:
                        run.waiting_for = None
                        rnd = Round(run_id=run_id, number=finished + 1, step="GENERATE")
                        s.add(rnd)
                        run.current_round = rnd.number
                        record(
                            s,
                            EventKind.STEP_STARTED,
                            f"round {rnd.number}: GENERATE",
                            run_id,
                            rnd.number,
                            "GENERATE",
                        )
                        s.flush()
                    s.expunge(rnd)
                s.expunge(run)
            if wait:
                self._log_wake[run_id].wait(wait)  # set by an ask, feedback, pause, stop or close
                self._log_wake[run_id].clear()
                continue
            try:
                runner.advance(run, settings, rnd)
            except StopRequested:
                continue
            except Exception as exc:  # noqa: BLE001 - a step that keeps failing fails the run, visibly
                if should_stop():  # paused, stopped or closing while a call failed (a service down,
                    continue  # its retries cut short): not the step's failure; resume retries it
                log.exception("run %s round %d step %s failed", run_id, rnd.number, rnd.step)
                runner.event(
                    run_id, rnd.number, rnd.step, EventKind.STEP_FAILED, f"{type(exc).__name__}: {exc}"
                )
                if self._failures(run_id, rnd.number, rnd.step) >= 3:
                    with self._rounds_lock, self.ctx.store.session() as s:
                        run = s.get(Run, run_id)
                        if run.state != RunState.RUNNING:  # paused or stopped meanwhile: left so
                            continue
                        run.state = RunState.FAILED
                    runner.event(
                        run_id,
                        rnd.number,
                        rnd.step,
                        EventKind.RUN_FAILED,
                        f"step {rnd.step} failed 3 times: {exc}",
                    )
                    return
                self._wake[run_id].wait(self.retry_pause_seconds)
                self._wake[run_id].clear()

    def _log_wait(self, s: Any, run: Run, settings: RunSettings) -> float:
        """0 when a round on the question log may start - min_new_questions new questions or a
        correction arrived since the last round began, or round_interval_seconds passed since then;
        else the seconds left to the interval, with what the run waits for set on it."""
        last = s.scalar(select(func.max(Round.started_at)).where(Round.run_id == run.id))
        since = as_utc(last) if last is not None else datetime.min.replace(tzinfo=UTC)
        clock_from = as_utc(last or run.created_at)
        left = settings.round_interval_seconds - (datetime.now(UTC) - clock_from).total_seconds()
        eval_dbs = {e.db_id for e in self.ctx.catalogue.examples(settings.eval_split)}
        dbs = log_databases(settings.db_ids, self.ctx.catalogue.db_ids)
        new = new_since(self.ctx.store, since, dbs, settings.log_holdout, eval_dbs)
        if left <= 0 or new.questions >= settings.min_new_questions or new.corrections:
            return 0.0
        waiting = (
            f"{new.questions} of {settings.min_new_questions} new questions or a correction, "
            f"or {(clock_from + timedelta(seconds=settings.round_interval_seconds)):%Y-%m-%d %H:%M:%S} UTC"
        )
        if run.waiting_for is None:
            record(s, EventKind.WAITING, f"round {run.current_round + 1} waits for {waiting}", run.id)
        run.waiting_for = waiting
        s.flush()  # before the caller expunges the run
        return min(left, LOG_POLL_SECONDS)

    def wake_waiting(self) -> None:
        """The question log grew: every run asleep on it looks again."""
        for event in list(self._log_wake.values()):  # not _wake: a step's retry pause is not cut short
            event.set()

    def _failures(self, run_id: str, number: int, step: str) -> int:
        with self.ctx.store.session() as s:
            return (
                s.query(Event)
                .filter(
                    Event.run_id == run_id,
                    Event.round == number,
                    Event.step == step,
                    Event.kind == EventKind.STEP_FAILED,
                )
                .count()
            )
