"""A model version exported as the serving engines take it - a merged model folder
(transformers, vLLM, TGI), its PEFT adapter with the base named (per-request LoRA in vLLM / TGI),
or a GGUF file for llama.cpp written by llama.cpp's own converter. Every export carries a README
with the base, the lineage, the held-out figures and the exact prompt the version expects: a
version asked with another prompt answers worse."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from offline.models import EvalModel
from shared import defaults
from shared.config import Config

FORMATS = ("merged", "adapter", "gguf")
DTYPES = ("bf16", "fp32")  # merged weights; the first is the default
GGUF_TYPES = ("f16", "q8_0")  # the first is the default
CONVERTER = "convert_hf_to_gguf.py"


class ExportError(ValueError):
    """Why an export cannot be made, in one line."""


def llama_cpp_tools() -> Path:
    """llama.cpp's converter, extracted by `make setup` from the source distribution of the
    installed llama-cpp-python (the same llama.cpp that serves the file)."""
    try:
        version = metadata.version("llama_cpp_python")
    except metadata.PackageNotFoundError:
        raise ExportError("llama-cpp-python is not installed; run `make setup`") from None
    folder = Path.home() / ".cache" / "sqldistill" / f"llama.cpp-{version}"
    if not (folder / CONVERTER).is_file():
        raise ExportError(f"llama.cpp's converter is not in {folder}; run `make setup` (it extracts it)")
    return folder


@dataclass(frozen=True)
class VersionFacts:
    """What the README says about a version: from its manifest and, when it has one, the store."""

    label: str
    base: str  # the base model as a user names it (hub id for packaged models)
    manifest: dict[str, Any]
    evaluations: list[dict[str, Any]]
    lineage: list[str]


def base_reference(path: str) -> str:
    """A base as engines find it: a packaged model's hub id, else what the version recorded."""
    from shared.packaged_models import DEFAULT_MODEL, PACKAGED_MODELS

    name = path or DEFAULT_MODEL
    packaged = PACKAGED_MODELS.get(name)
    return packaged.hub_id if packaged and packaged.hub_id else name


def version_facts(model: EvalModel, store_url: str) -> VersionFacts:
    folder = Path(model.adapter_path or model.path)
    manifest = (
        json.loads((folder / "manifest.json").read_text()) if (folder / "manifest.json").is_file() else {}
    )
    evaluations: list[dict[str, Any]] = []
    lineage = [model.label]
    from shared.store import Store

    store = Store.existing(store_url) if store_url else None
    if store is not None:
        from sqlalchemy import select

        from shared.store import Evaluation, ModelVersion

        with store.session() as s:
            for row in s.scalars(
                select(Evaluation)
                .where(Evaluation.model_version == model.label)
                .order_by(Evaluation.created_at)
            ):
                evaluations.append(
                    {
                        "split": row.split.rsplit(":", 1)[0],
                        "questions": row.total,
                        "EX": row.execution,
                        "TS": row.test_suite,
                    }
                )
            version = s.get(ModelVersion, model.label)
            while version is not None and version.parent:
                lineage.append(version.parent)
                version = s.get(ModelVersion, version.parent)
    return VersionFacts(model.label, base_reference(model.path), manifest, evaluations, lineage)


def example_prompt(config: Config, shots: int) -> str:
    """The exact prompt the version expects, for one held-out question of the configured dataset."""
    from shared.bundled.locate import default_dataset
    from shared.catalogue import Catalogue
    from shared.fewshot import few_shot_pool, question_prompt

    catalogue = Catalogue.load(Path(config.dataset) if config.dataset else default_dataset(config))
    splits = (["dev"] if "dev" in catalogue.split_files else []) + catalogue.splits
    example = next((e for split in splits for e in catalogue.examples(split)), None)
    if example is None:  # databases without questions: the layout, with a placeholder question
        return question_prompt(catalogue, [], catalogue.db_ids[0], "<your question>", shots)
    pool = few_shot_pool(catalogue, exclude=example.split)
    return question_prompt(catalogue, pool, example.db_id, example.question, shots, example.evidence)


