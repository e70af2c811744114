"""The rollout gate: roll a candidate out only when it beats its parent on the same held-out
questions by more than a margin, and, in `significant` mode, when the paired test says the gain is
unlikely to be noise; and how small a difference it could have seen on its question count (its
power, in the report and the event)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.limits import FEW_GATE_QUESTIONS
from shared.stats import PairedComparison, smallest_detectable_difference


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


def power_figures(questions: int, alpha: float) -> dict[str, float]:
    """How small a difference the gate could have seen on its question count."""
    return {
        "gate_detectable_difference": smallest_detectable_difference(questions, alpha) if questions else 1.0
    }


def power_note(questions: int, alpha: float) -> str:
    """The same for the gate's message, with a warning when the decision rests on few questions."""
    if not questions:
        return ""
    note = f"; smallest difference detectable at alpha {alpha:g}: {smallest_detectable_difference(questions, alpha):.3f}"
    if questions < FEW_GATE_QUESTIONS:
        note += f" (warning: a decision on fewer than {FEW_GATE_QUESTIONS} questions)"
    return note
