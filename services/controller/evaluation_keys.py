"""How an evaluation is found again: the readable head of its split key (split, limit, test suites,
prompt, voting), which the EVALUATE step writes and the read side matches rounds by."""

from __future__ import annotations

from services.controller.settings import RunSettings


def split_head(settings: RunSettings, shots: int) -> str:
    """The readable start of an evaluation's split key (the rest is a digest of its content)."""
    return (
        f"{settings.eval_split}:{settings.eval_limit or 'all'}:ts={int(settings.test_suite)}:k={shots}:"
        + (f"vote={settings.eval_samples}:" if settings.eval_samples else "")
    )
