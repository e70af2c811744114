"""Statistics for comparing model versions on the same held-out questions.

A gain of a few EX points on 90 questions is often noise. Scoring candidate and parent on the same
questions makes the comparison paired: only the questions where they disagree carry information
(wins: candidate right, parent wrong; losses: the reverse). The exact McNemar test is the two-sided
binomial test of wins against losses; the interval of the difference is the Wald interval for paired
proportions. A single accuracy gets a Wilson interval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class PairedComparison:
    questions: int
    wins: int  # candidate right, parent wrong
    losses: int  # candidate wrong, parent right
    candidate_accuracy: float
    parent_accuracy: float
    difference: float
    difference_low: float
    difference_high: float
    p_value: float

    def as_figures(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def wilson_interval(correct: int, total: int, z: float = Z_95) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (sensible at 0 and 1, unlike the Wald interval)."""
    if total <= 0:
        return 0.0, 0.0
    p = correct / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def mcnemar_exact(wins: int, losses: int) -> float:
    """Two-sided exact McNemar p-value: P(a split at least this uneven | wins and losses equally likely)."""
    n = wins + losses
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(wins, losses) + 1)) / 2**n
    return min(1.0, 2 * tail)


def smallest_detectable_difference(questions: int, alpha: float) -> float:
    """The smallest accuracy difference a paired test on this many questions could call significant
    at alpha: the fewest wins that, against no losses, reach p < alpha, as a share of the questions
    (1.0 when even winning every question could not)."""
    for wins in range(1, questions + 1):
        if mcnemar_exact(wins, 0) < alpha:
            return wins / questions
    return 1.0


def compare_paired(
    candidate: Mapping[str, bool], parent: Mapping[str, bool], z: float = Z_95
) -> PairedComparison:
    """Candidate against parent on the questions both were scored on (matched by question id)."""
    ids = sorted(set(candidate) & set(parent))
    n = len(ids)
    wins = sum(1 for i in ids if candidate[i] and not parent[i])
    losses = sum(1 for i in ids if parent[i] and not candidate[i])
    if n == 0:
        return PairedComparison(0, 0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
    candidate_accuracy = sum(1 for i in ids if candidate[i]) / n
    parent_accuracy = sum(1 for i in ids if parent[i]) / n
    difference = (wins - losses) / n
    # Var of the paired difference: ((b + c) - (b - c)^2 / n) / n^2.
    half = z * math.sqrt(max(0.0, (wins + losses) - (wins - losses) ** 2 / n)) / n
    return PairedComparison(
        n,
        wins,
        losses,
        candidate_accuracy,
        parent_accuracy,
        difference,
        max(-1.0, difference - half),
        min(1.0, difference + half),
        mcnemar_exact(wins, losses),
    )
