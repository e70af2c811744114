"""Model versions as the controller sees them: ids of base versions, the prompt each version is
asked with, how a version is served, and which version serves a lineage."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from services.controller.enums import VersionStatus
from services.controller.settings import RunSettings
from shared.model_refs import model_path
from shared.pb import common_pb2
from shared.store import ModelVersion, Run
from shared.training_data import version_shots


@dataclass(frozen=True)
class ServedModel:
    """A model version as generation serves it: a base (path / hub id / packaged name) and, for a
    LoRA version, its adapter."""

    version: str
    path: str  # base model (path / hub id / packaged name; "" = the default)
    adapter_path: str = ""

    def ref(self) -> common_pb2.ModelRef:
        return common_pb2.ModelRef(
            version=self.version,
            path=model_path(self.path),
            adapter_path=self.adapter_path,
        )


def key_hash(*parts: Any) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def base_version_id(base_model: str) -> str:
    return f"base-{Path(model_path(base_model)).name}-{key_hash(model_path(base_model))[:6]}"


def prompt_k(version: ModelVersion, settings: RunSettings) -> int:
    """The number of shots a version is asked with: a trained version's own, the run's few_shot_k
    for a base model (shared.training_data.version_shots, as the CLI reads a version folder)."""
    return version_shots(
        (version.hyperparameters or {}).get("prompt"),
        bool(version.artifact_path),
        settings.few_shot_k,
        settings.train_few_shot_k,
    )


def teacher_model(settings: RunSettings) -> ServedModel | None:
    """The model that writes a run's candidates when it is not the serving version."""
    if not settings.teacher_model:
        return None
    return ServedModel(f"teacher-{Path(settings.teacher_model).name}", settings.teacher_model)


def base_of(version: ModelVersion) -> ServedModel:
    """The base model a version was trained from (a base: itself), served as a base."""
    return ServedModel(base_version_id(version.base), version.base)


def served_model(version: ModelVersion) -> ServedModel:
    if not version.artifact_path:  # a base model: served as is
        return ServedModel(version.version, version.base)
    if version.hyperparameters.get("method", "lora") == "full":
        return ServedModel(version.version, version.artifact_path)
    return ServedModel(version.version, version.base, version.artifact_path)


def set_serving(session: Any, version: str, run_id: str | None = None) -> None:
    """Mark version serving and whatever served before it retired, for its lineage."""
    target = session.get(ModelVersion, version)
    for other in session.scalars(
        select(ModelVersion).where(
            ModelVersion.status == VersionStatus.SERVING, ModelVersion.version != version
        )
    ):
        if lineage_of(other.base) == lineage_of(target.base):
            other.status = VersionStatus.RETIRED
    target.status = VersionStatus.SERVING
    for run in session.scalars(select(Run).where(Run.lineage == lineage_of(target.base))):
        run.serving_version = version


def lineage_of(base_model: str) -> str:
    return model_path(base_model)


def serving_of(session: Any, base_model: str) -> ModelVersion | None:
    """The version serving for this base model's lineage (a base stored as "" and one named
    "default" are one lineage)."""
    return next(
        (
            v
            for v in session.scalars(select(ModelVersion).where(ModelVersion.status == VersionStatus.SERVING))
            if lineage_of(v.base) == lineage_of(base_model)
        ),
        None,
    )
