"""Source column types to SQLite: which SQLite type a snapshot declares, how each value converts,
and what is approximated - the table lives in type_map.yaml, beside this file."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

import yaml

TYPE_MAP = Path(__file__).with_name("type_map.yaml")


@dataclass(frozen=True)
class Mapped:
    sqlite: str  # the declared SQLite type
    convert: Callable[[Any], Any]
    note: str  # what is approximated ("" when nothing)


def _timestamp(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    return _text(value)


def _text(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _json(value: Any) -> Any:
    return value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)


def _real(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal | int | float) else _text(value)


def _integer(value: Any) -> Any:
    """SQLite's integers are 64-bit: one past them (MySQL's BIGINT UNSIGNED, DECIMAL(30,0)) is
    kept as its digits, not an OverflowError that fails the snapshot."""
    number = int(value)
    return number if -(2**63) <= number < 2**63 else str(number)


def _whole(value: Any) -> Any:
    """A DECIMAL(p,0) column's value: an integer when it is whole - a SQLite source does not hold
    a column to its declared type, so 9.99 stays a real and 'n/a' text rather than be cut or fail."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return _text(value)
    if number.is_finite() and number == number.to_integral_value():
        return _integer(number)
    return _real(value)


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "boolean": lambda v: int(bool(v)),
    "integer": _integer,
    "wide_integer": _integer,
    "real": _real,
    "json": _json,
    "timestamp": _timestamp,
    "date": lambda v: v.isoformat() if isinstance(v, date) else _text(v),
    "time": lambda v: v.isoformat() if isinstance(v, time) else _text(v),
    "binary": lambda v: bytes(v) if isinstance(v, bytes | bytearray | memoryview) else _text(v).encode(),
    "text": _text,
}


@cache
def _rules() -> list[tuple[frozenset[str], str, str, str]]:
    rules = []
    for entry in yaml.safe_load(TYPE_MAP.read_text()):
        if entry["value"] not in CONVERTERS:
            raise ValueError(f"{TYPE_MAP}: unknown value conversion {entry['value']!r}")
        rules.append((frozenset(entry["match"]), entry["sqlite"], entry["value"], entry["note"]))
    return rules


def type_names(source_type: Any) -> tuple[set[str], bool]:
    """The names a type matches the table by, and whether it is a timestamp with a time zone: a
    reflected SQLAlchemy type's class names, or a type as the engine writes it ('DECIMAL(10,2)',
    'INTEGER[]', 'TIMESTAMP WITH TIME ZONE' - DuckDB's catalogue)."""
    if isinstance(source_type, str):
        text = source_type.strip().upper()
        if text.endswith("]"):
            return {"ARRAY"}, False
        zoned = "WITH TIME ZONE" in text or text == "TIMESTAMPTZ"
        base = text.split("(", 1)[0].replace(" WITH TIME ZONE", "").strip()
        return ({"TIMESTAMP"} if zoned else {base, base.split(" ", 1)[0]}), zoned
    return {cls.__name__ for cls in type(source_type).__mro__}, bool(getattr(source_type, "timezone", False))


WHOLE_DECIMAL = re.compile(r"\s*(DECIMAL|NUMERIC)\s*\(\s*\d+\s*(,\s*0\s*)?\)\s*", re.IGNORECASE)


def _whole_decimal(source_type: Any, names: set[str]) -> bool:
    """DECIMAL(p, 0) or NUMERIC(p): whole numbers - ids often, past a double's 15 digits too - kept
    as integers, not rounded into doubles that collide (and lose rows to the key)."""
    if isinstance(source_type, str):
        return bool(WHOLE_DECIMAL.fullmatch(source_type))
    return "Numeric" in names and "Float" not in names and getattr(source_type, "scale", None) == 0


def map_type(source_type: Any) -> Mapped:
    """The SQLite form of a source column's type (a reflected SQLAlchemy type, or its name)."""
    names, zoned = type_names(source_type)
    if _whole_decimal(source_type, names):
        return Mapped("INTEGER", _nullable(_whole), "")
    for match, sqlite, value, note in _rules():
        if names & match:
            if value == "timestamp" and zoned:
                note = "timestamp with time zone, converted to UTC"
            return Mapped(sqlite, _nullable(CONVERTERS[value]), note)
    return Mapped("TEXT", _nullable(_text), f"unmapped type {source_type!s}: its text form")


def _nullable(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else convert(value)


def comparable(value: Any) -> Any:
    """A source's value as its snapshot would hold it (type-blind): for comparing the rows an answer
    gets on the source with those it gets in the sandbox."""
    if value is None or isinstance(value, int | float | str | bytes):
        return int(value) if isinstance(value, bool) else value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return _timestamp(value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, dict | list):
        return _json(value)
    return _text(value)


def comparable_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row compared across engines: values as a snapshot holds them, floats to 9 significant
    digits (a numeric average on PostgreSQL and a double on SQLite agree to that)."""
    return tuple(float(f"{v:.9g}") if isinstance(v, float) else v for v in map(comparable, row))
