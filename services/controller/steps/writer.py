"""Who writes a round's SQL - the serving version or the run's teacher - with which prompt, in which
slot and at which number format: GENERATE samples with it, and JUDGE's label review asks the same
model how well each sample explains its question."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.controller.generation_client import SERVING, WORK
from services.controller.settings import RunSettings
from services.controller.steps.base import StepBase
from services.controller.versions import ServedModel, prompt_k, served_model, teacher_model
from shared.store import ModelVersion, Run


@dataclass(frozen=True)
class RoundWriter:
    model: ServedModel
    shots: int  # few-shot examples in its prompt
    slot: int  # SERVING, or WORK (a teacher, or a copy at GENERATE's precision)
    precision: str  # the work slot's number format; "" when the serving slot writes


def sampling_precision(wanted: str, serving: Any) -> str:
    """GENERATE's number format when it differs from how the serving slot computes (`serving`: its
    ModelInfo), else "" (the serving slot writes): `auto` is int8 where generation runs transformers
    on a CPU, where int8 sampling gave as good labels 1.45x as fast as fp32 (docs/benchmarks.md)."""
    if wanted == "auto":
        wanted = "int8" if (serving.backend, serving.device) == ("transformers", "cpu") else ""
    return "" if wanted == serving.precision else wanted


def round_writer(step: StepBase, run_id: str, settings: RunSettings) -> RoundWriter:
    """The round's writer, loaded where it writes: a teacher, or a copy at GENERATE's precision, goes
    to the work slot (what serves is untouched); else the serving version, restored if the service
    lost it (e.g. after a restart). Loading is skipped when the slot already holds it."""
    with step.ctx.store.session() as s:
        serving = s.get(ModelVersion, s.get(Run, run_id).serving_version)
        s.expunge(serving)
    teacher = teacher_model(settings)
    model = teacher or served_model(serving)
    shots = settings.few_shot_k if teacher else prompt_k(serving, settings)
    precision = (
        sampling_precision(settings.generate_precision, step.generation.describe())
        if settings.generate_precision
        else ""
    )
    if teacher or precision:
        step.generation.in_work_slot(model, precision)
        return RoundWriter(model, shots, WORK, precision or step.generation.describe(WORK).precision)
    if step.ctx.rollout.serving_version() != model.version:
        step.generation.load(model)
    return RoundWriter(model, shots, SERVING, "")
