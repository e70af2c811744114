"""Manual roll-back: serve an earlier version of a lineage again, through the same rollout as the
gate's (a rejected or never-evaluated version only when forced, and the caller is named)."""

from __future__ import annotations

from services.controller.enums import VersionStatus
from services.controller.errors import RolloutError
from services.controller.events import record
from services.controller.steps.base import Context
from services.controller.versions import served_model, serving_of, set_serving
from shared.errors import FailedPrecondition, InvalidArgument, NotFound
from shared.event_kinds import EventKind
from shared.limits import MAX_NAME_CHARS
from shared.store import ModelVersion

GATED_STATUSES = (
    VersionStatus.SERVING,
    VersionStatus.RETIRED,
)  # rolled out once (or a base): what a roll-back may serve unforced


def roll_back(ctx: Context, version: str, force: bool = False, requested_by: str = "") -> ModelVersion:
    """Serve an earlier version again: one that passed the gate (or a base), or, forced, any."""
    if not version:
        raise InvalidArgument("version is required")
    if len(requested_by) > MAX_NAME_CHARS:
        raise InvalidArgument(f"requested_by is at most {MAX_NAME_CHARS} characters")
    with ctx.store.session() as s:
        target = s.get(ModelVersion, version)
        if target is None:
            raise NotFound(f"no model version {version!r}")
        if target.status not in GATED_STATUSES and not force:
            why = (
                "the gate rejected it"
                if target.status == VersionStatus.REJECTED
                else "it was never evaluated"
            )
            raise FailedPrecondition(f"{version} is {target.status}: {why}; set force to serve it anyway")
        current = serving_of(s, target.base)
        s.expunge(target)
        if current is not None:
            s.expunge(current)
    try:
        ctx.rollout.apply(served_model(target), served_model(current) if current else None)
    except RolloutError as exc:
        raise FailedPrecondition(str(exc)) from exc
    with ctx.store.session() as s:
        set_serving(s, version)
        record(
            s,
            EventKind.ROLLBACK,
            f"rolled back to {version}"
            + (f" from {current.version}" if current else "")
            + (f"; forced by {requested_by or 'an unnamed caller'}" if force else ""),
        )
        result = s.get(ModelVersion, version)
        s.expunge(result)
        return result
