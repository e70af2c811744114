"""JUDGE: every stored candidate without a verdict goes to the critic in chunks; verdicts are stored
keyed by candidate, so a resumed step judges only what is left."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from sqlalchemy import select

from services.controller.enums import Mode, Step
from services.controller.faults import crash_point
from services.controller.label_review import review_labels
from services.controller.settings import RunSettings
from services.controller.steps.base import StepBase, StepResult
from services.controller.steps.writer import RoundWriter, base_reviewer, label_reviewer
from shared.event_kinds import EventKind
from shared.pb import common_pb2, critic_pb2
from shared.store import Candidate, Run, Verdict

JUDGE_CHUNK = 128  # candidates per JudgeCandidates call


class Judge(StepBase):
    def run(self, run: Run, settings: RunSettings, number: int) -> StepResult:
        # Candidates without gold are kept by vote: the question's samples (unlabelled) or the
        # pair's re-answers (self-instruct) must agree by a majority with them.
        options = critic_pb2.JudgeOptions(
            test_suite=settings.test_suite,
            vote_without_gold=bool(settings.consistency_samples) or settings.mode == Mode.UNLABELLED,
            majority_share=settings.majority_share,
            majority_min_votes=settings.majority_min_votes,
            dedupe=False,
        )
        while True:
            self.check_stop()
            with self.ctx.store.session() as s:
                pending = s.scalars(
                    select(Candidate)
                    .outerjoin(Verdict, Verdict.candidate_id == Candidate.id)
                    .where(
                        Candidate.run_id == run.id, Candidate.round == number, Verdict.candidate_id.is_(None)
                    )
                    .order_by(Candidate.id)
                    .limit(JUDGE_CHUNK)
                ).all()
            if not pending:
                break
            verdicts = self.critic.judge(
                [
                    common_pb2.Candidate(
                        id=c.id,
                        db_id=c.db_id,
                        question=c.question,
                        sql=c.sql,
                        gold_sql=c.gold_sql or "",
                        source=c.source,
                        hardness=c.hardness or "",
                        resampled_sql=list(c.resampled_sql),
                    )
                    for c in pending
                ],
                options,
                timeout=settings.judge_timeout_seconds,
            )
            with self.ctx.store.session() as s:
                self.ctx.store.insert_ignore(
                    s,
                    Verdict,
                    [
                        {
                            "candidate_id": v.candidate_id,
                            "kept": v.kept,
                            "reasons": list(v.reasons),
                            "status": critic_pb2.ExecutionStatus.Name(v.status).removeprefix(
                                "EXECUTION_STATUS_"
                            ),
                            "canonical_sql": v.canonical_sql or None,
                            "hardness": v.hardness or None,
                            "execution_match": v.execution_match if v.has_gold else None,
                            "test_suite_match": v.test_suite_match
                            if v.has_gold and settings.test_suite
                            else None,
                            "consistency": v.consistency if not v.has_gold else None,
                        }
                        for v in verdicts
                    ],
                )
            crash_point("JUDGE:mid")
        figures: dict[str, float] = {}
        if settings.label_review and settings.mode == Mode.UNLABELLED:
            figures |= self._review_labels(run, settings, number)
        with self.ctx.store.session() as s:
            rows = s.execute(
                select(Verdict.kept, Candidate.source, Candidate.db_id, Candidate.question)
                .join(Candidate, Candidate.id == Verdict.candidate_id)
                .where(Candidate.run_id == run.id, Candidate.round == number)
            ).all()
        figures |= {"judged": len(rows), "kept": sum(1 for r in rows if r.kept)}
        asked = {(r.db_id, r.question) for r in rows if r.source == "unlabelled"}
        if asked:  # questions without a majority come back next round
            labelled = {(r.db_id, r.question) for r in rows if r.source == "unlabelled" and r.kept}
            figures |= {"questions": len(asked), "labelled_questions": len(labelled)}
        return Step.TRAIN, figures

    def _review_labels(self, run: Run, settings: RunSettings, number: int) -> dict[str, int]:
        """The round's writer (as GENERATE loaded it), or the base (label_reviewer), reviews the round's
        majority labels (label_review.py)."""
        info = self.generation.describe()
        if not info.reviews:  # e.g. an OpenAI-compatible server: its completions give no input scores
            self.event(
                run.id,
                number,
                Step.JUDGE,
                EventKind.SKIPPED,
                f"label_review needs a generation backend that scores text (transformers or tgi; this "
                f"one is {info.backend}): this round's labels are not reviewed",
            )
            return {}
        base = base_reviewer(self, run.id, settings)

        @cache  # loaded at the first label to review: a round (or a resumed step) with none loads nothing
        def chosen() -> RoundWriter:
            return label_reviewer(self, run.id, settings, base)

        def reviewer(db_id: str, question: str, sqls: Sequence[str]) -> list[float] | None:
            # None (e.g. SQL past the context window): the label stands
            # expect: scores from another model (the slot reloaded meanwhile) would decide nothing
            who = chosen()
            return self.generation.review_or_none(
                db_id, question, sqls, shots=who.shots, slot=who.slot, expect=who.model.version
            )

        figures = review_labels(
            self.ctx.store, run.id, number, reviewer, settings.label_review_margin, self.check_stop
        )
        return figures | {"label_base_reviewer": int(base is not None)}
