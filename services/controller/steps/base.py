"""What every step of a round shares: the services and store it works through (Context), and one
place for round-store access - the round row, events, task markers, serving-slot loads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import select

from services.controller.calls import retrying
from services.controller.clients import ServiceClients, TypedClients
from services.controller.critic_client import CriticClient
from services.controller.deployment import Rollout
from services.controller.enums import Step
from services.controller.events import record
from services.controller.generation_client import GenerationClient
from services.controller.settings import RunSettings
from services.controller.trainer_client import TrainerClient
from shared.catalogue import Catalogue
from shared.event_kinds import EventKind
from shared.store import Event, Round, Run, Store

StepResult = tuple[Step, dict[str, float]]


class StopRequested(Exception):
    """The run was paused or stopped; the current step ends at a safe point and resumes later."""


@dataclass
class Context:
    store: Store
    clients: ServiceClients
    catalogue: Catalogue
    home: Path
    rollout: Rollout
    should_stop: Callable[[], bool] = lambda: False
    record_asks: bool = True  # Ask keeps each question and its answer (the question log)
    on_logged: Callable[[], None] = lambda: None  # the question log grew: wakes runs that wait on it


class StepBase:
    """A step of the round state machine: run() does its work in idempotent pieces and returns the
    next step with the figures to record."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @cached_property
    def _typed(self) -> TypedClients:
        return self.ctx.clients.typed(retrying(self.ctx.should_stop))  # a round retries until its run stops

    @property
    def generation(self) -> GenerationClient:
        return self._typed.generation

    @property
    def critic(self) -> CriticClient:
        return self._typed.critic

    @property
    def trainer(self) -> TrainerClient:
        return self._typed.trainer

    def run(self, run: Run, settings: RunSettings, number: int) -> StepResult:
        raise NotImplementedError

    # --- the round in the store ------------------------------------------------------------------
    @staticmethod
    def round_row(session: Any, run_id: str, number: int) -> Round:
        return session.scalar(select(Round).where(Round.run_id == run_id, Round.number == number))

    def update_round(self, run_id: str, number: int, **fields: Any) -> None:
        with self.ctx.store.session() as s:
            rnd = self.round_row(s, run_id, number)
            for key, value in fields.items():
                setattr(rnd, key, value)

    def event(
        self,
        run_id: str,
        round_number: int | None,
        step: str | None,
        kind: EventKind,
        message: str = "",
        figures: dict[str, float] | None = None,
    ) -> None:
        with self.ctx.store.session() as s:
            record(s, kind, message, run_id, round_number, step, figures)

    def task_done(self, run_id: str, round_number: int, task: str) -> bool:
        with self.ctx.store.session() as s:
            return (
                s.scalar(
                    select(Event.id).where(
                        Event.run_id == run_id,
                        Event.round == round_number,
                        Event.kind == EventKind.TASK_DONE,
                        Event.message == task,
                    )
                )
                is not None
            )

    def check_stop(self) -> None:
        if self.ctx.should_stop():
            raise StopRequested()

    def set_step(self, run_id: str, number: int, step: str, **fields: Any) -> None:
        with self.ctx.store.session() as s:
            rnd = self.round_row(s, run_id, number)
            rnd.step = step
            for key, value in fields.items():
                if key == "figures":
                    rnd.figures = {**rnd.figures, **value}
                else:
                    setattr(rnd, key, value)
            if step == Step.DONE:
                rnd.finished_at = datetime.now(UTC)
        self.event(run_id, number, step, EventKind.STEP_STARTED, f"round {number}: {step}")
