"""ROLLOUT puts a version that passed the gate into service (embedded or Kubernetes); REJECT records
that it did not. Either way the serving version the store names is what serves afterwards."""

from __future__ import annotations

from services.controller.enums import Outcome, Step, VersionStatus
from services.controller.errors import RolloutError
from services.controller.faults import crash_point
from services.controller.settings import RunSettings
from services.controller.steps.base import StepBase, StepResult
from services.controller.versions import served_model, set_serving
from shared.event_kinds import EventKind
from shared.store import ModelVersion, Run


class Promote(StepBase):
    """ROLLOUT."""

    def run(self, run: Run, settings: RunSettings, number: int) -> StepResult:
        with self.ctx.store.session() as s:
            new = s.get(ModelVersion, self.round_row(s, run.id, number).model_version)
            current = s.get(ModelVersion, s.get(Run, run.id).serving_version)
        crash_point("ROLLOUT:start")
        try:
            self.ctx.rollout.apply(served_model(new), served_model(current) if current else None)
        except RolloutError as exc:
            self.event(run.id, number, "ROLLOUT", EventKind.ROLLOUT_FAILED, str(exc))
            with self.ctx.store.session() as s:
                s.get(ModelVersion, new.version).status = VersionStatus.REJECTED
                self.round_row(s, run.id, number).outcome = Outcome.ROLLOUT_FAILED
            return Step.DONE, {"rolled_out": 0}
        with self.ctx.store.session() as s:
            set_serving(s, new.version, run.id)
            self.round_row(s, run.id, number).outcome = Outcome.ROLLED_OUT
        self.event(run.id, number, "ROLLOUT", EventKind.ROLLOUT, f"{new.version} is serving")
        return Step.DONE, {"rolled_out": 1}


class Reject(StepBase):
    """REJECT."""

    def run(self, run: Run, settings: RunSettings, number: int) -> StepResult:
        with self.ctx.store.session() as s:
            rnd = self.round_row(s, run.id, number)
            serving = s.get(ModelVersion, s.get(Run, run.id).serving_version)
            if rnd.model_version and rnd.model_version != (serving.version if serving else None):
                s.get(ModelVersion, rnd.model_version).status = VersionStatus.REJECTED  # (never what serves)
            rnd.outcome = Outcome.REJECTED
        if serving is not None and self.ctx.rollout.serving_version() != serving.version:
            self.generation.load(served_model(serving))  # something else changed what serves: restore it
        return Step.DONE, {"rolled_out": 0}
