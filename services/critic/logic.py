"""The critic, free of gRPC: one object over the sandbox workers that executes and describes
(execution.py), judges candidates (judging.py) and scores predictions (scoring.py)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from services.critic.execution import Executor
from services.critic.judging import CHUNK, CandidateIn, Judge, JudgeSettings, VerdictOut
from services.critic.scoring import METRICS, AccuracyReport, PredictionIn, QueryScore, score

__all__ = [
    "METRICS",
    "AccuracyReport",
    "CandidateIn",
    "Critic",
    "JudgeSettings",
    "PredictionIn",
    "QueryScore",
    "VerdictOut",
]


class Critic(Executor):
    """Execution (with the vote) from Executor; judging and scoring over the same workers and caches."""

    def judge(
        self, candidates: Iterable[CandidateIn], settings: JudgeSettings | None = None, chunk: int = CHUNK
    ) -> Iterator[VerdictOut]:
        return Judge(self).judge(candidates, settings or JudgeSettings(), chunk)

    def evaluate(
        self, predictions: Sequence[PredictionIn], test_suite: bool = False, metric: str = "spider"
    ) -> tuple[AccuracyReport, list[QueryScore]]:
        return score(self, predictions, test_suite, metric)
