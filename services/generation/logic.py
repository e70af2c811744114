"""The generation service's logic, free of gRPC: prompts from schemas and few-shot pools, sampling
through a backend, parsing the output into candidates (dropped outputs are counted with a reason)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from prometheus_client import Counter as PromCounter

from services.generation.backends import Backend, ModelInfo, ModelSpec, Sampling
from services.generation.constraint import constraint_for, generate
from services.generation.pairs import PairPlan, check_levels, checked_focuses, pair_batches
from services.generation.parsing import parse_pair_completion, parse_sql_completion
from services.generation.requests import (
    Pair,
    QuestionIn,
    SqlResult,
    check_constrain,
    check_n,
    check_review,
    checked_sampling,
    repair_of,
    resolve_example_sets,
    resolve_k,
)
from services.generation.slots import SERVING, ModelSlots
from shared import defaults
from shared.catalogue import Catalogue, Example
from shared.config import GenerationConfig
from shared.confine import Roots
from shared.errors import FailedPrecondition, InvalidArgument, NotFound
from shared.fewshot import question_prompt, question_review_prompt
from shared.limits import MAX_QUESTIONS
from shared.limits import MAX_SAMPLES as MAX_N
from shared.prompts import review_completion, review_context, schema_for_prompt

log = logging.getLogger("sqldistill.generation")

DROPPED = PromCounter(
    "sqldistill_generation_dropped_total", "Model outputs with no usable candidate, by reason.", ["reason"]
)
GENERATED = PromCounter("sqldistill_generation_candidates_total", "Candidates produced, by task.", ["task"])


def _shares(n: int, parts: int) -> list[int]:
    """n samples over `parts` prompts, as evenly as it goes, the first ones taking the remainder."""
    return [n // parts + (1 if j < n % parts else 0) for j in range(parts)]


def _reason_label(reason: str) -> str:
    return reason.split(":")[0][:60]


class Generator:
    """Writes candidates with the serving model, or with the model of the work slot: a candidate under
    evaluation or a run's teacher, loaded beside the serving one so that what serves never changes
    except by a rollout."""

    def __init__(
        self,
        catalogue: Catalogue,
        backend: Backend,
        seed_pool: Sequence[Example] = (),
        default_k: int = defaults.FEW_SHOT_K,
        pair_batch_size: int = GenerationConfig().pair_batch_size,
        work_backend: Callable[[ModelSpec], Backend] | None = None,
        roots: Roots | None = None,
        constrain: str = defaults.CONSTRAIN,
        schema_budget: int = defaults.SCHEMA_TOKEN_BUDGET,
    ) -> None:
        self.catalogue = catalogue
        self.schema_budget = schema_budget  # a question's prompt shows its tables past this (schema_pruning)
        self.constrain = check_constrain(constrain)  # a request that leaves constrain unset gets this
        self._unsupported_warned: set[str] = set()
        self.models = ModelSlots(backend, work_backend, roots)
        self.seed_pool = list(seed_pool)
        self.default_k = default_k
        self.pair_batch_size = pair_batch_size
        self.dropped: Counter[str] = Counter()

    # --- validation -----------------------------------------------------------------------------
    def _schema_text(self, db_id: str) -> str:
        if not db_id:
            raise InvalidArgument("db_id is required")
        if not self.catalogue.has(db_id):
            raise NotFound(f"unknown database {db_id!r}")
        schema = self.catalogue.schema(db_id)
        if not schema.tables:
            raise InvalidArgument(f"database {db_id!r} has an empty schema")
        return schema_for_prompt(schema)

    def _check_context(self, backend: Backend, prompt: str, sampling: Sampling) -> None:
        window = backend.info().context_window
        if window:
            tokens = backend.count_tokens(prompt)
            if tokens + sampling.max_new_tokens > window:
                raise InvalidArgument(
                    f"prompt is {tokens} tokens + {sampling.max_new_tokens} new tokens, over the model's "
                    f"context window of {window}; use fewer few-shot examples (or example sets)"
                )

    def applied_constrain(self, backend: Backend, requested: str | None) -> str:
        """The strength a request gets: its own or the service's, or off (with one warning) on a
        backend that cannot hold output to a grammar."""
        mode = self.constrain if requested is None else check_constrain(requested)
        supported = getattr(backend, "constrain_modes", ("off",))
        if mode in supported:
            return mode
        name = backend.info().backend
        if name not in self._unsupported_warned:
            self._unsupported_warned.add(name)
            log.warning("the %s backend cannot constrain SQL to a grammar; generating unconstrained", name)
        return "off"

    # --- self-instruct --------------------------------------------------------------------------
    def generate_pairs(
        self,
        db_id: str,
        n: int,
        hardness: str = "",
        few_shot_k: int | None = None,
        sampling: Sampling = Sampling(temperature=defaults.PAIR_TEMPERATURE),  # as a request without sampling
        slot: str = SERVING,
        focuses: Sequence[tuple[str, ...]] = (),
        row_levels: Sequence[str] = (),
        constrain: str | None = None,
    ) -> Iterator[Pair]:
        """Stream up to n new (question, SQL) pairs, batch by batch (pairs.py decides what each row
        asks); gives up after 3n attempts."""
        backend = self.models.get(slot)
        schema_text = self._schema_text(db_id)
        check_n(n)
        check_levels(hardness, row_levels)
        plan = PairPlan(
            self.catalogue,
            self.seed_pool,
            db_id,
            schema_text,
            resolve_k(self.default_k, few_shot_k),
            hardness,
            checked_focuses(self.catalogue.schema(db_id), focuses),
            tuple(row_levels),
        )
        sampling = checked_sampling(sampling)
        mode = self.applied_constrain(backend, constrain)
        self._check_context(backend, plan.first_prompt(sampling.seed), sampling)
        constraint = constraint_for(self.catalogue.schema(db_id), mode, "pair")
        produced = 0
        version = backend.info().version
        for batch in pair_batches(backend, plan, n, sampling, self.pair_batch_size, constraint):
            for completion, level in batch:
                parsed = parse_pair_completion(completion)
                if not parsed.ok:
                    self._drop(parsed.reason)
                    continue
                GENERATED.labels("pairs").inc()
                produced += 1
                yield Pair(db_id, parsed.question, parsed.sql, level, version, mode)
                if produced >= n:
                    return

    # --- labelled -------------------------------------------------------------------------------
    def generate_sql(
        self,
        questions: Sequence[QuestionIn],
        n: int,
        few_shot_k: int | None = None,
        sampling: Sampling = Sampling(),
        slot: str = SERVING,
        constrain: str | None = None,
        example_sets: int | None = None,
    ) -> tuple[list[SqlResult], str]:
        """n SQL candidates per question (duplicates kept: they are samples), and the version that
        wrote them. Each result says the grammar strength applied. With `example_sets` > 1 a
        question's samples are spread over that many sets of few-shot examples (n split as evenly
        as it goes, set 0 first): samples that all see the same two examples share their habits,
        which a vote over them cannot see."""
        backend = self.models.get(slot)
        mode = self.applied_constrain(backend, constrain)
        version = backend.info().version
        if not questions:
            raise InvalidArgument("questions is empty")
        if len(questions) > MAX_QUESTIONS:
            raise InvalidArgument(f"at most {MAX_QUESTIONS} questions per call, got {len(questions)}")
        check_n(n)  # shared/limits.MAX_SAMPLES: what StartRun allows a run
        sampling = checked_sampling(sampling)
        k = resolve_k(self.default_k, few_shot_k)
        sets = resolve_example_sets(example_sets)
        # Each question's distinct prompts with their share of n: without examples, or with a pool
        # too small for another set, the sets' prompts are one prompt and it takes all n.
        asks: list[list[tuple[str, int]]] = []
        for q in questions:
            if not q.question.strip():
                raise InvalidArgument(f"question {q.id or '?'} is empty")
            self._schema_text(q.db_id)  # validates the database
            prompts = dict.fromkeys(
                question_prompt(
                    self.catalogue,
                    self.seed_pool,
                    q.db_id,
                    q.question,
                    k,
                    q.evidence,
                    repair_of(q),
                    schema_budget=self.schema_budget,
                    example_set=j,
                )
                for j in range(sets)
            )
            asks.append([(p, c) for p, c in zip(prompts, _shares(n, len(prompts)), strict=True) if c])
        for prompt in {p for ask in asks for p, _ in ask}:
            self._check_context(backend, prompt, sampling)
        completions: list[list[str]] = [[] for _ in questions]
        # One generate call per database, example set and sample count: the prompts of a call share
        # their examples and schema (the prefix the backend prefills once).
        calls: dict[tuple[str, int, int], list[int]] = {}
        for index, (q, ask) in enumerate(zip(questions, asks, strict=True)):
            for j, (_prompt, count) in enumerate(ask):
                calls.setdefault((q.db_id, j, count), []).append(index)
        for (db_id, j, count), indices in calls.items():
            constraint = constraint_for(self.catalogue.schema(db_id), mode, "sql")
            # Set 0 takes the call's own seed; another set's seeds start past every per-sample
            # seed a call may use (TGI and llama.cpp seed sample i of prompt p with seed + p*n + i).
            drawn = replace(sampling, seed=sampling.seed + j * MAX_QUESTIONS * MAX_N)
            for index, outputs in zip(
                indices,
                generate(backend, [asks[i][j][0] for i in indices], count, drawn, constraint),
                strict=True,
            ):
                completions[index] += outputs
        results = []
        for q, outputs in zip(questions, completions, strict=True):
            result = SqlResult(q.id, constrain=mode)
            for completion in outputs:
                parsed = parse_sql_completion(completion)
                if parsed.ok:
                    result.sql.append(parsed.sql)
                    GENERATED.labels("sql").inc()
                else:
                    result.dropped.append(parsed.reason)
                    self._drop(parsed.reason)
            results.append(result)
        return results, version

    def review(
        self,
        db_id: str,
        question: str,
        sqls: Sequence[str],
        few_shot_k: int | None = None,
        slot: str = SERVING,
    ) -> tuple[list[float], str]:
        """(log p(question | SQL) for each SQL, the reviewing version): how well each SQL explains
        the question it was written for, on the examples and schema its SQL prompt shows
        (prompts.REVIEW_TEMPLATE)."""
        self._schema_text(db_id)  # the database must exist and have a schema
        check_review(question, list(sqls))
        k = resolve_k(self.default_k, few_shot_k)
        backend = self.models.get(slot)
        score = getattr(backend, "score", None)
        if score is None:
            raise FailedPrecondition(
                "reviewing SQL needs a backend that scores text: generation.backend transformers or "
                f"tgi (this one is {backend.info().backend})"
            )
        prompt = question_review_prompt(
            self.catalogue, self.seed_pool, db_id, question, k, schema_budget=self.schema_budget
        )
        longest = max(sqls, key=len)
        window = backend.info().context_window
        if (
            window
            and backend.count_tokens(prompt + review_context(longest) + review_completion(question)) > window
        ):
            raise InvalidArgument(
                f"the review of the longest SQL is over the model's context window of {window}"
            )
        contexts = [review_context(sql) for sql in sqls]
        return score(prompt, [review_completion(question)] * len(sqls), contexts), backend.info().version

    def _drop(self, reason: str) -> None:
        self.dropped[_reason_label(reason)] += 1
        DROPPED.labels(_reason_label(reason)).inc()

    # --- model --------------------------------------------------------------------------------
    def load_model(self, spec: ModelSpec, slot: str = SERVING) -> ModelInfo:
        return self.models.load(spec, slot)

    def describe(self, slot: str = SERVING) -> ModelInfo:
        return self.models.describe(slot)
