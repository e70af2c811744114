"""Self-instruct batches for GeneratePairs: which level and focus tables each row asks for, the shots
each batch shows, and the sampling of batch after batch. Validation, parsing and counting stay with
the Generator (logic.py); this module only decides what is asked."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from services.generation.backends import Backend, Sampling
from services.generation.constraint import Constraint, generate
from shared.catalogue import Catalogue, Example
from shared.errors import InvalidArgument
from shared.fewshot import select_examples, shots_for
from shared.limits import MAX_FOCUS_TABLES, MAX_FOCUSES
from shared.prompts import HARDNESS_DESCRIPTIONS, pair_prompt
from shared.schema import DatabaseSchema

ATTEMPTS_PER_PAIR = 3  # a call gives up after this many completions per pair asked


def check_levels(hardness: str, row_levels: Sequence[str]) -> None:
    for level in [hardness, *row_levels]:
        if level and level not in HARDNESS_DESCRIPTIONS:
            raise InvalidArgument(
                f"hardness must be one of {', '.join(HARDNESS_DESCRIPTIONS)} or empty, got {level!r}"
            )
    if len(row_levels) > MAX_FOCUSES:
        raise InvalidArgument(f"at most {MAX_FOCUSES} row levels per call, got {len(row_levels)}")


def checked_focuses(schema: DatabaseSchema, focuses: Sequence[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Focus tables as the schema spells them; a name the database lacks is the caller's error."""
    if len(focuses) > MAX_FOCUSES:
        raise InvalidArgument(f"at most {MAX_FOCUSES} focuses per call, got {len(focuses)}")
    out = []
    for focus in focuses:
        if not focus or len(focus) > MAX_FOCUS_TABLES:
            raise InvalidArgument(f"a focus names 1 to {MAX_FOCUS_TABLES} tables, got {len(focus)}")
        try:
            out.append(tuple(schema.table(name).name for name in focus))
        except KeyError as exc:
            raise InvalidArgument(
                f"focus names table {exc.args[0]!r}, not in database {schema.db_id!r}"
            ) from None
    return out


@dataclass(frozen=True)
class PairPlan:
    """What one GeneratePairs call asks, row by row. Planned rows (focuses and/or row levels, each
    taken in turn) have a prompt each - its tables, its level - after the same shots, so the backend
    prefills the shared part once and decodes all rows together; otherwise one level per batch and
    one prompt sampled for every row."""

    catalogue: Catalogue
    seed_pool: Sequence[Example]
    db_id: str
    schema_text: str
    k: int
    hardness: str = ""
    focuses: Sequence[tuple[str, ...]] = ()
    row_levels: Sequence[str] = ()

    @property
    def planned(self) -> bool:
        return bool(self.focuses or self.row_levels)

    @property
    def levels(self) -> list[str]:
        return [self.hardness] if self.hardness else list(HARDNESS_DESCRIPTIONS)

    def row(self, index: int) -> tuple[str, tuple[str, ...]]:
        levels = self.row_levels or self.levels
        level = levels[index % len(levels)]
        return level or "medium", self.focuses[index % len(self.focuses)] if self.focuses else ()

    def shots(self, batch_index: int, level: str, seed: int) -> list:
        # Planned batches share their shots across levels (a shared prefix); plain batches take
        # shots near their level. Either way they change from batch to batch (diversity).
        wanted = "" if self.planned else level
        return shots_for(
            self.catalogue,
            select_examples(
                self.seed_pool, self.db_id, self.k, wanted, seed=seed, key=f"{self.db_id}:{batch_index}"
            ),
        )

    def first_prompt(self, seed: int) -> str:
        """The first batch's prompt (what the context-window check measures)."""
        level, focus = self.row(0) if self.planned else (self.levels[0], ())
        return pair_prompt(self.db_id, self.schema_text, level, self.shots(0, level, seed), focus)


def pair_batches(
    backend: Backend,
    plan: PairPlan,
    n: int,
    sampling: Sampling,
    batch_size: int,
    constraint: Constraint | None,
) -> Iterator[list[tuple[str, str]]]:
    """(completion, level) for each row, a batch at a time, until n pairs' worth of attempts; the
    caller stops early once it has its n pairs. The first batch is no larger than needed, so the
    first pair streams out early; each batch samples with its own seed."""
    budget = ATTEMPTS_PER_PAIR * n
    attempt, batch_index = 0, 0
    while attempt < budget:
        size = min(batch_size, budget - attempt, n if batch_index == 0 else batch_size)
        batch_sampling = replace(sampling, seed=sampling.seed + attempt)
        if plan.planned:
            rows = [plan.row(attempt + i) for i in range(size)]
            shots = plan.shots(batch_index, "", sampling.seed)
            prompts = [pair_prompt(plan.db_id, plan.schema_text, lv, shots, focus) for lv, focus in rows]
            completions = [c for (c,) in generate(backend, prompts, 1, batch_sampling, constraint)]
            levels = [lv for lv, _ in rows]
        else:
            level = plan.levels[batch_index % len(plan.levels)]
            prompt = pair_prompt(
                plan.db_id, plan.schema_text, level, plan.shots(batch_index, level, sampling.seed)
            )
            (completions,) = generate(backend, [prompt], size, batch_sampling, constraint)
            levels = [level] * size
        attempt += size
        batch_index += 1
        yield list(zip(completions, levels, strict=True))
