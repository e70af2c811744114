"""benchmarks.revote: the same kept samples scored under the current voting rule and the ablation
(empty answers ranked like any other), end to end on a real SQLite fixture through the critic."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

OLDEST_FIRST = "SELECT name, age FROM singer ORDER BY age DESC"
EMPTY = ["SELECT name, age FROM singer WHERE age < 0", "SELECT name, age FROM singer WHERE age > 200"]


def test_revote_scores_both_rules_on_the_kept_samples(spider_dir, tmp_path):
    report, out = tmp_path / "report.json", tmp_path / "revote.json"
    report.write_text(
        json.dumps(
            {
                "sampled_sql": [
                    # two empty answers out-vote the right one only under the ablation
                    {"id": "dev-1", "greedy": EMPTY[0], "samples": [EMPTY[1], OLDEST_FIRST]},
                    {"id": "dev-0", "greedy": "SELECT count(*) FROM singer", "samples": ["SELECT 1"]},
                ]
            }
        )
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.revote",
            str(report),
            "--dataset",
            str(spider_dir),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(out.read_text())
    assert figures["figures"]["greedy"]["execution"] == 0.5
    assert figures["figures"]["voted"]["execution"] == 1.0
    assert figures["figures"]["voted, empty ranked like any answer"]["execution"] == 0.5
    change = figures["comparisons"]["voted vs voted, empty ranked like any answer"]
    assert change["answers_changed"] == 1 and change["wins"] == 1 and change["losses"] == 0


def test_revote_refuses_a_report_without_samples(spider_dir, tmp_path):
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"queries": []}))
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.revote", str(report), "--dataset", str(spider_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode != 0 and "keeps no samples" in done.stderr
