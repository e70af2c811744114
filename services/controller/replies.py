"""The controller's replies as messages: protobuf translation of what runs and the read side
return. The servicer answers with them, and the CLI answers the read calls with `ReadReplies`
straight from the store when the controller is not running."""

from __future__ import annotations

from typing import Any

from services.controller.question_log import VersionAsks, asks_by_version, log_execution
from services.controller.run_views import RunViews
from services.controller.settings import RunSettings
from services.controller.versions import prompt_k
from shared.model_refs import model_path
from shared.pb import common_pb2, controller_pb2
from shared.pbconvert import enum_number
from shared.stats import wilson_interval
from shared.store import Event, ModelVersion, Run


def comparison_message(figures: dict[str, Any]) -> controller_pb2.Comparison:
    """The paired gate figures a round stored at EVALUATE (empty before it)."""
    return controller_pb2.Comparison(
        questions=int(figures.get("paired_questions", 0)),
        wins=int(figures.get("paired_wins", 0)),
        losses=int(figures.get("paired_losses", 0)),
        difference=figures.get("paired_difference", 0.0),
        difference_low=figures.get("paired_difference_low", 0.0),
        difference_high=figures.get("paired_difference_high", 0.0),
        p_value=figures.get("paired_p_value", 1.0),
        detectable_difference=figures.get("gate_detectable_difference", 0.0),
        gold_free=bool(figures.get("gate_gold_free", 0.0)),
        gate_questions=int(figures.get("gate_questions", 0)),
        pseudo_labelled=int(figures.get("gate_pseudo_labelled", 0)),
        new_executes=figures.get("new_executes", 0.0),
        serving_executes=figures.get("serving_executes", 0.0),
        gate_free_method=gold_free_method(figures),
        reviewed=int(figures.get("gate_reviewed", 0)),
        gate_reviewer=gate_reviewer(figures),
    )


def gold_free_method(figures: dict[str, Any]) -> str:
    """How a gold-free gate judged (review | vote), from its figures; "" for a gate with gold."""
    if not figures.get("gate_gold_free"):
        return ""
    return "review" if "gate_reviewed" in figures else "vote"


def gate_reviewer(figures: dict[str, Any]) -> str:
    """Who reviewed a gold-free gate by review (serving | base), from its figures; "" otherwise."""
    if gold_free_method(figures) != "review":
        return ""
    return "base" if figures.get("gate_base_reviewer") else "serving"


def accuracy_message(evaluation: Any) -> common_pb2.Accuracy:
    if evaluation is None:
        return common_pb2.Accuracy()
    low, high = wilson_interval(round(evaluation.execution * evaluation.total), evaluation.total)
    message = common_pb2.Accuracy(
        total=evaluation.total,
        execution=evaluation.execution,
        test_suite=evaluation.test_suite or 0.0,
        execution_low=low,
        execution_high=high,
    )
    for level, figures in (evaluation.by_hardness or {}).items():
        message.by_hardness[level].CopyFrom(
            common_pb2.Accuracy(
                total=figures.get("total", 0),
                execution=figures.get("execution", 0.0),
                test_suite=figures.get("test_suite", 0.0),
            )
        )
    return message


def serving_accuracy_message(figures: dict[str, Any]) -> common_pb2.Accuracy:
    """The serving version's accuracy as the round's gate saw it (on the same questions)."""
    total = int(figures.get("paired_questions", 0))
    execution = figures.get("serving_execution", 0.0)
    low, high = wilson_interval(round(execution * total), total)
    return common_pb2.Accuracy(
        total=total,
        execution=execution,
        test_suite=figures.get("serving_test_suite", 0.0),
        execution_low=low,
        execution_high=high,
    )


def run_message(run: Run, current_step: str) -> controller_pb2.Run:
    return controller_pb2.Run(
        run_id=run.id,
        name=run.name,
        state=enum_number(controller_pb2.RunState, run.state),
        current_round=run.current_round,
        current_step=enum_number(controller_pb2.Step, current_step),
        serving_version=run.serving_version or "",
        waiting_for=run.waiting_for or "",
        spec=RunSettings.from_dict(run.spec).to_message(),
    )


