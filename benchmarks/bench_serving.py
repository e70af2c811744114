"""Generation throughput, embedded vs served (`python -m benchmarks.bench_serving`): the same
prompts (held-out questions of the bundled benchmark, zero-shot, greedy) through the in-process
transformers backend (the default model converted to fp32 safetensors) and through the `openai`
backend against llama-cpp-python's server on loopback serving the same model's own GGUF file
(Q4_K_M). Generated tokens are counted with the same tokenizer for both. One run each; prints the
ratio and writes JSON. The weights differ in precision (fp32 vs 4-bit): that is what each way of
serving runs."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from services.generation.backends import ModelSpec, Sampling
from services.generation.openai_backend import OpenAIBackend
from services.generation.transformers_backend import TransformersBackend
from shared.bundled.build import ensure_built
from shared.catalogue import Catalogue
from shared.config import REPO_ROOT
from shared.fewshot import question_prompt
from shared.packaged_models import DEFAULT_MODEL, PACKAGED_MODELS
from shared.prompts import STOP_SEQUENCES
from testbed.llama_server import llama_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--out", type=Path, default=Path(".bench/serving.json"))
    args = parser.parse_args()
    models = REPO_ROOT / "var" / "models"
    data = ensure_built(REPO_ROOT / "var" / "bundled")
    catalogue = Catalogue.load(data)
    questions = catalogue.examples("dev")[: args.questions]
    prompts = [question_prompt(catalogue, [], q.db_id, q.question, 0) for q in questions]
    greedy = Sampling(temperature=0.0, max_new_tokens=args.max_new_tokens, stop=STOP_SEQUENCES)

    embedded = TransformersBackend(models, ModelSpec(""), max_batch_size=8)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(embedded.info().path)
    started = time.perf_counter()
    local = embedded.generate(prompts, 1, greedy)
    local_seconds = time.perf_counter() - started

    gguf = PACKAGED_MODELS[DEFAULT_MODEL].gguf_path(models)
    with llama_server(gguf, "default", Path(tempfile.mkdtemp()) / "server.log", n_ctx=4096) as url:
        served = OpenAIBackend(url, model_id="default", max_concurrency=1)
        started = time.perf_counter()
        remote = served.generate(prompts, 1, greedy)
        remote_seconds = time.perf_counter() - started

    def tokens(outputs: list[list[str]]) -> int:
        return sum(len(tokenizer(o[0]).input_ids) for o in outputs)

    local_tokens, remote_tokens = tokens(local), tokens(remote)
    figures = {
        "questions": len(prompts),
        "embedded": {
            "seconds": round(local_seconds, 1),
            "tokens": local_tokens,
            "tokens_per_second": round(local_tokens / local_seconds, 1),
        },
        "served": {
            "seconds": round(remote_seconds, 1),
            "tokens": remote_tokens,
            "tokens_per_second": round(remote_tokens / remote_seconds, 1),
        },
        "same_output": sum(a == b for a, b in zip(local, remote, strict=True)),
    }
    figures["ratio_served_over_embedded"] = round(
        figures["served"]["tokens_per_second"] / figures["embedded"]["tokens_per_second"], 2
    )
    print(
        f"{len(prompts)} prompts, greedy, {args.max_new_tokens} new tokens at most: embedded transformers "
        f"{figures['embedded']['tokens_per_second']} tok/s ({local_seconds:.1f} s), llama.cpp server "
        f"{figures['served']['tokens_per_second']} tok/s ({remote_seconds:.1f} s): served / embedded = "
        f"{figures['ratio_served_over_embedded']}x; identical outputs {figures['same_output']}/{len(prompts)}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
