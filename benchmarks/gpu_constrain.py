"""What schema grammars cost on a GPU (`make gpu-check` runs it): generation tokens/s with
`constrain` off, identifiers and full, through the backend's static and compact loops, for a
random-init model of the default model's shape and its real tokenizer (its files travel; weights
cannot), at several batch sizes; and the host's share of each step spent computing masks.

A random model writes random allowed tokens: the masks it meets are those of arbitrary states of
the grammar, not of a trained model's SQL - a cost figure, not a quality one.

    python3 -m benchmarks.gpu_constrain --tokenizer DIR --out gpu-constrain.json   # on a GPU machine
    python -m benchmarks.gpu_constrain --tokenizer DIR --smoke                   # CPU, tiny shape
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.gpu_bench import DATA, build_model, sync


def timed_constraints(engine: Any, grammars: list, clock: dict[str, float]) -> Any:
    """The engine's RowConstraints for these rows, the seconds spent in its mask added to clock."""
    constraints = engine.rows(grammars)
    apply = constraints.apply

    def timed(logits: Any, rows: list[int]) -> list[int]:
        started = time.perf_counter()
        dead = apply(logits, rows)
        clock["mask"] += time.perf_counter() - started
        return dead

    constraints.apply = timed
    return constraints


def run(
    shape: dict, tokenizer: Any, schema: Any, rows: int, new_tokens: int, loop: str, device: str, dtype: Any
) -> list[dict]:
    """Off, identifiers and full on one model and one decoder (the static step compiles once)."""
    import torch

    from services.generation.constrain import GrammarEngine, RowGrammar
    from services.generation.decoding import Decoding, decode, end_token_ids
    from services.generation.kv_cache import GrowingCache
    from services.generation.sql_grammar_lark import sql_grammar_lark
    from services.generation.static_decoding import COMPILE_AFTER, StaticDecoder

    model = build_model(shape, device, dtype).eval()
    vocab = model.config.vocab_size
    engine = GrammarEngine(tokenizer, vocab, end_token_ids(model, tokenizer))
    prompt = tokenizer(" ".join(["-- Question: How many movies are there?"] * 40)).input_ids[:600]
    ids = torch.tensor([prompt] * rows, device=device)
    mask = torch.ones_like(ids)
    exact = Decoding(max_new_tokens=new_tokens, min_new_tokens=new_tokens)
    decoder = StaticDecoder(model, compile_mode="reduce-overhead" if device == "cuda" else None)
    clock = {"mask": 0.0}

    def once(mode: str) -> list[list[int]]:
        grammars = [RowGrammar(sql_grammar_lark(schema, mode), schema.db_id)] * rows if mode != "off" else []
        constraints = timed_constraints(engine, grammars, clock) if grammars else None
        if loop == "static":
            return decoder.decode(tokenizer, ids, mask, exact, constraints)
        return decode(model, tokenizer, ids, mask, GrowingCache(), exact, constraints)

    results = []
    with torch.inference_mode():
        for _ in range(COMPILE_AFTER + 1 if loop == "static" else 1):
            once("off")  # warm-up: the compile of this shape
        for mode in ("off", "identifiers", "full"):
            once(mode)  # the grammar's first masks
            sync(device)
            clock["mask"] = 0.0
            started = time.perf_counter()
            generated = sum(len(r) for r in once(mode))
            sync(device)
            seconds = time.perf_counter() - started
            results.append(
                {
                    "loop": loop,
                    "constrain": mode,
                    "rows": rows,
                    "new_tokens": new_tokens,
                    "tokens_per_second": round(generated / seconds, 1),
                    "mask_share": round(clock["mask"] / seconds, 3),
                    "mask_ms_per_step": round(1000 * clock["mask"] / new_tokens, 2),
                }
            )
    return results  # the model and its decoder go with this frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--tokenizer", type=Path, required=True, help="a folder with the shape's tokenizer files"
    )
    parser.add_argument("--out", type=Path, default=Path(".bench/gpu-constrain.json"))
    parser.add_argument("--shape", default="0.5b")
    parser.add_argument("--rows", default="8,64,256")
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--loops", default="static", help="static (a GPU's loop), compact")
    parser.add_argument("--smoke", action="store_true", help="tiny shape, few tokens, on the CPU")
    args = parser.parse_args(argv)
    import torch
    from transformers import AutoTokenizer

    from shared.bundled.build import ensure_built
    from shared.catalogue import Catalogue

    if args.smoke:
        args.shape, args.rows, args.new_tokens, args.loops = "tiny", "2", 6, "static,compact"
    device = "cuda" if torch.cuda.is_available() and not args.smoke else "cpu"
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    shape = json.loads((DATA / "gpu_shapes.json").read_text())[args.shape]
    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    if args.smoke:  # the tiny shape's vocabulary holds the tokenizer's
        shape = {**shape, "config": {**shape["config"], "vocab_size": len(tokenizer)}}
    schema = Catalogue.load(ensure_built(Path(tempfile.mkdtemp()) / "bundled")).schema("film")
    report: dict[str, Any] = {
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "shape": args.shape,
        "runs": [],
    }
    started = time.perf_counter()
    for rows in map(int, args.rows.split(",")):
        for loop in args.loops.split(","):
            for figures in run(shape, tokenizer, schema, rows, args.new_tokens, loop, device, dtype):
                report["runs"].append(figures)
                print(json.dumps(figures), flush=True)
            if device == "cuda":
                torch.cuda.empty_cache()
    report["seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
