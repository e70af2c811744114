"""How an evaluation is found again: the readable head of its split key (split, limit, test suites,
prompt, voting), which the EVALUATE step writes and the read side matches rounds by, and the ids
its per-question results are kept under."""

from __future__ import annotations

from services.controller.settings import RunSettings


def split_head(settings: RunSettings, shots: int) -> str:
    """The readable start of an evaluation's split key (the rest is a digest of its content)."""
    return (
        f"{settings.eval_split}:{settings.eval_limit or 'all'}:ts={int(settings.test_suite)}:k={shots}:"
        + (f"vote={settings.eval_samples}:" if settings.eval_samples else "")
    )


def unique_ids(ids: list[str]) -> list[str]:
    """The split's question ids, a repeated one suffixed (#2, #3, ...): the gate pairs versions
    question by question, and a split's files need not keep their ids unique. Unique ids stay as
    they are, so evaluations stored before this pair as they did."""
    seen: dict[str, int] = {}
    out = []
    for question_id in ids:
        seen[question_id] = seen.get(question_id, 0) + 1
        out.append(question_id if seen[question_id] == 1 else f"{question_id}#{seen[question_id]}")
    return out
