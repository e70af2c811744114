"""Do training rows fit the trainer's row (defaults.TRAIN_MAX_TOKENS, prompt and SQL) without being
cut? For the bundled train questions (0 and 2 shots) and one row per database of a Spider-format
folder (0 shots, a count over its last table), under a real tokenizer: how many rows the trainer
would have cut from the left with the prompt inference writes, how many training_prompt pruned,
and how many still pass the row. Prints the counts; asserts nothing.

    python -m benchmarks.training_row_fit [--spider ../shared/spider-train] [--model default]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from shared import defaults
from shared.bundled.build import ensure_built
from shared.bundled.locate import bundled_dataset_path
from shared.catalogue import Catalogue
from shared.config import REPO_ROOT, load_config
from shared.fewshot import few_shot_pool, question_prompt
from shared.training_data import TrainingPair, render_rows


def count(tokenizer, catalogue: Catalogue, pairs: list[TrainingPair], k: int, pool: list) -> dict[str, int]:
    """Rows the trainer would cut as inference writes them, rows pruned to fit, rows still over."""
    from services.trainer.batches import tokenize_rows

    def over(row: dict[str, str]) -> bool:  # tokenized as the trainer does: apart, with EOS
        ((ids, _labels),) = tokenize_rows([row], tokenizer, max_length=1 << 30)
        return len(ids) > defaults.TRAIN_MAX_TOKENS

    out = {"rows": len(pairs), "cut_before": 0, "pruned": 0, "over_now": 0}
    rows = render_rows(pairs, catalogue, k, pool=pool)
    for pair, row in zip(pairs, rows, strict=True):
        full = question_prompt(catalogue, pool, pair.db_id, pair.question, k, pair.evidence)
        out["cut_before"] += over(row | {"prompt": full})
        out["pruned"] += row["prompt"] != full
        out["over_now"] += over(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spider", type=Path, default=REPO_ROOT.parent / "shared" / "spider-train")
    parser.add_argument("--model", default="default", help="whose tokenizer counts")
    args = parser.parse_args()
    from transformers import AutoTokenizer

    from shared.packaged_models import resolve_model

    config = load_config()
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(args.model, config.home / "models"))
    bundled = Catalogue.load(ensure_built(bundled_dataset_path(config)))
    pool = few_shot_pool(bundled)
    train = [TrainingPair(e.db_id, e.question, e.query, e.evidence) for e in bundled.examples("train")]
    for k in (0, 2):
        print(f"bundled train, {k} shots: {count(tokenizer, bundled, train, k, pool)}", flush=True)
    if args.spider.is_dir():
        spider = Catalogue.load(args.spider)
        pairs = [
            TrainingPair(
                db, "How many rows are there?", f"SELECT count(*) FROM {spider.schema(db).tables[-1].name}"
            )
            for db in spider.db_ids
        ]
        print(f"{args.spider.name}, one row a database, 0 shots: {count(tokenizer, spider, pairs, 0, [])}")


if __name__ == "__main__":
    main()
