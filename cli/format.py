"""How accuracies and paired comparisons read in tables and reports (one place for both)."""

from __future__ import annotations

from typing import Any


def accuracy_text(accuracy: Any) -> str:
    """EX with its 95% interval, e.g. '0.544 [0.441-0.644]'; '-' when not evaluated."""
    if not accuracy.total:
        return "-"
    return f"{accuracy.execution:.3f} [{accuracy.execution_low:.3f}-{accuracy.execution_high:.3f}]"


def comparison_cells(c: Any) -> list[str]:
    """wins/losses, gain with its interval, p-value of the paired comparison ('-' before EVALUATE)."""
    if not c.questions:
        return ["-", "-", "-"]
    return [
        f"{c.wins}/{c.losses}",
        f"{c.difference:+.3f} [{c.difference_low:+.3f},{c.difference_high:+.3f}]",
        f"{c.p_value:.3g}",
    ]
