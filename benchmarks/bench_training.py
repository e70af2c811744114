"""Training benchmark (`make bench`): LoRA fine-tuning throughput (tokens/s) of the default model on
this machine's CPU (or a GPU when there is one) as sequence length grows, and padding waste of
length-grouped vs plain shuffled batches on the real bundled training data. Prints and writes figures."""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from pathlib import Path

from services.trainer.batches import batch_order, padding_waste
from services.trainer.job_spec import TrainingParams, TrainSpec
from services.trainer.train import train
from shared.bundled.build import ensure_built
from shared.catalogue import Catalogue
from shared.training_data import TrainingPair, freeze, render_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(".bench/training.json"))
    parser.add_argument("--model", default="")
    parser.add_argument("--lengths", default="128,256,512,1024")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--home", type=Path, default=Path("var"))
    args = parser.parse_args()
    data = ensure_built(args.home / "bundled")
    catalogue = Catalogue.load(data)
    pairs = [TrainingPair(e.db_id, e.question, e.query) for e in catalogue.examples("train")]
    rows = render_rows(pairs, catalogue, few_shot_k=2)

    from shared.packaged_models import load_causal_lm, resolve_model

    _, tokenizer = load_causal_lm(resolve_model(args.model, args.home / "models"))
    lengths = [len(tokenizer(r["prompt"] + r["completion"]).input_ids) for r in rows]
    figures: dict[str, object] = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "training_rows": len(rows),
        "row_tokens_min_mean_max": [min(lengths), round(sum(lengths) / len(lengths)), max(lengths)],
        "padding_waste_length_grouped": round(
            padding_waste(lengths, batch_order(lengths, args.batch, 0, 0, True)), 4
        ),
        "padding_waste_shuffled": round(
            padding_waste(lengths, batch_order(lengths, args.batch, 0, 0, False)), 4
        ),
        "throughput": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for length in [int(x) for x in args.lengths.split(",")]:
            # Rows cut to `length` tokens from the left of the prompt, as training does with max_length.
            path, digest = freeze(rows, Path(tmp) / "data")
            spec = TrainSpec(
                job_id=f"bench-{length}",
                base_model=args.model or "default",
                dataset_path=str(path),
                dataset_hash=digest,
                output_dir=str(Path(tmp) / f"v{length}"),
                work_dir=str(Path(tmp) / f"w{length}"),
                version=f"v{length}",
                models_dir=str(args.home / "models"),
                params=TrainingParams(
                    max_steps=args.steps, batch_size=args.batch, max_length=length, checkpoint_every=0
                ),
            )
            out = train(spec)
            metrics = json.loads((out / "manifest.json").read_text())["metrics"]
            figures["throughput"].append(
                {
                    "max_length": length,
                    "tokens_per_second": metrics["tokens_per_second"],
                    "seconds_per_step": round(metrics["train_seconds_this_run"] / args.steps, 2),
                    "device": metrics["device"],
                }
            )
            print(figures["throughput"][-1], flush=True)
    print(json.dumps(figures, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
