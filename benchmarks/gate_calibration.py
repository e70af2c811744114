"""The gold-free gate's calibration over many versions at once: each version answers the held-out
questions once (cached, benchmarks/gate_agreement.version_answers), then the gold gate and the
gold-free gate - by vote, by review (the serving version, loaded at --precision, reviews) and,
with --fixed-reviewer, by one reviewer's review for every pair - decide every ordered pair (each version as candidate against each other as serving). Prints each
pair's decisions, how often each gold-free method agrees with gold, how many rollouts it makes that
gold calls worse, and how its differences track the EX differences; writes JSON; asserts nothing.

    python -m benchmarks.gate_calibration --versions V1 V2 [V3 ...] --dataset DIR [--split dev]
        [--limit N] [--samples 4] [--precision int8] [--store-url URL] [--home DIR]
        [--cache .bench/gate-answers] [--fixed-reviewer V] [--out .bench/gate_calibration.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
from pathlib import Path

from benchmarks.gate_agreement import all_answers, decide_pair, held_out, serving_reviewer
from services.controller.settings import RunSettings


def pearson(xs: list[float], ys: list[float]) -> float | None:
    """The correlation of two equal-length lists (None under three points or with no spread)."""
    if len(xs) < 3:
        return None
    try:
        return round(statistics.correlation(xs, ys), 3)
    except statistics.StatisticsError:
        return None


def summarise(pairs: list[dict], method: str = "gold_free") -> dict:
    """One gold-free method (`gold_free`: by vote; `gold_free_review`) against the gold gate:
    agreement, wrong rollouts and how its differences track the EX differences."""
    pairs = [p for p in pairs if method in p]
    agree = [p[method]["roll_out"] == p["gold"]["roll_out"] for p in pairs]
    unordered = [p for p in pairs if p["order"] == 0]
    return {
        "decisions": len(pairs),
        "agree": sum(agree),
        "agreement": round(sum(agree) / len(pairs), 3) if pairs else None,
        "gold_rollouts": sum(p["gold"]["roll_out"] for p in pairs),
        "gold_free_rollouts": sum(p[method]["roll_out"] for p in pairs),
        "wrong_rollouts": sum(p[method]["roll_out"] and p["gold"]["difference"] < 0 for p in pairs),
        "difference_correlation": pearson(
            [p["gold"]["difference"] for p in unordered], [p[method]["difference"] for p in unordered]
        ),
        "same_sign": sum(
            (p["gold"]["difference"] > 0) == (p[method]["difference"] > 0)
            for p in unordered
            if p["gold"]["difference"] and p[method]["difference"]
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
    fixed_reviewer: str = "",
) -> dict:
    config, catalogue, examples = held_out(dataset, split, limit, home)
    answers, seconds = all_answers(
        versions,
        catalogue,
        examples,
        split=split,
        samples=samples,
        store_url=store_url,
        precision=precision,
        config=config,
        cache=cache,
    )
    ordered = [
        (order, candidate, serving)
        for a, b in itertools.combinations(versions, 2)
        for order, (candidate, serving) in enumerate(((b, a), (a, b)))
    ]
    fixed = (
        serving_reviewer(fixed_reviewer, catalogue, split, store_url, precision, config)
        if fixed_reviewer
        else None
    )
    pairs = []
    for reviewer_name in versions:  # one reviewer loaded at a time: the serving version of its pairs
        review = serving_reviewer(reviewer_name, catalogue, split, store_url, precision, config)
        for order, candidate, serving in ordered:
            if serving != reviewer_name:
                continue
            print(f"\n{candidate} vs {serving}", flush=True)
            decided = decide_pair(
                catalogue, examples, answers[candidate], answers[serving], samples, review, fixed
            )
            pairs.append({"candidate": candidate, "serving": serving, "order": order} | decided)
        del review
    return {
        "versions": versions,
        "split": split,
        "samples": samples,
        "precision": precision,
        "seconds": seconds,
        "fixed_reviewer": fixed_reviewer,
        "summary": {"vote": summarise(pairs), "review": summarise(pairs, "gold_free_review")}
        | ({"review by the fixed reviewer": summarise(pairs, "gold_free_review_fixed")} if fixed else {}),
        "pairs": pairs,
    }


def print_table(document: dict) -> None:
    methods = ["gold_free", "gold_free_review", "gold_free_review_fixed"]
    print(
        "\ncandidate     serving       EX diff  gold      vote diff  by vote   review diff  by review"
        "  fixed diff  by fixed"
    )
    for p in document["pairs"]:

        def said(decision):
            return "roll out" if decision["roll_out"] else "reject"

        row = f"{Path(p['candidate']).name[-13:]:<13} {Path(p['serving']).name[-13:]:<13} "
        row += f"{p['gold']['difference']:+.3f}   {said(p['gold']):<9} "
        row += "".join(f"{p[m]['difference']:+.3f}     {said(p[m]):<10}" for m in methods if m in p)
        print(row)
    for method, s in document["summary"].items():
        print(
            f"\nby {method}: agree with gold on {s['agree']} of {s['decisions']} decisions ({s['agreement']}); "
            f"rollouts {s['gold_free_rollouts']} (gold {s['gold_rollouts']}), {s['wrong_rollouts']} that gold "
            f"calls worse; same sign on {s['same_sign']} of {s['pairs']} pairs; correlation of the differences "
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
    parser.add_argument(
        "--fixed-reviewer", default="", help="a version or model that also reviews every pair (e.g. the base)"
    )
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
        fixed_reviewer=args.fixed_reviewer,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2))
    print_table(document)
    print(f"figures: {args.out}")


if __name__ == "__main__":
    main()
