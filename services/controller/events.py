"""Writing a run's event stream: one row per event, added in the caller's transaction so an event is
stored together with what it reports (a chunk of candidates, a round's new step)."""

from __future__ import annotations

from typing import Any

from shared.event_kinds import EventKind
from shared.store import Event


def record(
    session: Any,
    kind: EventKind,
    message: str = "",
    run_id: str | None = None,
    round_number: int | None = None,
    step: str | None = None,
    figures: dict[str, float] | None = None,
) -> None:
    session.add(
        Event(run_id=run_id, round=round_number, step=step, kind=kind, message=message, figures=figures or {})
    )
