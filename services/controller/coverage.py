"""Where self-instruct asks for pairs: every table of a database and every foreign-key join path,
across the hardness mix, so a round's pairs cover the schema instead of repeating its easiest
corner; and which generated pairs are new enough to be worth re-answering. Pure functions, so the
plan is testable on its own."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.controller.training_set import normalise_question
from shared.schema import DatabaseSchema
from shared.sql import canonical_or_text

PLANNED_FOCUSES = (
    64  # per database, within limits.MAX_FOCUSES: wide schemas get their tables and first join paths
)


def focuses(schema: DatabaseSchema) -> list[tuple[str, ...]]:
    """Each table with rows, alone; then each foreign-key edge between two such tables (a join
    path), each once. Tables without rows are left out: no question about them has an answer."""
    tables = [t.name for t in schema.tables if t.row_count > 0]
    known = {name.lower(): name for name in tables}
    out: list[tuple[str, ...]] = [(name,) for name in tables]
    seen: set[frozenset[str]] = set()
    for table in schema.tables:
        for fk in table.foreign_keys:
            ref = known.get(fk.ref_table.lower())
            if table.name not in tables or ref is None or ref == table.name:
                continue
            edge = frozenset((table.name, ref))
            if edge not in seen:
                seen.add(edge)
                out.append((table.name, ref))
    return out[:PLANNED_FOCUSES]


def rotate(items: list[tuple[str, ...]], offset: int) -> list[tuple[str, ...]]:
    """The focuses starting at `offset` (mod their number): each round and level starts elsewhere,
    so rounds smaller than the schema still cover all of it over time."""
    if not items:
        return []
    start = offset % len(items)
    return items[start:] + items[:start]


def interleave(buckets: list[tuple[str, int]]) -> list[str]:
    """[(level, count)] as one row list taking the levels in turn (easy, medium, hard, extra, easy,
    ...), so any prefix of the rows - a short batch, a stream cut early - keeps the mix."""
    remaining = dict(buckets)
    out: list[str] = []
    while any(remaining.values()):
        for level, _count in buckets:
            if remaining[level]:
                out.append(level)
                remaining[level] -= 1
    return out


def drop_near_duplicates(pairs: list[Any], earlier: Iterable[tuple[str, str]] = ()) -> list[Any]:
    """Pairs whose question (normalised) or SQL (canonical, literals kept) is not already among
    the earlier ones or an earlier pair of this list: re-answering a duplicate buys nothing."""
    seen_questions: set[str] = set()
    seen_sql: set[str] = set()

    def keys(question: str, sql: str) -> tuple[str, str]:
        return normalise_question(question), canonical_or_text(sql, mask_literals=False)

    for question, sql in earlier:
        q, form = keys(question, sql)
        seen_questions.add(q)
        seen_sql.add(form)
    out = []
    for pair in pairs:
        q, form = keys(pair.question, pair.sql)
        if q in seen_questions or form in seen_sql:
            continue
        seen_questions.add(q)
        seen_sql.add(form)
        out.append(pair)
    return out
