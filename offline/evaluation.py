"""Scoring in process, with the critic's own code: execution (EX) and test-suite (TS) accuracy of a
prediction set, and with samples, of the answers they vote for beside the greedy ones - what
`sqldistill eval` prints and writes, and what benchmarks measure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from offline.prediction import critic_voter
from services.critic.logic import METRICS  # noqa: F401 - what `sqldistill eval --metric` takes
from services.critic.predictions import load_prediction_set  # noqa: F401 - `sqldistill eval --pred`
from shared.answering import Answer, QuestionIn, settle
from shared.catalogue import Catalogue, Example
from shared.config import CriticConfig
from shared.repairing import Repaired
from shared.stats import PairedComparison, compare_paired

if TYPE_CHECKING:
    from services.critic.logic import Critic
    from services.critic.scoring import AccuracyReport, PredictionIn, QueryScore


@dataclass
class Scored:
    predictions: list[PredictionIn]
    report: AccuracyReport
    scores: list[QueryScore]


@dataclass
class Evaluation:
    greedy: Scored
    voted: Scored | None = None  # with samples: the answers they vote for

    def voted_vs_greedy(self) -> PairedComparison | None:
        if self.voted is None:
            return None
        return compare_paired(
            {s.id: s.execution_match for s in self.voted.scores},
            {s.id: s.execution_match for s in self.greedy.scores},
        )


def open_critic(
    catalogue: Catalogue,
    predictions: Sequence[PredictionIn] = (),
    *,
    settings: CriticConfig | None = None,
    workers: int | None = None,
    timeout_ms: int | None = None,
    suites: Path | None = None,
) -> Critic:
    """A critic over catalogue's databases with the critic service's limits (`settings`, a config's
    `critic` section; its defaults when None), `workers` and `timeout_ms` overriding them; with a
    suites folder, test suites built there (on first use) from the predictions' gold queries. The
    caller closes it."""
    from services.critic.logic import Critic

    given = {"workers": workers, "timeout_ms": timeout_ms}
    settings = (settings or CriticConfig()).model_copy(update={k: v for k, v in given.items() if v})
    gold: dict[str, list[str]] = {}
    for p in predictions:
        gold.setdefault(p.db_id, []).append(p.gold_sql)
    return Critic.from_config(catalogue, settings, suites, gold)


def predictions_for(examples: Sequence[Example], sql: Sequence[str]) -> list[PredictionIn]:
    from services.critic.scoring import PredictionIn

    return [
        PredictionIn(
            id=e.id or str(i), db_id=e.db_id, gold_sql=e.query, predicted_sql=p, difficulty=e.difficulty
        )
        for i, (e, p) in enumerate(zip(examples, sql, strict=True))
    ]


def evaluate(
    critic: Critic,
    predictions: list[PredictionIn],
    answers: Sequence[Answer] = (),
    *,
    test_suite: bool = False,
    metric: str = "spider",
    empty_last: bool = True,
) -> Evaluation:
    """The predictions scored; with answers (one per prediction, samples and repairs unsettled),
    their voted answers scored too (`empty_last`: the vote's rule, see services/critic/voting.py)."""
    report, scores = critic.evaluate(predictions, test_suite=test_suite, metric=metric)
    evaluation = Evaluation(Scored(predictions, report, scores))
    if answers:
        questions = [QuestionIn(p.id, p.db_id, "") for p in predictions]
        fresh = [
            Answer(sql=a.greedy, greedy=a.greedy, samples=list(a.samples), repairs=list(a.repairs))
            for a in answers
        ]
        settled = settle(questions, fresh, critic_voter(critic, test_suite, empty_last=empty_last))
        voted = [replace(p, predicted_sql=a.sql) for p, a in zip(predictions, settled, strict=True)]
        voted_report, voted_scores = critic.evaluate(voted, test_suite=test_suite, metric=metric)
        evaluation.voted = Scored(voted, voted_report, voted_scores)
    return evaluation


def report_document(
    evaluation: Evaluation, answers: Sequence[Answer] = (), samples: int = 0
) -> dict[str, Any]:
    """The per-query JSON report; with samples (or repairs), what voted too, so another voting rule can be
    scored on the same samples (benchmarks/revote.py)."""
    greedy = evaluation.greedy
    document: dict[str, Any] = {
        "accuracy": asdict(greedy.report),
        "queries": [asdict(s) for s in greedy.scores],
    }
    if evaluation.voted is not None:
        document |= {
            "samples": samples,  # asked for; an answer may hold fewer (unusable output is dropped)
            "voted_accuracy": asdict(evaluation.voted.report),
            "voted_queries": [asdict(s) for s in evaluation.voted.scores],
            "sampled_sql": [
                {
                    "id": p.id,
                    "greedy": a.greedy,
                    "samples": a.samples,
                    "repairs": [asdict(r) for r in a.repairs],
                }
                for p, a in zip(greedy.predictions, answers, strict=True)
            ],
        }
    return document


def answers_from_report(document: dict[str, Any]) -> list[Answer]:
    """The greedy answers and samples a report with samples kept, unsettled, in its order."""
    return [
        Answer(
            sql=q["greedy"],
            greedy=q["greedy"],
            samples=list(q["samples"]),
            repairs=[Repaired(**r) for r in q.get("repairs", [])],
        )
        for q in document["sampled_sql"]
    ]
