"""The calibration table majority_share is set from: precision of labels at or above each share."""

from __future__ import annotations

from benchmarks.label_calibration import calibration


def test_precision_accumulates_from_the_strongest_agreement_down():
    found = [(1.0, True), (1.0, False), (0.75, True), (0.6, False), (0.6, False), (0.6, True)]
    table = calibration(found)
    assert [row["share"] for row in table] == [1.0, 0.75, 0.6]
    assert [(row["labels"], row["right"]) for row in table] == [(2, 1), (1, 1), (3, 1)]
    assert [row["labels_at_or_above"] for row in table] == [2, 3, 6]
    assert [row["precision_at_or_above"] for row in table] == [0.5, 0.667, 0.5]
