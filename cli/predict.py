"""Predictions for any Spider-format split by any model: a stored version id, a version folder
(written by the trainer, with its manifest), or a plain model (packaged name, folder or hub id).
A version is always asked with the prompt it was trained on (its manifest's few-shot k)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shared import defaults
from shared.catalogue import Catalogue, Example
from shared.training_data import version_shots

if TYPE_CHECKING:
    from services.critic.logic import Critic, PredictionIn

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
        base = manifest.get("base_model") or ""
        base = "" if base == defaults.DEFAULT_MODEL_ALIAS else base
        return EvalModel(
            manifest.get("version", folder.name), base, str(folder), k if shots is None else shots
        )
    return EvalModel(manifest.get("version", folder.name), str(folder), "", k if shots is None else shots)


def _stored_version(version_id: str, store_url: str) -> tuple[str, str] | None:
    """(artifact folder, base model) of a version id in the store, or None."""
    from shared.store import ModelVersion, Store

    store = Store.existing(store_url)
    if store is None:
        return None
    with store.session() as s:
        version = s.get(ModelVersion, version_id)
        return None if version is None else (version.artifact_path, version.base or "")


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
    stored = _stored_version(model, store_url) if store_url and not folder.exists() else None
    if stored is not None:
        artifact, base = stored
        if artifact:
            return _from_version_folder(Path(artifact), shots)
        return EvalModel(model, "" if base == "default" else base, "", base_shots)  # a base version
    if model in ("", "default") or model in PACKAGED_MODELS:
        return EvalModel(model, "" if model in ("", "default") else model, "", base_shots)
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


def predict(
    catalogue: Catalogue,
    examples: Sequence[Example],
    model: EvalModel,
    models_dir: Path,
    pool: Sequence[Example] = (),
    max_new_tokens: int = defaults.MAX_NEW_TOKENS,
    batch: int = 16,
    on_progress: Callable[[int], None] = lambda done: None,
    device: str = "auto",
    precision: str = defaults.GENERATION_PRECISION,
    samples: int = 0,
    temperature: float = defaults.TEMPERATURE,
    seed: int = 0,
    constrain: str = defaults.CONSTRAIN,
) -> tuple[list[str], list[list[str]]]:
    """Greedy SQL for each example ("" where the output had no usable query), in order, and with
    `samples`, that many sampled SQL per example too (for voting); computed as the generation
    service would (same device and precision settings)."""
    from services.generation.backends import ModelSpec, Sampling, TransformersBackend
    from services.generation.logic import Generator
    from services.generation.requests import QuestionIn

    backend = TransformersBackend(
        models_dir,
        ModelSpec(model.path, model.adapter_path, model.label),
        device=device,
        precision=precision,
    )
    generator = Generator(catalogue, backend, pool, default_k=model.few_shot_k, constrain=constrain)
    predictions: list[str] = []
    sampled: list[list[str]] = []
    for start in range(0, len(examples), batch):
        chunk = examples[start : start + batch]
        questions = [QuestionIn(str(i), e.db_id, e.question, e.evidence) for i, e in enumerate(chunk)]
        results, _version = generator.generate_sql(
            questions, 1, model.few_shot_k, Sampling(temperature=0.0, max_new_tokens=max_new_tokens)
        )
        predictions += [r.sql[0] if r.sql else "" for r in results]
        if samples:
            results, _version = generator.generate_sql(
                questions,
                samples,
                model.few_shot_k,
                Sampling(
                    temperature=temperature, top_p=0.95, max_new_tokens=max_new_tokens, seed=seed + start
                ),
            )
            sampled += [list(r.sql) for r in results]
        on_progress(len(predictions))
    return predictions, sampled


def write_predictions(predictions: Sequence[str], path: Path, db_ids: Sequence[str] = ()) -> None:
    """One query per line, as Spider's evaluator reads them (an empty output becomes SELECT 1); a
    .json path gets BIRD's prediction file instead (its evaluator's format, with each db_id)."""
    if path.suffix == ".json":
        from services.critic.predictions import write_bird_predictions

        write_bird_predictions(predictions, db_ids, path)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((" ".join(p.split()) or "SELECT 1") + "\n" for p in predictions))


def voted_predictions(
    critic: Critic, predictions: list[PredictionIn], sampled: list[list[str]], test_suite: bool
) -> list[PredictionIn]:
    """Each prediction replaced by the answer its greedy SQL and samples vote for (the critic's
    `vote`: the largest group by result; the greedy answer's group wins a tie)."""
    from dataclasses import replace

    out = []
    for p, more in zip(predictions, sampled, strict=True):
        ballots = ([p.predicted_sql] if p.predicted_sql else []) + more
        if not ballots:
            out.append(p)
            continue
        preferred = 0 if p.predicted_sql else -1
        index = critic.vote(p.db_id, ballots, test_suite=test_suite, preferred=preferred).answer(preferred)
        out.append(replace(p, predicted_sql=ballots[index]) if index >= 0 else p)
    return out
