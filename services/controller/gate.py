"""The rollout gate: roll a candidate out only when it beats its parent on the same held-out
questions by more than a margin, and, in `significant` mode, when the paired test says the gain is
unlikely to be noise."""

from __future__ import annotations

from dataclasses import dataclass

from shared.stats import PairedComparison


@dataclass(frozen=True)
class GateDecision:
    roll_out: bool
    reason: str


def decide(comparison: PairedComparison, mode: str, margin: float, alpha: float) -> GateDecision:
    c = comparison
    summary = (
        f"{c.candidate_accuracy:.3f} vs {c.parent_accuracy:.3f} on {c.questions} questions: "
        f"{c.wins} wins, {c.losses} losses, difference {c.difference:+.3f} "
        f"(95% CI {c.difference_low:+.3f} to {c.difference_high:+.3f}), McNemar p = {c.p_value:.3g}"
    )
    if c.questions == 0:
        return GateDecision(False, "no held-out question was scored for both versions")
    if c.difference <= margin:
        return GateDecision(False, f"{summary}; gain not above the margin {margin}")
    if mode == "significant" and c.p_value >= alpha:
        return GateDecision(False, f"{summary}; not significant at alpha {alpha}")
    if mode not in ("margin", "significant"):
        raise ValueError(f"unknown gate mode {mode!r}")
    return GateDecision(True, summary)
