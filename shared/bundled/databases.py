"""The bundled databases, read from their data files (data/databases/<db_id>.yaml, in the order of
data/databases/index.yaml) into the table generator's Tables: each column's `gen` names one of
tables.py's generators, or a derivation (derivations.py) for values computed from the row."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from shared.bundled.derivations import DERIVATIONS
from shared.bundled.tables import WORDS, Column, Gen, Table, choice, date, integer, maybe, person, real, words

FOLDER = Path(__file__).with_name("data") / "databases"
SEED_BASE = 1000  # a database's seed is SEED_BASE + its place in index.yaml


def database_ids() -> list[str]:
    return list(yaml.safe_load((FOLDER / "index.yaml").read_text()))


def _word_list(ref: Any) -> list[Any]:
    """An inline list, or the name of a words.json list."""
    return WORDS[ref] if isinstance(ref, str) else list(ref)


def _sequence(name: str) -> Callable[[int], Gen]:
    """Rows taken in turn from a words.json table (one record per row): field 0 moves to the next
    record, the other fields read the current one."""
    records: Iterator[list[Any]] = iter(WORDS[name])
    current: list[Any] = []

    def field(index: int) -> Gen:
        def gen(_rng: Any, _row: dict[str, Any]) -> Any:
            if index == 0:
                current[:] = next(records)
            return current[index]

        return gen

    return field


def _generator(spec: Any, sequences: dict[str, Callable[[int], Gen]]) -> Gen:
    if spec == "person":
        return person
    (kind,) = [k for k in spec if k in _KINDS]
    value = spec[kind]
    if kind == "choice":
        values = _word_list(value)[: spec.get("first")]
        return choice(values, spec.get("weights"))
    if kind == "maybe":
        return maybe(_generator(value, sequences), spec["null_share"])
    if kind == "words":
        return words(*(_word_list(ref) for ref in value))
    if kind == "derived":
        return DERIVATIONS[value]
    if kind == "sequence":
        if value not in sequences:
            sequences[value] = _sequence(value)
        return sequences[value](spec["field"])
    return {"integer": integer, "real": real, "date": date}[kind](*value)


_KINDS = ("choice", "maybe", "words", "derived", "sequence", "integer", "real", "date")


def load_tables(db_id: str) -> list[Table]:
    """Fresh Tables (no rows yet) for one database, parents first."""
    spec = yaml.safe_load((FOLDER / f"{db_id}.yaml").read_text())
    sequences: dict[str, Callable[[int], Gen]] = {}  # per build: a sequence restarts with its table
    tables = []
    for table in spec["tables"]:
        columns = [
            Column(
                c["name"],
                c["type"],
                _generator(c["gen"], sequences) if "gen" in c else None,
                primary_key=c.get("primary_key", False),
                references=tuple(c["references"]) if "references" in c else None,
                not_null=c.get("not_null", False),
            )
            for c in table["columns"]
        ]
        rows = table["rows"]
        tables.append(
            Table(
                table["name"],
                len(WORDS[rows]) if isinstance(rows, str) else rows,  # a name: one row per record
                columns,
                composite_key=tuple(table.get("composite_key", ())),
                unique=tuple(table.get("unique", ())),
            )
        )
    return tables
