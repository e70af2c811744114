"""Re-score answer-time voting on the samples an `sqldistill eval --samples N --report R` run kept:
the current rule beside an ablation (empty answers ranked like any other group - the rule before
empty answers were put last), on the very same samples, so a change of rule is measured without
sampling noise. Prints EX / TS and paired comparisons; writes JSON; asserts nothing.

    python -m benchmarks.revote REPORT --dataset FOLDER [--split dev] [--test-suite] [--suites DIR]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from offline.evaluation import answers_from_report, evaluate, open_critic
from services.critic.scoring import PredictionIn
from shared.catalogue import Catalogue
from shared.stats import compare_paired


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("report", type=Path, help="an eval --report JSON written with --samples")
    parser.add_argument("--dataset", type=Path, required=True, help="the Spider-format folder it scored")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--test-suite", action="store_true", help="vote and score on test suites too")
    parser.add_argument(
        "--suites", type=Path, default=None, help="test-suite folder (the eval home's suites/)"
    )
    parser.add_argument("--out", type=Path, default=Path(".bench/revote.json"))
    args = parser.parse_args()

    document = json.loads(args.report.read_text())
    if "sampled_sql" not in document:
        raise SystemExit(f"{args.report} keeps no samples: rerun eval with --samples N --report")
    catalogue = Catalogue.load(args.dataset)
    examples = {e.id: e for e in catalogue.examples(args.split)}
    answers = answers_from_report(document)  # every question's greedy answer and samples
    greedy = [
        PredictionIn(q["id"], examples[q["id"]].db_id, examples[q["id"]].query, q["greedy"])
        for q in document["sampled_sql"]
    ]
    suites = (args.suites or Path(".bench/revote-suites")) if args.test_suite else None
    scored: dict[str, dict[str, bool]] = {}
    figures: dict[str, dict[str, float]] = {}
    answered: dict[str, list[str]] = {}
    # The vote's rule as the critic applies it today, and the ablation: empty answers ranked like
    # any other group (services/critic/voting.py, empty_last).
    for name, empty_last in {"voted": True, "voted, empty ranked like any answer": False}.items():
        # A critic per rule: its vote cache must not answer with another rule's groups.
        critic = open_critic(catalogue, greedy, suites=suites)
        try:
            evaluation = evaluate(critic, greedy, answers, test_suite=args.test_suite, empty_last=empty_last)
        finally:
            critic.close()
        runs = {"greedy": evaluation.greedy, name: evaluation.voted}
        for label, run in runs.items():
            scored[label] = {s.id: s.execution_match for s in run.scores}
            figures[label] = {"execution": run.report.execution, "test_suite": run.report.test_suite}
            answered[label] = [p.predicted_sql for p in run.predictions]
    for name, figure in figures.items():
        print(f"{name:40s} EX {figure['execution']:.3f}  TS {figure['test_suite']:.3f}")
    pairs = [
        ("voted", "greedy"),
        ("voted, empty ranked like any answer", "greedy"),
        ("voted", "voted, empty ranked like any answer"),
    ]
    comparisons = {}
    for a, b in pairs:
        c = compare_paired(scored[a], scored[b])
        changed = sum(x != y for x, y in zip(answered[a], answered[b], strict=True))
        comparisons[f"{a} vs {b}"] = asdict(c) | {"answers_changed": changed}
        print(
            f"{a} vs {b}: {changed} answers differ; EX {c.wins} wins, {c.losses} losses, "
            f"{c.difference:+.3f}, p = {c.p_value:.3f}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"figures": figures, "comparisons": comparisons}, indent=2))
    print(f"figures: {args.out}")


if __name__ == "__main__":
    main()
