"""Where a LoRA run's memory goes on a CPU, and what dropping LoRA's dropout and gradient
checkpointing save: the trainer entrypoint (a subprocess, as jobs run) on the bundled training rows
as the distillation runs render them (zero-shot prompts), the default model, peak RSS sampled every
0.1 s. The model's weights are parameters x 4 bytes (fp32); the rest of the peak is activations kept
for the backward pass, the autograd graph, logits and the allocator's slack. Prints and writes
figures; asserts nothing.

    python -m benchmarks.bench_training_memory [--home DIR] [--steps 3] [--batch 4]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from services.trainer.job_spec import TrainingParams, TrainSpec
from shared.bundled.build import ensure_built
from shared.catalogue import Catalogue
from shared.config import REPO_ROOT
from shared.training_data import TrainingPair, freeze, render_rows


def peak_rss(command: list[str]) -> tuple[float, int]:
    """(peak resident GiB of the process and its children, exit code)."""
    import psutil

    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    handle = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            family = [handle, *handle.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in family))
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.1)
    return peak / 2**30, process.returncode


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, default=Path("var"), help="a home whose models/ holds the base")
    parser.add_argument("--model", default="", help="default: the packaged default model")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path(".bench/training_memory.json"))
    args = parser.parse_args()
    catalogue = Catalogue.load(ensure_built(args.home / "bundled"))
    pairs = [TrainingPair(e.db_id, e.question, e.query) for e in catalogue.examples("train")]
    work = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    path, digest = freeze(render_rows(pairs, catalogue, few_shot_k=0), work / "datasets")
    from shared.packaged_models import load_causal_lm, resolve_model

    model, _ = load_causal_lm(resolve_model(args.model, args.home / "models"))
    weights_gib = sum(p.numel() for p in model.parameters()) * 4 / 2**30
    del model
    results = []
    arms = (
        ("lora", {}),
        ("lora without dropout", {"lora_dropout": 0.0}),  # peft then skips each adapted layer's input copy
        ("lora + gradient checkpointing", {"gradient_checkpointing": True}),
    )
    for name, extra in arms:
        spec = TrainSpec(
            job_id=name.replace(" ", "-"),
            base_model=args.model,
            dataset_path=str(path),
            dataset_hash=digest,
            output_dir=str(work / name.replace(" ", "-") / "version"),
            work_dir=str(work / name.replace(" ", "-") / "work"),
            version="v",
            models_dir=str(args.home / "models"),
            params=TrainingParams(max_steps=args.steps, batch_size=args.batch, checkpoint_every=0, **extra),
        )
        spec_path = work / f"{spec.job_id}.json"
        spec.dump(spec_path)
        started = time.monotonic()
        peak, code = peak_rss([sys.executable, "-m", "services.trainer.train", str(spec_path)])
        manifest = Path(spec.output_dir) / "manifest.json"
        metrics = json.loads(manifest.read_text())["metrics"] if manifest.is_file() else {}
        results.append(
            {
                "config": name,
                "exit": code,
                "peak_rss_gib": round(peak, 2),
                "weights_gib": round(weights_gib, 2),
                "rest_gib": round(peak - weights_gib, 2),
                "tokens_per_second": metrics.get("tokens_per_second"),
                "seconds": round(time.monotonic() - started, 1),
            }
        )
        print(json.dumps(results[-1]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": len(pairs), "batch": args.batch, "results": results}, indent=2))
    print(f"figures: {args.out}")


if __name__ == "__main__":
    main()