def model_message(
    version: ModelVersion, evaluation: Any, asks: VersionAsks | None = None
) -> controller_pb2.ModelVersion:
    log_questions, log_ex = log_execution(evaluation.per_question if evaluation is not None else None)
    asked = controller_pb2.AskedFigures(log_questions=log_questions, log_execution=log_ex)
    if asks is not None:
        asked.answered, asked.executable, asked.agreement = asks.answered, asks.executable, asks.agreement
        asked.marked_right, asked.marked_wrong = asks.marked_right, asks.marked_wrong
    return controller_pb2.ModelVersion(
        version=version.version,
        base=model_path(version.base),
        parent=version.parent or "",
        run_id=version.run_id or "",
        round=version.round or 0,
        dataset_hash=version.dataset_hash or "",
        artifact_path=version.artifact_path,
        status=enum_number(controller_pb2.VersionStatus, version.status),
        accuracy=accuracy_message(evaluation),
        created_at=version.created_at.isoformat(),
        few_shot_k=prompt_k(version, RunSettings()),  # a base model: the default base prompt
        asked=asked,
    )


def event_message(event: Event) -> controller_pb2.RunEvent:
    return controller_pb2.RunEvent(
        run_id=event.run_id or "",
        round=event.round or 0,
        step=enum_number(controller_pb2.Step, event.step or ""),
        kind=event.kind,
        message=event.message,
        figures={k: float(v) for k, v in (event.figures or {}).items()},
        created_at=event.created_at.isoformat(),
    )


class ReadReplies:
    """The read calls of ControllerService (same names, same messages) over the read side alone."""

    def __init__(self, queries: RunViews) -> None:
        self.queries = queries

    def run(self, run: Run) -> controller_pb2.Run:
        return run_message(run, self.queries.current_step(run.id))

    def GetRun(self, request: controller_pb2.RunRef, **_: Any) -> controller_pb2.Run:
        return self.run(self.queries.get(request.run_id))

    def ListRuns(self, request: controller_pb2.ListRunsRequest, **_: Any) -> controller_pb2.ListRunsResponse:
        return controller_pb2.ListRunsResponse(runs=[self.run(r) for r in self.queries.runs()])

    def ListRounds(self, request: controller_pb2.RunRef, **_: Any) -> controller_pb2.ListRoundsResponse:
        rounds = []
        for item in self.queries.rounds(request.run_id):
            rnd, figures = item["round"], item["figures"]
            rounds.append(
                controller_pb2.Round(
                    run_id=rnd.run_id,
                    number=rnd.number,
                    step=enum_number(controller_pb2.Step, rnd.step),
                    outcome=enum_number(controller_pb2.RoundOutcome, rnd.outcome or ""),
                    generated=int(figures.get("generated", 0)),
                    kept=int(figures.get("kept", 0)),
                    model_version=rnd.model_version or "",
                    accuracy=accuracy_message(item["evaluation"]),
                    serving_accuracy=serving_accuracy_message(figures),
                    comparison=comparison_message(figures),
                    generate_precision=str(figures.get("generate_precision", "")),
                )
            )
        return controller_pb2.ListRoundsResponse(rounds=rounds)

    def ListModels(
        self, request: controller_pb2.ListModelsRequest, **_: Any
    ) -> controller_pb2.ListModelsResponse:
        asks = asks_by_version(self.queries.store)
        return controller_pb2.ListModelsResponse(
            models=[model_message(v, e, asks.get(v.version)) for v, e in self.queries.models()]
        )

    def ListCandidates(
        self, request: controller_pb2.ListCandidatesRequest, **_: Any
    ) -> controller_pb2.ListCandidatesResponse:
        rows = self.queries.candidates(request.run_id, request.round, request.kept, request.limit)
        return controller_pb2.ListCandidatesResponse(
            candidates=[
                controller_pb2.CandidateSummary(
                    id=c.id,
                    round=c.round,
                    db_id=c.db_id,
                    question=c.question,
                    sql=c.sql,
                    source=c.source,
                    kept=v.kept,
                    reasons=list(v.reasons),
                    hardness=v.hardness or c.hardness or "",
                    repaired_sql=c.repaired_sql or "",
                )
                for c, v in rows
            ]
        )
