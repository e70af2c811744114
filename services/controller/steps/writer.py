"""Who writes a round's SQL - the serving version or the run's teacher - with which prompt, in which
slot and at which number format: GENERATE samples with it, and JUDGE's label review asks the same
model how well each sample explains its question."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.controller.generation_client import SERVING, WORK
from services.controller.settings import RunSettings
from services.controller.steps.base import StepBase
from services.controller.versions import ServedModel, base_of, prompt_k, served_model, teacher_model
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
    serving = _serving(step, run_id)
    teacher = teacher_model(settings)
    model = teacher or served_model(serving)
    shots = settings.few_shot_k if teacher else prompt_k(serving, settings)
    precision = _precision(step, settings)
    if teacher or precision:
        return _in_work_slot(step, model, shots, precision)
    if step.ctx.rollout.serving_version() != model.version:
        step.generation.load(model)
    return RoundWriter(model, shots, SERVING, "")


def label_reviewer(
    step: StepBase, run_id: str, settings: RunSettings, base: ServedModel | None
) -> RoundWriter:
    """Who reviews the round's labels, loaded where it reviews: the round's writer, or `base`
    (base_reviewer's answer), asked as a base, in the work slot at GENERATE's precision."""
    if base is not None:
        return _in_work_slot(step, base, settings.few_shot_k, _precision(step, settings))
    return round_writer(step, run_id, settings)


def base_reviewer(step: StepBase, run_id: str, settings: RunSettings) -> ServedModel | None:
    """The base the serving version was trained from, when label_reviewer is base and a trained
    version writes (no teacher: a teacher, trained on no run's labels, reviews what it writes);
    None when the writer reviews."""
    if settings.label_reviewer != "base" or settings.teacher_model:
        return None
    serving = _serving(step, run_id)
    if not serving.artifact_path:  # the base writes: it reviews
        return None
    return base_of(serving)


def _serving(step: StepBase, run_id: str) -> ModelVersion:
    with step.ctx.store.session() as s:
        serving = s.get(ModelVersion, s.get(Run, run_id).serving_version)
        s.expunge(serving)
    return serving


def _precision(step: StepBase, settings: RunSettings) -> str:
    """GENERATE's number format for the work slot, or "" (the serving slot's own)."""
    if not settings.generate_precision:
        return ""
    return sampling_precision(settings.generate_precision, step.generation.describe())


def _in_work_slot(step: StepBase, model: ServedModel, shots: int, precision: str) -> RoundWriter:
    step.generation.in_work_slot(model, precision)
    return RoundWriter(model, shots, WORK, precision or step.generation.describe(WORK).precision)
