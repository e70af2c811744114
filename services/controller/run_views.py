"""The read side of the controller: runs, rounds with their evaluations, model versions,
candidates with verdicts and the event stream, straight from the store. It needs nothing but the
store, so the CLI reads it directly when the controller is not running."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import select

from services.controller.enums import RunState
from services.controller.evaluation_keys import split_head
from services.controller.settings import RunSettings
from services.controller.versions import prompt_k
from shared.errors import InvalidArgument, NotFound
from shared.store import Candidate, Evaluation, Event, ModelVersion, Round, Run, Store, Verdict

TERMINAL = (RunState.STOPPED, RunState.COMPLETED, RunState.FAILED)


class RunViews:
    """Reads only; every object it returns is detached from its session."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, run_id: str) -> Run:
        if not run_id:
            raise InvalidArgument("run_id is required")
        with self.store.session() as s:
            run = s.get(Run, run_id)
            if run is None:
                raise NotFound(f"no run {run_id!r}")
            s.expunge(run)
            return run

    def current_step(self, run_id: str) -> str:
        with self.store.session() as s:
            rnd = s.scalar(select(Round).where(Round.run_id == run_id).order_by(Round.number.desc()))
            return rnd.step if rnd else ""

    def runs(self) -> list[Run]:
        with self.store.session() as s:
            runs = list(s.scalars(select(Run).order_by(Run.created_at)))
            for run in runs:
                s.expunge(run)
            return runs

    def rounds(self, run_id: str) -> list[dict[str, Any]]:
        self.get(run_id)
        out = []
        with self.store.session() as s:
            run = s.get(Run, run_id)
            settings = RunSettings.from_dict(run.spec)
            for rnd in s.scalars(select(Round).where(Round.run_id == run_id).order_by(Round.number)):
                version = s.get(ModelVersion, rnd.model_version) if rnd.model_version else None
                head = split_head(settings, prompt_k(version, settings)) if version else ""
                evaluation = (  # the newest under this run's split, prompt and test-suite setting
                    s.scalar(
                        select(Evaluation)
                        .where(
                            Evaluation.model_version == rnd.model_version,
                            Evaluation.split.startswith(head, autoescape=True),
                        )
                        .order_by(Evaluation.created_at.desc(), Evaluation.id.desc())
                        .limit(1)
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
        """Each version with its latest evaluation."""
        with self.store.session() as s:
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
        self.get(run_id)
        if limit < 0 or limit > 1000:
            raise InvalidArgument("limit must be within [0, 1000]")
        with self.store.session() as s:
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

    def events(
        self, run_id: str, is_active: Callable[[], bool], poll_seconds: float = 0.3
    ) -> Iterator[Event]:
        """The run's events from the start, then new ones as they happen, until the run ends."""
        self.get(run_id)
        last = 0
        while is_active():
            with self.store.session() as s:
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
