"""How accuracies and paired comparisons read in tables and reports (one place for both)."""

from __future__ import annotations

from typing import Any

from shared.pb import controller_pb2
from shared.pbconvert import enum_text


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


def state_text(number: int) -> str:
    return enum_text(controller_pb2.RunState, number)


def step_text(number: int) -> str:
    return enum_text(controller_pb2.Step, number, upper=True)


def outcome_text(number: int) -> str:
    return enum_text(controller_pb2.RoundOutcome, number)


def status_text(number: int) -> str:
    return enum_text(controller_pb2.VersionStatus, number)


def mode_text(number: int) -> str:
    return enum_text(controller_pb2.RunMode, number) or "default"