def readme(facts: VersionFacts, model: EvalModel, fmt: str, files: str, prompt: str) -> str:
    from shared.prompts import SQL_TEMPLATE, STOP_SEQUENCES

    manifest = facts.manifest
    lines = [
        f"# {facts.label} (sqldistill export, {fmt})",
        "",
        f"- base model: `{facts.base}`",
        f"- lineage: {' <- '.join(facts.lineage)}"
        + (f" (run {manifest['run_id']}, round {manifest.get('round')})" if manifest.get("run_id") else ""),
        f"- trained on: {manifest.get('dataset_size', '?')} rows, dataset `{manifest.get('dataset_hash', '?')}`"
        if manifest
        else "- trained on: nothing (a base model)",
        f"- method: {manifest.get('method', 'base')}",
        f"- files: {files}",
        "",
        "## Held-out figures",
        "",
    ]
    if facts.evaluations:
        lines += ["| split (limit, test suites, prompt) | questions | EX | TS |", "|---|---|---|---|"]
        for e in facts.evaluations:
            ts = f"{e['TS']:.3f}" if e["TS"] is not None else "-"
            lines.append(f"| {e['split']} | {e['questions']} | {e['EX']:.3f} | {ts} |")
    else:
        lines.append("None recorded in the store this export was made from.")
    lines += [
        "",
        "## The prompt this version expects",
        "",
        f"Template `{(manifest.get('prompt') or {}).get('template', SQL_TEMPLATE)}` with {model.few_shot_k} "
        "example(s) before the question; greedy decoding; stop at any of "
        + ", ".join(f"`{json.dumps(s)}`" for s in STOP_SEQUENCES)
        + ". Asked with another prompt it answers worse. The exact text for one held-out question, which "
        "the model completes with ` <SQL>;`:",
        "",
        "```",
        prompt,
        "```",
        "",
    ]
    return "\n".join(lines)


def _merged(model: EvalModel, models_dir: Path, out: Path, dtype: str) -> None:
    """Base + adapter merged into plain weights, with tokenizer, chat template and a greedy
    generation config: a model folder any engine loads."""
    import torch
    from transformers import GenerationConfig

    from shared.packaged_models import load_causal_lm, plain_copy, resolve_model

    base = resolve_model(model.path, models_dir)
    merged, tokenizer = load_causal_lm(base, model.adapter_path, dtype=torch.float32)
    if getattr(merged.config, "quantization_config", None) is not None:  # a base converted from GGUF
        merged = plain_copy(merged)
    merged.to(torch.bfloat16 if dtype == "bf16" else torch.float32)
    out.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    GenerationConfig(
        do_sample=False,
        max_new_tokens=defaults.MAX_NEW_TOKENS,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    ).save_pretrained(out)


def _adapter(model: EvalModel, out: Path, base: str) -> None:
    source = Path(model.adapter_path)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("adapter_model.safetensors", "adapter_config.json", "manifest.json"):
        shutil.copy2(source / name, out / name)
    config = json.loads((out / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = base  # what vLLM / TGI load beneath it
    (out / "adapter_config.json").write_text(json.dumps(config, indent=2))


def _gguf(model: EvalModel, models_dir: Path, out: Path, gguf_type: str) -> Path:
    tools = llama_cpp_tools()
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{model.label}-{gguf_type}.gguf"
    with tempfile.TemporaryDirectory(prefix="sqldistill-export-") as tmp:
        _merged(model, models_dir, Path(tmp), "fp32")  # converted from full precision
        done = subprocess.run(
            [sys.executable, str(tools / CONVERTER), tmp, "--outfile", str(target), "--outtype", gguf_type],
            capture_output=True,
            text=True,
        )
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ExportError(f"llama.cpp's converter failed: {last[0]}")
    return target


def export(
    model: EvalModel,
    fmt: str,
    out: Path,
    config: Config,
    dtype: str = DTYPES[0],
    gguf_type: str = GGUF_TYPES[0],
) -> Path:
    """Write the export into out; returns the folder."""
    if fmt not in FORMATS:
        raise ExportError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if dtype not in DTYPES:
        raise ExportError(f"--dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    if gguf_type not in GGUF_TYPES:
        raise ExportError(f"--gguf-type must be one of {', '.join(GGUF_TYPES)}, got {gguf_type!r}")
    if fmt == "adapter" and not model.adapter_path:
        raise ExportError(
            f"{model.label} has no adapter (a base model or a full fine-tune): export it merged"
        )
    if out.exists() and any(out.iterdir()):
        raise ExportError(f"{out} is not empty")
    facts = version_facts(model, config.resolved_store_url)
    models_dir = Path(config.home) / "models"
    if fmt == "merged":
        _merged(model, models_dir, out, dtype)
        files = f"model.safetensors ({dtype}), tokenizer, generation_config.json"
    elif fmt == "adapter":
        _adapter(model, out, facts.base)
        files = f"adapter_model.safetensors, adapter_config.json (base `{facts.base}`)"
    else:
        files = _gguf(model, models_dir, out, gguf_type).name + f" ({gguf_type})"
    (out / "README.md").write_text(readme(facts, model, fmt, files, example_prompt(config, model.few_shot_k)))
    return out
