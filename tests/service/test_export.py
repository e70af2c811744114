"""`sqldistill export` on a real version: SmolLM2-135M (the packaged test model) with a real PEFT
LoRA adapter. The merged folder loads in transformers and answers exactly as the base + adapter do;
the adapter names its base as engines find it; the GGUF file, written by llama.cpp's own converter,
is served by the real llama.cpp server and answers held-out questions as the embedded model does."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from offline.export import ExportError, export
from offline.models import EvalModel, resolve_eval_model
from offline.prediction import answer_examples, generator_writer, load_generator
from services.generation.backends import ModelSpec, Sampling
from services.generation.openai_backend import OpenAIBackend
from services.generation.parsing import parse_sql_completion
from shared.bundled.locate import default_dataset
from shared.catalogue import Catalogue
from shared.config import REPO_ROOT as REPO
from shared.config import load_config
from shared.fewshot import question_prompt
from shared.packaged_models import FAST_MODEL
from shared.prompts import STOP_SEQUENCES
from testbed.llama_server import llama_server

# One worker assembles and converts the packaged models for the run (tests/support/packaged_models.py).
pytestmark = pytest.mark.xdist_group("packaged_models")

QUESTIONS = 4


@pytest.fixture(scope="module")
def version(tmp_path_factory, packaged_models):
    """A version folder as the trainer writes one: adapter files and manifest. The home's models
    folder finds the base converted once per run (a link to the run's shared checkpoint)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    home = tmp_path_factory.mktemp("home")
    base = packaged_models.link_into(FAST_MODEL, home / "models")
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    torch.manual_seed(0)
    peft = get_peft_model(
        model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    )
    with torch.no_grad():  # a small, real change: answers move a little, not into noise
        for name, weight in peft.named_parameters():
            if "lora_B" in name:
                weight.mul_(0.05)
    folder = home / "models" / "versions" / "run1-r1"
    peft.save_pretrained(folder)
    manifest = {
        "version": "run1-r1",
        "base_model": FAST_MODEL,
        "adapter": True,
        "method": "lora",
        "run_id": "run1",
        "round": 1,
        "dataset_size": 12,
        "prompt": {"template": "sql-v1", "few_shot_k": 0},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    config = load_config(None, home=home)
    catalogue = Catalogue.load(default_dataset(config))
    return config, resolve_eval_model(str(folder)), catalogue, catalogue.examples("dev")[:QUESTIONS]


@pytest.fixture(scope="module")
def embedded(version) -> list[str]:
    """The version's greedy answers, embedded (base + adapter, fp32): what every export must match."""
    config, model, catalogue, examples = version
    return _greedy(catalogue, examples, model, config)


def _greedy(catalogue, examples, model: EvalModel, config) -> list[str]:
    generator = load_generator(catalogue, model, config.home / "models", [], device="cpu", precision="fp32")
    answers = answer_examples(examples, generator_writer(generator, model.few_shot_k), max_new_tokens=48)
    return [a.greedy for a in answers]


def test_a_merged_export_answers_as_the_version_with_its_adapter(version, embedded, tmp_path):
    config, model, catalogue, examples = version
    out = export(model, "merged", tmp_path / "merged", config, dtype="fp32")
    assert {"config.json", "model.safetensors", "generation_config.json", "tokenizer.json", "README.md"} <= {
        p.name for p in out.iterdir()
    }
    assert "quantization_config" not in json.loads((out / "config.json").read_text())
    assert json.loads((out / "generation_config.json").read_text())["do_sample"] is False
    merged = _greedy(catalogue, examples, EvalModel("merged", str(out), "", 0), config)
    assert merged == embedded
    text = (out / "README.md").read_text()
    assert "`HuggingFaceTB/SmolLM2-135M-Instruct`" in text and "run1-r1" in text and "0 example(s)" in text
    assert question_prompt(catalogue, [], examples[0].db_id, examples[0].question, 0) in text
    with pytest.raises(ExportError, match="not empty"):
        export(model, "merged", out, config)


def test_an_adapter_export_names_its_base_for_the_engines(version, tmp_path):
    config, model, _catalogue, _examples = version
    out = export(model, "adapter", tmp_path / "adapter", config)
    adapter = json.loads((out / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert (out / "adapter_model.safetensors").stat().st_size > 0 and (out / "README.md").is_file()
    with pytest.raises(ExportError, match="no adapter"):
        export(EvalModel("base", FAST_MODEL, "", 2), "adapter", tmp_path / "none", config)


def test_a_gguf_export_served_by_llama_cpp_answers_as_the_embedded_model(version, embedded, tmp_path):
    config, model, catalogue, examples = version
    out = export(model, "gguf", tmp_path / "gguf", config, gguf_type="f16")
    (gguf,) = out.glob("*.gguf")
    prompts = [question_prompt(catalogue, [], e.db_id, e.question, 0) for e in examples]
    with llama_server(gguf, "run1-r1", tmp_path / "server.log") as url:
        backend = OpenAIBackend(url, ModelSpec(version="run1-r1"))
        served = backend.generate(
            prompts, 1, Sampling(temperature=0.0, max_new_tokens=48, stop=STOP_SEQUENCES)
        )
    answers = [parse_sql_completion(texts[0]).sql for texts in served]
    # f16 weights against fp32 ones: greedy paths may part late on a near tie, so compare the
    # answers' first 20 characters, and allow one question of QUESTIONS to part earlier.
    same = sum(a[:20] == b[:20] for a, b in zip(answers, embedded, strict=True))
    assert same >= QUESTIONS - 1, list(zip(answers, embedded, strict=True))


def test_export_of_an_unknown_version_is_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "export", "no-such-version", "--out", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={"SQLDISTILL_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin", "COLUMNS": "300"},
    )
    assert result.returncode == 2 and "no model 'no-such-version'" in result.stdout, (
        result.stdout + result.stderr
    )
    assert "Traceback" not in result.stderr
