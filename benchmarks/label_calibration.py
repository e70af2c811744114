"""How often a question-only run's majority labels are right, by how strongly the samples agreed:
the calibration that `majority_share` is set from. Reads a `bench_distill --modes unlabelled` home
(its store and bundled dataset); the withheld gold SQL is used here, for the report only. Each
labelled question counts once per round, at its winning group's share of the executable samples.
Prints a table and writes JSON; asserts nothing.

    python -m benchmarks.label_calibration HOME [HOME ...] [--out .bench/label_calibration.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.run_figures import label_outcomes
from shared.catalogue import Catalogue
from shared.store import Store


def labels(home: Path) -> list[tuple[float, bool]]:
    """(agreement share, right by the withheld gold) of every labelled question of every round."""
    catalogue = Catalogue.load(home / "bundled")
    store = Store.existing(f"sqlite:///{home / 'store.db'}")
    if store is None:
        raise SystemExit(f"no store in {home}: run bench_distill --modes unlabelled there first")
    with store.session() as s:
        outcomes = label_outcomes(s, catalogue)
    return [(share, right) for share, right in outcomes.values() if right is not None]


def calibration(found: list[tuple[float, bool]]) -> list[dict[str, float]]:
    """Per distinct share, highest first: labels and right ones at that share, and at it or above."""
    out = []
    at_least = right_at_least = 0
    for share in sorted({round(s, 2) for s, _ in found}, reverse=True):
        here = [ok for s, ok in found if round(s, 2) == share]
        at_least += len(here)
        right_at_least += sum(here)
        out.append(
            {
                "share": share,
                "labels": len(here),
                "right": sum(here),
                "labels_at_or_above": at_least,
                "precision_at_or_above": round(right_at_least / at_least, 3),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("homes", nargs="+", type=Path, help="bench_distill homes of unlabelled runs")
    parser.add_argument("--out", type=Path, default=Path(".bench/label_calibration.json"))
    args = parser.parse_args()
    found = [label for home in args.homes for label in labels(home)]
    table = calibration(found)
    print(f"{len(found)} labels from {len(args.homes)} run(s)")
    print("share | labels | right | labels at or above | precision at or above")
    for row in table:
        print(
            f"{row['share']:.2f} | {row['labels']} | {row['right']} | {row['labels_at_or_above']} | "
            f"{row['precision_at_or_above']:.3f}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"homes": [str(h) for h in args.homes], "calibration": table}, indent=2))


if __name__ == "__main__":
    main()
