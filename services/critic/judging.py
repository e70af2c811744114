"""Judging candidates: static checks (parse, one SELECT, canonical form, hardness), execution, then
gold (EX, test suite) or, without gold, the vote of the question's samples; every failure is a
reason in the verdict, never an error."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from services.critic.execution import Executor
from services.critic.matching import order_matters, results_match
from services.critic.sandbox import EXHAUSTED, Outcome
from shared import defaults
from shared.limits import MAX_SQL_CHARS, check_majority
from shared.sql import SqlParseError, canonical, hardness, is_query, order_key_probe, parse, ungrouped_order


@dataclass(frozen=True)
class CandidateIn:
    id: str
    db_id: str
    question: str
    sql: str
    gold_sql: str = ""
    resampled_sql: tuple[str, ...] = ()


CHUNK = 64  # candidates analysed in process before their queries run as one batch over the workers


@dataclass(frozen=True)
class JudgeSettings:
    test_suite: bool = False
    vote_without_gold: bool = False  # keep a candidate without gold by its samples' vote
    majority_share: float = defaults.MAJORITY_SHARE  # keep when its group holds more than this share
    majority_min_votes: int = defaults.MAJORITY_MIN_VOTES  # ... and at least this many samples
    dedupe: bool = True


@dataclass
class VerdictOut:
    candidate_id: str
    kept: bool = False
    reasons: list[str] = field(default_factory=list)
    parses: bool = False
    executes: bool = False
    status: str = ""
    error: str = ""
    canonical_sql: str = ""
    hardness: str = ""
    has_gold: bool = False
    execution_match: bool = False
    test_suite_match: bool = False
    consistency: float = 0.0
    result_rows: int = 0


class Judge:
    """Verdicts for candidates, over an Executor's workers and caches."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor

    # --- judge -------------------------------------------------------------------------------
    def judge(
        self, candidates: Iterable[CandidateIn], settings: JudgeSettings = JudgeSettings(), chunk: int = CHUNK
    ) -> Iterator[VerdictOut]:
        """Verdicts in input order, streamed a chunk at a time.

        Each chunk is analysed in this process (parse, canonical form, hardness), then its queries
        run in batches spread over the sandbox workers, so IPC is paid per batch, not per query."""
        candidates = list(candidates)
        for c in candidates:
            self.executor.db_path(c.db_id)  # unknown databases fail the whole request up front
        check_majority(settings.majority_share, settings.majority_min_votes)
        seen: set[tuple[str, str]] = set()
        for start in range(0, len(candidates), chunk):
            for verdict in self._judge_chunk(candidates[start : start + chunk], settings):
                yield self._dedupe(verdict, seen, settings)

    def _dedupe(self, verdict: VerdictOut, seen: set[tuple[str, str]], settings: JudgeSettings) -> VerdictOut:
        if settings.dedupe and verdict.kept and verdict.canonical_sql:
            key = (verdict.hardness, verdict.canonical_sql)
            if key in seen:
                verdict.kept = False
                verdict.reasons.append("duplicate: same canonical SQL as an earlier kept candidate")
            seen.add(key)
        return verdict

    def _analyse(self, c: CandidateIn) -> tuple[VerdictOut, exp.Expression | None]:
        """Static checks in this process; a candidate that defeats them gets a reason, never an error."""
        v = VerdictOut(candidate_id=c.id, has_gold=bool(c.gold_sql))
        if len(c.sql) > MAX_SQL_CHARS:
            v.status = EXHAUSTED
            v.reasons.append(f"query is {len(c.sql)} characters; the limit is {MAX_SQL_CHARS}")
            return v, None
        try:
            tree = parse(c.sql)
            v.parses = True
            if not is_query(tree):
                v.reasons.append("not a single SELECT query")
                return v, None
            v.canonical_sql = canonical(tree)
            v.hardness = hardness(tree)
            return v, tree
        except SqlParseError as exc:
            v.reasons.append(f"{'cannot analyse' if v.parses else 'does not parse'}: {exc}")
        except Exception as exc:  # noqa: BLE001 - model-written SQL may break any analysis
            v.reasons.append(f"cannot analyse: {type(exc).__name__}")
        return v, None

    def _judge_chunk(self, chunk: Sequence[CandidateIn], settings: JudgeSettings) -> list[VerdictOut]:
        analysed = [self._analyse(c) for c in chunk]
        verdicts, trees = [v for v, _ in analysed], [tree for _, tree in analysed]
        runnable = [i for i, tree in enumerate(trees) if tree is not None]
        paths = {c.db_id: str(self.executor.db_path(c.db_id)) for c in chunk}
        outcomes = dict(
            zip(
                runnable,
                self.executor.batch([(paths[chunk[i].db_id], chunk[i].sql) for i in runnable]),
                strict=True,
            )
        )
        gold_keys = {
            i: (paths[chunk[i].db_id], self.executor.for_match(chunk[i].gold_sql))
            for i in runnable
            if chunk[i].gold_sql
        }
        golds = self.executor.gold_outcomes(gold_keys.values())
        for i in runnable:
            c, v, outcome = chunk[i], verdicts[i], outcomes[i]
            v.status, v.error = outcome.status, outcome.error
            if not outcome.ok:
                v.reasons.append(f"does not execute ({outcome.status}): {outcome.error}")
                continue
            v.executes = True
            v.result_rows = len(outcome.rows)
            try:
                self._check_result(
                    c, v, trees[i], outcome, golds.get(gold_keys.get(i)), paths[c.db_id], settings
                )
            except Exception as exc:  # noqa: BLE001 - one candidate's failure is its own verdict
                v.reasons.append(f"cannot check the result: {type(exc).__name__}")
        for v in verdicts:
            v.kept = not v.reasons
        return verdicts

    def _check_result(
        self,
        c: CandidateIn,
        v: VerdictOut,
        tree: exp.Expression,
        outcome: Outcome,
        gold: Outcome | None,
        path: str,
        settings: JudgeSettings,
    ) -> None:
        """Degenerate results, then gold (EX, TS) or round-trip consistency; failures become reasons."""
        degenerate = self._degenerate(tree, outcome, c.question)
        if degenerate:
            v.reasons.append(degenerate)
            return
        arbitrary = ungrouped_order(tree)
        if arbitrary:
            v.reasons.append(
                f"orders groups by {arbitrary}, neither grouped nor aggregated: an arbitrary row's value"
            )
            return
        if gold is not None:
            v.execution_match, error = self._match(gold, outcome, c, path)
            if not v.execution_match:
                v.reasons.append("result differs from gold" + (f" ({error})" if error else ""))
            elif settings.test_suite:
                v.test_suite_match = self.executor.test_suite_match(c.db_id, c.gold_sql, c.sql)
                if not v.test_suite_match:
                    v.reasons.append("differs from gold on a test-suite database")
        elif settings.vote_without_gold:
            # No gold: the candidate is one vote among its question's samples (re-answers, or the
            # other samples of a question-only run) and is kept when it is in the majority group.
            # A LIMIT that picks among rows sorting alike would win its vote by being deterministic.
            if self._arbitrary_limit(tree, path):
                v.reasons.append("orders by a value every row shares: which rows LIMIT keeps is arbitrary")
                return
            votes = sorted([c.sql, *c.resampled_sql])
            result = self.executor.vote(c.db_id, votes, test_suite=settings.test_suite)
            v.consistency = result.agreement
            if result.group_of(votes.index(c.sql)) != result.winner:
                v.reasons.append(
                    f"not in the majority: {len(result.winning)} of {result.executable} executable samples "
                    "agree on another result"
                )
            elif not result.decided(settings.majority_share, settings.majority_min_votes):
                v.reasons.append(
                    f"agreement {len(result.winning)} of {result.executable} samples: not above "
                    f"{settings.majority_share:.2f} with at least {settings.majority_min_votes}"
                )

    def _arbitrary_limit(self, tree: exp.Expression, path: str) -> bool:
        """ORDER BY ... LIMIT over rows whose sort keys are all equal (shared.sql.order_key_probe);
        unknown (a probe that fails or is cut at the row cap) counts as not arbitrary."""
        probe, keys = order_key_probe(tree)
        if not probe:
            return False
        outcome = self.executor.pool.execute(path, probe, self.executor.limits)
        if not outcome.ok or outcome.truncated or len(outcome.rows) < 2:
            return False
        return len({tuple(row[-keys:]) for row in outcome.rows}) == 1

    def _match(self, gold: Outcome, pred: Outcome, c: CandidateIn, path: str) -> tuple[bool, str]:
        """EX from already-run results; the prediction is re-run only if DISTINCT removal changed it."""
        if not gold.ok:
            return False, f"gold query failed: {gold.error}"
        matched_sql = self.executor.for_match(c.sql)
        if matched_sql != c.sql:
            pred = self.executor.pool.execute(path, matched_sql, self.executor.limits)
            if not pred.ok:
                return False, f"{pred.status}: {pred.error}"
        return results_match(gold.rows, pred.rows, order_matters(c.gold_sql)), ""

    def _degenerate(self, tree: exp.Expression, outcome: Outcome, question: str) -> str:
        if outcome.truncated:
            return f"result exceeds {self.executor.limits.max_rows} rows"
        if not outcome.rows:
            return "empty result"
        if all(value is None for row in outcome.rows for value in row):
            return "result is all NULL"
        if (
            isinstance(tree, exp.Select)
            and any(isinstance(e, exp.Star) for e in tree.expressions)
            and not any(tree.args.get(k) for k in ("where", "group", "having", "limit", "joins"))
            and not any(word in question.lower().split() for word in ("all", "every", "everything"))
        ):
            return "returns a whole table the question did not ask for"
        return ""
