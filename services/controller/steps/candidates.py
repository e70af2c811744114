"""GENERATE's building blocks: candidate rows for the store, the check that the expected model
wrote them, and self-instruct pairs for one database - planned over its tables and join paths,
near-duplicates dropped, every question re-answered, and each distinct SQL among a question's
samples made a candidate for the critic's vote - and the repairs of a round's failing SQL, written
again with the database's error (shared/repairing.py), each a candidate linked to what it repairs."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from services.controller import coverage
from services.controller.settings import RunSettings
from services.controller.steps.base import StepBase
from services.controller.versions import ServedModel, key_hash
from shared.answering import QuestionIn
from shared.repairing import Repaired, repair
from shared.sql import HARDNESS_LEVELS
from shared.store import Candidate


class CandidateWriter(StepBase):
    def _candidate_row(
        self,
        run_id: str,
        number: int,
        source: str,
        db_id: str,
        question: str,
        sql: str,
        gold: str = "",
        hardness: str = "",
        version: str = "",
        resampled: list[str] | None = None,
        constrain: str = "",
        repaired: str = "",
    ) -> dict[str, Any]:
        key = key_hash(source, db_id, question, sql)
        return {
            "id": key_hash(run_id, number, key)[:32],
            "run_id": run_id,
            "round": number,
            "key": key,
            "db_id": db_id,
            "question": question,
            "sql": sql,
            "gold_sql": gold or None,
            "source": source,
            "hardness": hardness or None,
            "model_version": version,
            "resampled_sql": resampled or [],
            "constrain": constrain or None,
            "repaired_sql": repaired or None,
        }

    def _repairs(
        self,
        questions: list[QuestionIn],
        written: list[list[str]],
        settings: RunSettings,
        writer: ServedModel,
        shots: int,
        slot: int,
    ) -> list[list[Repaired]]:
        """Each question's repairs of its failing SQL (none when the run's repair_attempts is 0),
        written greedily by the same writer, slot and grammar as the SQL they repair."""
        if not settings.repair_attempts or not questions:
            return [[] for _ in questions]
        write = self.generation.writer(
            shots=shots, slot=slot, constrain=settings.constrain, expect=writer.version
        )
        return repair(
            questions, written, write, self.critic.voter(), settings.greedy(), settings.repair_attempts
        )

    @staticmethod
    def _ballots(samples: list[str], repairs: list[Repaired] = ()) -> list[tuple[str, list[str], str]]:
        """Each distinct SQL among one question's samples and their repairs, with the others as its
        votes (a repeated SQL votes for itself) and, for SQL only a repair wrote, the failing SQL it
        repairs (else ""): how a question without gold becomes candidates."""
        pool = samples + [r.sql for r in repairs]
        links: dict[str, str] = {}
        for r in repairs:
            if r.sql not in samples:
                links.setdefault(r.sql, r.failed_sql)
        out = []
        for sql in dict.fromkeys(pool):
            others = list(pool)
            others.remove(sql)
            out.append((sql, others, links.get(sql, "")))
        return out

    def _hardness_buckets(self, settings: RunSettings, n: int) -> list[tuple[str, int]]:
        mix = {k: v for k, v in settings.complexity_mix.items() if k in HARDNESS_LEVELS and v > 0} or {
            k: 1.0 for k in HARDNESS_LEVELS
        }
        total = sum(mix.values())
        counts = {k: int(n * v / total) for k, v in mix.items()}
        for k in sorted(mix, key=lambda k: -mix[k])[: n - sum(counts.values())]:
            counts[k] += 1
        return [(k, c) for k, c in counts.items() if c > 0]

    def _self_instruct(
        self,
        run_id: str,
        number: int,
        settings: RunSettings,
        db_id: str,
        seed: int,
        writer: ServedModel,
        shots: int,
        slot: int,
    ) -> tuple[list[dict[str, Any]], dict[str, float]]:
        """Pairs over the database's tables and join paths; near-duplicates dropped; then every
        question is re-answered consistency_samples times and all its samples vote."""
        clock = time.monotonic()
        plan = coverage.focuses(self.ctx.catalogue.schema(db_id))
        # One call for the database: its rows take the hardness mix and the focuses in turn, so a
        # batch mixes levels and tables and decodes them together.
        levels = coverage.interleave(self._hardness_buckets(settings, settings.candidates_per_db))
        pairs = self.generation.generate_pairs(
            db_id,
            settings.candidates_per_db,
            settings.sampling(seed),
            shots=settings.few_shot_k,
            levels=levels,
            focus=coverage.rotate(plan, (number - 1) * settings.candidates_per_db),
            slot=slot,
            constrain=settings.constrain,
            expect=writer.version,
        )
        figures = {"pairs": len(pairs), "pair_seconds": time.monotonic() - clock}
        fresh = coverage.drop_near_duplicates(pairs, self._earlier_pairs(run_id, number, db_id))
        figures["near_duplicates"] = len(pairs) - len(fresh)
        clock = time.monotonic()
        resampled: dict[str, list[str]] = {}
        if fresh and settings.consistency_samples:
            # Every question is re-answered, its own SQL's run or not: a pair whose SQL fails (most
            # of a small model's pairs on a real schema) still asked a question, which the
            # re-answers may agree on.
            reply = self.generation.generate_sql(
                [QuestionIn(str(i), db_id, p.question) for i, p in enumerate(fresh)],
                settings.consistency_samples,
                settings.sampling(seed + 99),
                shots=shots,
                slot=slot,
                constrain=settings.constrain,
                expect=writer.version,
                example_sets=settings.example_sets,
            )
            resampled = {str(i): sql for i, sql in enumerate(reply.sql)}
        figures["reanswer_seconds"] = time.monotonic() - clock
        clock = time.monotonic()
        written = [[p.sql, *resampled.get(str(i), [])] for i, p in enumerate(fresh)]
        repairs = self._repairs(
            [QuestionIn(str(i), db_id, p.question) for i, p in enumerate(fresh)],
            written,
            settings,
            writer,
            shots,
            slot,
        )
        figures["repairs"] = sum(len(r) for r in repairs)
        figures["repair_seconds"] = time.monotonic() - clock
        rows = []
        for i, p in enumerate(fresh):
            # The question is an unlabelled one whose first vote is the pair's SQL: each distinct
            # SQL among its samples (and their repairs) is a candidate, voting with the others; the
            # critic keeps the winning group's (labelled mode's rule: up to max_sql_per_question train).
            for sql, others, repaired in self._ballots(written[i], repairs[i]):
                rows.append(
                    self._candidate_row(
                        run_id,
                        number,
                        "self_instruct",
                        db_id,
                        p.question,
                        sql,
                        hardness=p.hardness if sql == p.sql else "",
                        version=p.model_version,
                        resampled=others,
                        constrain=p.constrain,
                        repaired=repaired,
                    )
                )
        return rows, figures

    def _earlier_pairs(self, run_id: str, number: int, db_id: str) -> list[tuple[str, str]]:
        with self.ctx.store.session() as s:
            return [
                (q, sql)
                for q, sql in s.execute(
                    select(Candidate.question, Candidate.sql).where(
                        Candidate.run_id == run_id,
                        Candidate.round < number,
                        Candidate.db_id == db_id,
                        Candidate.source == "self_instruct",
                    )
                ).all()
            ]
