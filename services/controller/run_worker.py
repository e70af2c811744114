"""The worker threads that drive runs: one per active run, taking its rounds step by step, retrying
a step that fails (a run fails after STEP_ATTEMPTS), sleeping while a run on the question log waits
for new questions, and leaving when the run is paused, stopped or done."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from services.controller.enums import RunState
from services.controller.events import record
from services.controller.question_log import as_utc, log_databases, new_since
from services.controller.rounds import RoundRunner
from services.controller.settings import RunSettings
from services.controller.steps.base import Context, StopRequested
from shared.event_kinds import EventKind
from shared.store import Event, Round, Run

STEP_ATTEMPTS = 3  # a step (or the worker between steps) failing this often fails the run
log = logging.getLogger("sqldistill.controller")
# A run waiting on the question log is woken by asks and feedback through this controller; questions
# imported straight into the store (`sqldistill questions import`) are seen within this long.
LOG_POLL_SECONDS = 60.0


class RunWorkers:
    """One worker thread per active run (RunManager starts, pauses and stops them)."""

    def __init__(self, ctx: Context, retry_pause_seconds: float = 5.0) -> None:
        self.ctx = ctx
        self.runner = RoundRunner(ctx)
        self.retry_pause_seconds = retry_pause_seconds
        self._threads: dict[str, threading.Thread] = {}
        self._wake: dict[str, threading.Event] = {}  # a run's state changed, or the controller closes
        self._log_wake: dict[str, threading.Event] = {}  # the question log grew (only log waits listen)
        self._lock = threading.Lock()  # the worker threads: one per run, never two
        # A run's completion against its round count being raised; one active run per lineage.
        self._rounds_lock = threading.Lock()
        self._closing = threading.Event()

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
        failures = 0
        while True:
            try:
                self._drive_rounds(run_id)
            except Exception as exc:  # noqa: BLE001 - between steps (the store, the question log, a
                # split): a worker that died here would leave its run RUNNING with nothing driving it
                failures += 1
                log.exception("run %s: failed between steps (%d of %d)", run_id, failures, STEP_ATTEMPTS)
                if failures >= STEP_ATTEMPTS:
                    self._fail(run_id, f"failed between steps {failures} times: {type(exc).__name__}: {exc}")
                    failures = 0  # a resume that finds this thread alive starts the count again
                else:
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
                if run.state != RunState.RUNNING:  # paused or stopped since the look above
                    return
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
                if self._failures(run_id, rnd.number, rnd.step) >= STEP_ATTEMPTS:
                    with self._rounds_lock, self.ctx.store.session() as s:
                        run = s.get(Run, run_id)
                        if run.state != RunState.RUNNING:  # paused or stopped meanwhile: left so
                            continue
                        run.state = RunState.FAILED  # with its event: a resume comes after both
                        record(
                            s,
                            EventKind.RUN_FAILED,
                            f"step {rnd.step} failed {STEP_ATTEMPTS} times: {exc}",
                            run_id,
                            rnd.number,
                            rnd.step,
                        )
                    return
                self._wake[run_id].wait(self.retry_pause_seconds)
                self._wake[run_id].clear()

    def _fail(self, run_id: str, why: str) -> None:
        """The run failed outside any step: said so, if it is still running."""
        with self._rounds_lock, self.ctx.store.session() as s:
            run = s.get(Run, run_id)
            if run is None or run.state != RunState.RUNNING:
                return
            run.state = RunState.FAILED
            record(s, EventKind.RUN_FAILED, f"run {run_id} {why}", run_id)

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
        """The step's failures since the run last (re)started running: a resume - by a person, or
        the controller's restart - gives a step its attempts afresh."""
        with self.ctx.store.session() as s:
            since = s.scalar(
                select(func.max(Event.id)).where(
                    Event.run_id == run_id,
                    Event.kind.in_((EventKind.RUN_RUNNING, EventKind.RUN_RESUMED)),
                )
            )
            return s.scalar(
                select(func.count(Event.id)).where(
                    Event.run_id == run_id,
                    Event.round == number,
                    Event.step == step,
                    Event.kind == EventKind.STEP_FAILED,
                    Event.id > (since or 0),
                )
            )
