"""The gold-free gate's calibration over many versions at once: each version answers the held-out
questions once (cached, benchmarks/gate_agreement.version_answers), then both gates decide every
ordered pair (each version as candidate against each other as serving). Prints each pair's two
decisions, how often they agree, how many rollouts the gold-free gate makes that gold calls worse,
and how the pseudo-EX difference tracks the EX difference; writes JSON; asserts nothing.

    python -m benchmarks.gate_calibration --versions V1 V2 [V3 ...] --dataset DIR [--split dev]
        [--limit N] [--samples 4] [--precision int8] [--store-url URL] [--home DIR]
        [--cache .bench/gate-answers] [--out .bench/gate_calibration.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
from pathlib import Path

from benchmarks.gate_agreement import decide_pair, version_answers
from services.controller.settings import RunSettings
from shared.catalogue import Catalogue
from shared.config import load_config


def pearson(xs: list[float], ys: list[float]) -> float | None:
    """The correlation of two equal-length lists (None under three points or with no spread)."""
    if len(xs) < 3:
        return None
    try:
        return round(statistics.correlation(xs, ys), 3)
    except statistics.StatisticsError:
        return None


def summarise(pairs: list[dict]) -> dict:
    """Agreement, wrong rollouts and how pseudo-EX differences track EX differences."""
    unordered = [p for p in pairs if p["order"] == 0]
    return {
        "decisions": len(pairs),
        "agree": sum(p["agree"] for p in pairs),
        "agreement": round(sum(p["agree"] for p in pairs) / len(pairs), 3) if pairs else None,
        "gold_rollouts": sum(p["gold"]["roll_out"] for p in pairs),
        "gold_free_rollouts": sum(p["gold_free"]["roll_out"] for p in pairs),
        "wrong_rollouts": sum(p["wrong_rollout"] for p in pairs),
        "difference_correlation": pearson(
            [p["gold"]["difference"] for p in unordered], [p["gold_free"]["difference"] for p in unordered]
        ),
        "same_sign": sum(
            (p["gold"]["difference"] > 0) == (p["gold_free"]["difference"] > 0)
            for p in unordered
            if p["gold"]["difference"] and p["gold_free"]["difference"]
        ),
        "pairs": len(unordered),
    }


def calibrate(
    versions: list[str],
    dataset: Path,
    *,
    split: str,
    samples: int,
    precision: str,
    store_url: str,
    home: Path | None,
    cache: Path,
    limit: int = 0,
) -> dict:
    config = load_config(home=home) if home else load_config()
    catalogue = Catalogue.load(dataset)
    examples = catalogue.examples(split)
    examples = examples[:limit] if limit else examples
    answers, seconds = {}, {}
    for name in versions:
        print(f"answers of {name}", flush=True)
        answers[name], seconds[name] = version_answers(
            name,
            catalogue,
            examples,
            split=split,
            samples=samples,
            store_url=store_url,
            precision=precision,
            config=config,
            cache=cache,
        )
    pairs = []
    for a, b in itertools.combinations(versions, 2):
        for order, (candidate, serving) in enumerate(((b, a), (a, b))):
            print(f"\n{candidate} vs {serving}", flush=True)
            decided = decide_pair(catalogue, examples, answers[candidate], answers[serving], samples)
            pairs.append({"candidate": candidate, "serving": serving, "order": order} | decided)
    return {
        "versions": versions,
        "split": split,
        "samples": samples,
        "precision": precision,
        "seconds": seconds,
        "summary": summarise(pairs),
        "pairs": pairs,
    }


def print_table(document: dict) -> None:
    print("\ncandidate              serving                EX diff   gold      pseudo diff  gold-free  agree")
    for p in document["pairs"]:
        gold, free = p["gold"], p["gold_free"]
        print(
            f"{Path(p['candidate']).name[-22:]:<22} {Path(p['serving']).name[-22:]:<22} {gold['difference']:+.3f}   "
            f"{'roll out' if gold['roll_out'] else 'reject':<9} {free['difference']:+.3f}       "
            f"{'roll out' if free['roll_out'] else 'reject':<10} {p['agree']}"
        )
    s = document["summary"]
    print(
        f"\nagree on {s['agree']} of {s['decisions']} decisions ({s['agreement']}); gold-free rollouts "
        f"{s['gold_free_rollouts']} (gold {s['gold_rollouts']}), {s['wrong_rollouts']} that gold calls "
        f"worse; same sign on {s['same_sign']} of {s['pairs']} pairs; correlation of the differences "
        f"{s['difference_correlation']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--versions", nargs="+", required=True, help="version ids, version folders or models")
    parser.add_argument("--dataset", type=Path, required=True, help="a Spider-format folder with gold SQL")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--limit", type=int, default=0, help="first N held-out questions (0 = all)")
    parser.add_argument("--samples", type=int, default=RunSettings().gate_samples, help="per version")
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--store-url", default="", help="the store the version ids are in")
    parser.add_argument("--home", type=Path, default=None, help="the home whose models/ holds the bases")
    parser.add_argument("--cache", type=Path, default=Path(".bench/gate-answers"))
    parser.add_argument("--out", type=Path, default=Path(".bench/gate_calibration.json"))
    args = parser.parse_args()
    if len(set(args.versions)) < 2:
        raise SystemExit("give at least two different versions")
    document = calibrate(
        args.versions,
        args.dataset,
        split=args.split,
        samples=args.samples,
        precision=args.precision,
        store_url=args.store_url,
        home=args.home,
        cache=args.cache,
        limit=args.limit,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2))
    print_table(document)
    print(f"figures: {args.out}")


if __name__ == "__main__":
    main()
