"""Which model a name means, for in-process use (`sqldistill eval --model`, export, benchmarks): a
stored version id, a version folder (written by the trainer, with its manifest), or a plain model
(packaged name, folder or hub id), as (base, adapter, shots). A version is always asked with the
prompt it was trained on (its manifest's few-shot k)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shared import defaults
from shared.model_refs import is_default_model, stored_base
from shared.training_data import version_shots

HUB_TIMEOUT_SECONDS = 10.0  # the one metadata request a hub id gets


@dataclass(frozen=True)
class EvalModel:
    """What to load and how to ask it."""

    label: str
    path: str  # model folder, hub id or packaged name ("" = the packaged default)
    adapter_path: str = ""
    few_shot_k: int = defaults.FEW_SHOT_K  # a base model's prompt, as runs ask it


def _from_version_folder(folder: Path, shots: int | None) -> EvalModel:
    manifest = json.loads((folder / "manifest.json").read_text())
    k = version_shots(manifest.get("prompt"), trained=True)
    if manifest.get("adapter", manifest.get("method") == "lora"):
        base = stored_base(manifest.get("base_model") or "")
        return EvalModel(
            manifest.get("version", folder.name), base, str(folder), k if shots is None else shots
        )
    return EvalModel(manifest.get("version", folder.name), str(folder), "", k if shots is None else shots)


def _stored_version(version_id: str, store_url: str, shots: int | None) -> EvalModel | None:
    """A version id in the store as the controller serves it (services.controller.versions: its
    base, adapter and the prompt it is asked with), or None."""
    from services.controller.settings import RunSettings
    from services.controller.versions import prompt_k, served_model
    from shared.store import ModelVersion, Store

    store = Store.existing(store_url)
    if store is None:
        return None
    with store.session() as s:
        version = s.get(ModelVersion, version_id)
        if version is None:
            return None
        served = served_model(version)
        k = prompt_k(version, RunSettings()) if shots is None else shots
    return EvalModel(version_id, stored_base(served.path), served.adapter_path, k)


class UnknownModel(ValueError):
    """A model name that is none of the things a model can be here; the message says where it looked."""


def resolve_eval_model(
    model: str, store_url: str = "", shots: int | None = None, hub_allow: Sequence[str] = ()
) -> EvalModel:
    """A version folder, a stored version id, a packaged name, a model folder, or an allowed hub id
    (checked once, here, so that an unreachable hub is one line, not a retried download)."""
    from shared.confine import HUB_ID, hub_allowed
    from shared.packaged_models import PACKAGED_MODELS

    folder = Path(model)
    if (folder / "manifest.json").is_file():
        return _from_version_folder(folder, shots)
    base_shots = defaults.FEW_SHOT_K if shots is None else shots
    stored = _stored_version(model, store_url, shots) if store_url and not folder.exists() else None
    if stored is not None:
        return stored
    if is_default_model(model) or model in PACKAGED_MODELS:
        return EvalModel(model, stored_base(model), "", base_shots)
    if (folder / "config.json").is_file():
        return EvalModel(model, model, "", base_shots)
    if hub_allowed(model, hub_allow):
        _check_hub_model(model)
        return EvalModel(model, model, "", base_shots)
    raise UnknownModel(
        f"no model {model!r}: not a packaged model ({', '.join(sorted(PACKAGED_MODELS))}), "
        "not a model or version folder (config.json or manifest.json), "
        f"not a version in the store ({store_url or 'none'})"
        + (
            f", and not a hub id on paths.hub_allow ({', '.join(hub_allow) or 'empty'})"
            if HUB_ID.fullmatch(model)
            else ""
        )
    )


def _check_hub_model(model: str) -> None:
    """A hub id loads from the local cache, or after one metadata request; a failure is one line."""
    from huggingface_hub import HfApi, try_to_load_from_cache

    if isinstance(try_to_load_from_cache(model, "config.json"), str):
        return
    try:
        HfApi().model_info(model, timeout=HUB_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - any network or hub failure is the user's one line
        reason = (str(exc).strip().splitlines() or [""])[0]
        raise UnknownModel(
            f"hub id {model!r} could not be reached once: {type(exc).__name__}: {reason}"
        ) from None
