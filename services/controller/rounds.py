"""One round of recursive distillation as a persisted state machine:

    GENERATE -> JUDGE -> TRAIN -> EVALUATE -> ROLLOUT | REJECT -> DONE

Each step (services/controller/steps/) reads what earlier steps stored, does its work in idempotent
pieces (candidates and verdicts are keyed, generation tasks leave a marker when their candidates are
stored, the training job is keyed by run, round and dataset hash), and stores its results before
the round's step advances. Killing the controller anywhere and restarting it resumes the round
where it stood.

Crash points for the recovery tests (services/controller/faults.py): <STEP>:start and <STEP>:end for
every step, plus GENERATE:mid, JUDGE:mid, TRAIN:submitted, EVALUATE:mid.
"""

from __future__ import annotations

from services.controller.enums import Step
from services.controller.faults import crash_point
from services.controller.settings import RunSettings
from services.controller.steps.base import Context, StepBase
from services.controller.steps.evaluate import Evaluate
from services.controller.steps.generate import Generate
from services.controller.steps.judge import Judge
from services.controller.steps.rollout import Promote, Reject
from services.controller.steps.train import Train
from shared.event_kinds import EventKind
from shared.store import Round, Run


class RoundRunner(StepBase):
    """Dispatches a round's current step to its module and records the transition."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.evaluation = Evaluate(ctx)  # also asked for cached scores by the run manager
        self.steps: dict[Step, StepBase] = {
            Step.GENERATE: Generate(ctx),
            Step.JUDGE: Judge(ctx),
            Step.TRAIN: Train(ctx),
            Step.EVALUATE: self.evaluation,
            Step.ROLLOUT: Promote(ctx),
            Step.REJECT: Reject(ctx),
        }

    def advance(self, run: Run, settings: RunSettings, rnd: Round) -> Step:
        """Run the round's current step to its end; returns the next step."""
        step = Step(rnd.step)
        crash_point(f"{step}:start")
        next_step, figures = self.steps[step].run(run, settings, rnd.number)
        crash_point(f"{step}:end")
        self.event(run.id, rnd.number, step, EventKind.STEP_DONE, f"round {rnd.number}: {step} done", figures)
        self.set_step(run.id, rnd.number, next_step, figures=figures)
        return next_step
