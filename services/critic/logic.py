"""The critic, free of gRPC: one object over the sandbox workers that executes and describes
(execution.py), judges candidates (judging.py) and scores predictions (scoring.py)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from services.critic.execution import Executor
from services.critic.judging import CHUNK, CandidateIn, Judge, JudgeSettings, VerdictOut
from services.critic.sandbox import Limits
from services.critic.sandbox_pool import SandboxPool
from services.critic.scoring import METRICS, AccuracyReport, PredictionIn, QueryScore, score
from services.critic.testsuite import SuiteStore
from shared.catalogue import Catalogue
from shared.config import CriticConfig

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

    @classmethod
    def from_config(
        cls,
        catalogue: Catalogue,
        settings: CriticConfig,
        suites: Path | None = None,
        gold_queries: dict[str, list[str]] | None = None,
        *,
        interactive: bool = False,
    ) -> Critic:
        """A critic with the settings' limits (deadline, row and byte caps, memory, suite size): the
        service and `sqldistill eval` build theirs here, so they score alike. With a suites folder,
        test suites are built there on first use."""
        pool = SandboxPool(workers=settings.workers, memory_mb=settings.memory_mb)
        limits = Limits(settings.timeout_ms, settings.max_rows, settings.max_result_bytes)
        spare = (
            SandboxPool(workers=settings.interactive_workers, memory_mb=settings.memory_mb)
            if interactive and settings.interactive_workers
            else None
        )
        critic = cls(catalogue, pool, limits, interactive=spare)
        if suites is not None:
            critic.suites = SuiteStore(
                catalogue,
                suites,
                k=settings.test_suite_variants,
                distinguishes=critic.distinguishes,
                gold_queries=gold_queries,
            )
        return critic

    def judge(
        self, candidates: Iterable[CandidateIn], settings: JudgeSettings | None = None, chunk: int = CHUNK
    ) -> Iterator[VerdictOut]:
        return Judge(self).judge(candidates, settings or JudgeSettings(), chunk)

    def evaluate(
        self, predictions: Sequence[PredictionIn], test_suite: bool = False, metric: str = "spider"
    ) -> tuple[AccuracyReport, list[QueryScore]]:
        return score(self, predictions, test_suite, metric)
