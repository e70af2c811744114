"""A small declarative generator for realistic, seeded tables with keys.

Each column has a type and a value generator; primary keys are serial (or drawn uniquely),
foreign keys draw from the parent's keys, composite keys are drawn without repeats.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Gen = Callable[[random.Random, dict[str, Any]], Any]

# Word lists are data: shared/bundled/data/words.json.
WORDS = json.loads((Path(__file__).with_name("data") / "words.json").read_text())
FIRST: list[str] = WORDS["first_names"]
LAST: list[str] = WORDS["last_names"]
CITIES: list[str] = WORDS["cities"]
COUNTRIES: list[str] = WORDS["countries"]


def person(rng: random.Random, _row: dict[str, Any]) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def choice(values: Sequence[Any], weights: Sequence[float] | None = None) -> Gen:
    return lambda rng, _row: rng.choices(values, weights=weights)[0]


def integer(low: int, high: int) -> Gen:
    return lambda rng, _row: rng.randint(low, high)


def real(low: float, high: float, digits: int = 2) -> Gen:
    return lambda rng, _row: round(rng.uniform(low, high), digits)


def date(start_year: int, end_year: int) -> Gen:
    return lambda rng, _row: (
        f"{rng.randint(start_year, end_year)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    )


def words(first: Sequence[str], second: Sequence[str]) -> Gen:
    return lambda rng, _row: f"{rng.choice(first)} {rng.choice(second)}"


def maybe(gen: Gen, null_share: float) -> Gen:
    return lambda rng, row: None if rng.random() < null_share else gen(rng, row)


def derived(func: Callable[[random.Random, dict[str, Any]], Any]) -> Gen:
    """A value computed from the columns generated before it in the same row."""
    return func


@dataclass
class Column:
    name: str
    type: str
    gen: Gen | None = None
    primary_key: bool = False
    references: tuple[str, str] | None = None  # (table, column)
    not_null: bool = False


@dataclass
class Table:
    name: str
    rows: int
    columns: list[Column]
    composite_key: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()
    data: list[dict[str, Any]] = field(default_factory=list)

    def ddl(self) -> str:
        lines = []
        for c in self.columns:
            line = f"  {c.name} {c.type}"
            if c.primary_key:
                line += " PRIMARY KEY"
            if c.not_null:
                line += " NOT NULL"
            if c.name in self.unique:
                line += " UNIQUE"
            if c.references:
                line += f" REFERENCES {c.references[0]}({c.references[1]})"
            lines.append(line)
        if self.composite_key:
            lines.append(f"  PRIMARY KEY ({', '.join(self.composite_key)})")
        return f"CREATE TABLE {self.name} (\n" + ",\n".join(lines) + "\n);"


def generate(tables: list[Table], rng: random.Random) -> None:
    """Fill tables in order (parents first) with rows that respect every key."""
    by_name = {t.name: t for t in tables}
    for table in tables:
        seen_keys: set[tuple[Any, ...]] = set()
        seen_unique: dict[str, set[Any]] = {u: set() for u in table.unique}
        attempts = 0
        while len(table.data) < table.rows and attempts < table.rows * 50:
            attempts += 1
            row: dict[str, Any] = {}
            for column in table.columns:
                if column.primary_key and column.gen is None:
                    row[column.name] = len(table.data) + 1
                elif column.references and column.gen is None:
                    parent = by_name[column.references[0]]
                    row[column.name] = rng.choice(parent.data)[column.references[1]]
                else:
                    row[column.name] = column.gen(rng, row) if column.gen else None
            if table.composite_key:
                key = tuple(row[c] for c in table.composite_key)
                if key in seen_keys:
                    continue
                seen_keys.add(key)
            if any(row[u] in seen_unique[u] for u in table.unique):
                continue
            for u in table.unique:
                seen_unique[u].add(row[u])
            table.data.append(row)
