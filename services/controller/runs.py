"""Runs: start, pause, resume (with more rounds), stop, and resume after a restart (manual roll-back is
rollback.py's); the worker thread that drives each active run's rounds is run_worker.py's."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from sqlalchemy import select

from services.controller.enums import RunState, Step, VersionStatus
from services.controller.events import record
from services.controller.run_views import RunViews
from services.controller.run_worker import RunWorkers
from services.controller.settings import RunSettings
from services.controller.steps.base import Context
from services.controller.validation import validate_settings
from services.controller.versions import base_version_id, lineage_of, serving_of, set_serving
from shared.errors import FailedPrecondition, InvalidArgument, NotFound
from shared.event_kinds import EventKind
from shared.store import ModelVersion, Round, Run

ACTIVE = (RunState.RUNNING, RunState.PAUSED)


def _check_lineage_free(s: Any, lineage: str) -> None:
    """One active run per model lineage: versions of a lineage come out of one run at a time."""
    busy = s.scalar(select(Run).where(Run.lineage == lineage, Run.state.in_(ACTIVE)))
    if busy is not None:
        raise FailedPrecondition(
            f"run {busy.id} is already {busy.state} for model lineage {lineage!r}; "
            "stop it first (one run at a time per lineage)"
        )


def _reopened(s: Any, run: Run, catalogue: Any, ended: tuple[str, ...]) -> None:
    """A run in one of the `ended` states made paused, for resume to pick up: its settings still
    valid (databases or splits may be gone since) and its lineage free (an ended run is not active:
    another run of its model may have started)."""
    if run.state in ended:
        validate_settings(RunSettings.from_dict(run.spec), catalogue)
        _check_lineage_free(s, run.lineage)
        if run.state == RunState.FAILED:
            # Failed past its gate: what serves may have changed while it lay failed (another run
            # rolled out, a person rolled back), so the gate decides again against what serves now.
            rnd = s.scalar(select(Round).where(Round.run_id == run.id, Round.number == run.current_round))
            if rnd is not None and rnd.step in (Step.ROLLOUT, Step.REJECT):
                rnd.step = Step.EVALUATE
        run.state = RunState.PAUSED


class RunManager(RunWorkers):
    """Starts, pauses, resumes and stops runs, each driven by a worker thread (run_worker.py);
    `queries` is the read side."""

    def __init__(self, ctx: Context, retry_pause_seconds: float = 5.0) -> None:
        super().__init__(ctx, retry_pause_seconds)
        ctx.on_logged = self.wake_waiting
        self.queries = RunViews(ctx.store)

    # --- lifecycle ------------------------------------------------------------------------------
    def start_run(self, settings: RunSettings) -> Run:
        validate_settings(settings, self.ctx.catalogue)
        lineage = lineage_of(settings.base_model)
        # Under the rounds lock: a resume reopening an ended run of the lineage checks it is free too.
        with self._rounds_lock, self.ctx.store.session() as s:
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
            changed, run.state = run.state != state, state
        if changed:  # (a resume of a running run says nothing: its steps' attempts count on)
            self.runner.event(run_id, None, None, EventKind(f"run_{state}"), f"run {run_id} {state}")
        self._wake.setdefault(run_id, threading.Event()).set()
        self._log_wake.setdefault(run_id, threading.Event()).set()
        return self.queries.get(run_id)

    def pause(self, run_id: str) -> Run:
        with self._rounds_lock:  # not between a worker's completing check and its write
            return self._set_state(run_id, RunState.PAUSED, (RunState.RUNNING,))

    def resume(self, run_id: str, more_rounds: int = 0) -> Run:
        """Resume a paused run, or a failed one (once what failed it is mended: its step is tried
        again, STEP_ATTEMPTS times more); with more_rounds, the run (a completed one too) also gets
        that many rounds more than it was started with, and goes on from where it ended."""
        if more_rounds < 0:
            raise InvalidArgument(f"more_rounds must be >= 0, got {more_rounds}")
        with self._rounds_lock:  # a worker completing the run now waits, then sees the new count
            if more_rounds:
                self._add_rounds(run_id, more_rounds)
            else:
                self._reopen(run_id, (RunState.FAILED,))
            run = self._set_state(run_id, RunState.RUNNING, (RunState.PAUSED, RunState.RUNNING))
        self._spawn(run_id)
        return run

    def _add_rounds(self, run_id: str, more_rounds: int) -> None:
        """Raise the run's round count; a completed or failed run becomes paused (so resume picks it
        up) - refused when another run of its lineage is active by now."""
        with self.ctx.store.session() as s:
            run = s.get(Run, run_id)
            if run is None:
                raise NotFound(f"no run {run_id!r}")
            settings = RunSettings.from_dict(run.spec)
            if settings.continuous:
                raise InvalidArgument(f"run {run_id} is continuous: it has no round count to raise")
            if run.state not in (*ACTIVE, RunState.COMPLETED, RunState.FAILED):
                raise FailedPrecondition(
                    f"run {run_id} is {run.state}; only a completed, failed or active run gets more rounds"
                )
            _reopened(s, run, self.ctx.catalogue, (RunState.COMPLETED, RunState.FAILED))
            rounds = settings.rounds + more_rounds
            run.spec = {**run.spec, "rounds": rounds}
            record(s, EventKind.RUN_EXTENDED, f"run {run_id} extended to {rounds} rounds", run_id)

    def _reopen(self, run_id: str, ended: tuple[str, ...]) -> None:
        with self.ctx.store.session() as s:
            run = s.get(Run, run_id)
            if run is not None:  # (none: _set_state says so)
                _reopened(s, run, self.ctx.catalogue, ended)

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
