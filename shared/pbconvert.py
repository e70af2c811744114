"""Conversions between Python values and the shared protobuf messages (common.proto)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from shared.pb import common_pb2
from shared.prompts import STOP_SEQUENCES
from shared.sampling import Sampling


def to_value(value: Any) -> common_pb2.Value:
    if value is None:
        return common_pb2.Value(null=True)
    if isinstance(value, bool):
        return common_pb2.Value(integer=int(value))
    if isinstance(value, int):
        return common_pb2.Value(integer=value)
    if isinstance(value, float):
        return common_pb2.Value(real=value)
    if isinstance(value, bytes):
        return common_pb2.Value(blob=value)
    return common_pb2.Value(text=str(value))


def from_value(value: common_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    return None if kind in (None, "null") else getattr(value, kind)


def to_result_set(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], truncated: bool = False
) -> common_pb2.ResultSet:
    return common_pb2.ResultSet(
        columns=list(columns),
        rows=[common_pb2.Row(values=[to_value(v) for v in row]) for row in rows],
        truncated=truncated,
    )


def from_result_set(result: common_pb2.ResultSet) -> list[tuple[Any, ...]]:
    return [tuple(from_value(v) for v in row.values) for row in result.rows]


def enum_number(enum: Any, text: str) -> int:
    """A lower- or upper-case word to its proto enum number by the enum's prefix:
    ('completed', RunState) -> RUN_STATE_COMPLETED; '' -> 0, the UNSPECIFIED member."""
    if not text:
        return 0
    prefix = enum.Name(0).removesuffix("UNSPECIFIED")
    try:
        return enum.Value(prefix + text.upper())
    except ValueError:
        raise ValueError(f"{text!r} is not one of {', '.join(enum_words(enum))}") from None


def enum_text(enum: Any, number: int, upper: bool = False) -> str:
    """The inverse of enum_number: RUN_STATE_COMPLETED -> 'completed' ('' for UNSPECIFIED)."""
    if not number:
        return ""
    word = enum.Name(number).removeprefix(enum.Name(0).removesuffix("UNSPECIFIED"))
    return word if upper else word.lower()


def enum_words(enum: Any) -> list[str]:
    return [enum_text(enum, number) for number in enum.values() if number]


def sampling_message(sampling: Sampling) -> common_pb2.SamplingParams:
    """The message for a Sampling; only stop sequences beyond the prompt's own travel."""
    return common_pb2.SamplingParams(
        temperature=sampling.temperature,
        top_p=sampling.top_p,
        max_new_tokens=sampling.max_new_tokens,
        seed=sampling.seed,
        stop=[s for s in sampling.stop if s not in STOP_SEQUENCES],
    )


def set_fields(message: Any, names: Sequence[str]) -> dict[str, Any]:
    """The named fields (proto3 `optional`, or messages) that the message carries: presence, not a
    zero, says whether a value was sent."""
    return {name: getattr(message, name) for name in names if message.HasField(name)}


def sampling_fields(message: common_pb2.SamplingParams) -> dict[str, Any]:
    """The run-level sampling fields a message carries, decided once for every reader (a run's
    settings, generation's requests): the temperature when it was sent (0 = greedy), top_p and
    max_new_tokens when nonzero (their zero means "the default"). The floats are read back as the
    decimals that were sent: the message holds 32 bits, so 0.7 arrives as 0.699999988."""
    values: dict[str, Any] = {"temperature": message.temperature} if message.HasField("temperature") else {}
    if message.top_p:
        values["top_p"] = message.top_p
    values = {name: float(f"{value:.7g}") for name, value in values.items()}  # float32's digits
    if message.max_new_tokens:
        values["max_new_tokens"] = message.max_new_tokens
    return values


def sampling_from_message(message: common_pb2.SamplingParams, default_temperature: float = 0.0) -> Sampling:
    """A request's sampling as sent (no temperature sent: default_temperature); the Generator checks
    and normalises it, once, for every caller."""
    return Sampling(
        **({"temperature": default_temperature} | sampling_fields(message)),
        seed=message.seed,
        stop=tuple(message.stop),
    )


def message_from(cls: Any, value: Any, **overrides: Any) -> Any:
    """A message of type cls from a dataclass: every field the two share by name, then overrides
    (fields whose value changes form on the way, such as an enum's number)."""
    names = cls.DESCRIPTOR.fields_by_name
    shared = {
        f.name: getattr(value, f.name) for f in fields(value) if f.name in names and f.name not in overrides
    }
    return cls(**shared, **overrides)


def dataclass_from(cls: Any, message: Any, **overrides: Any) -> Any:
    """A dataclass cls from a message: every field the two share by name, an unset (zero or empty)
    one taking cls's default, then overrides."""
    default = cls()
    names = message.DESCRIPTOR.fields_by_name
    values = {}
    for f in fields(cls):
        if f.name in overrides or f.name not in names:
            continue
        value = getattr(message, f.name)
        if names[f.name].is_repeated:
            value = list(value)
        values[f.name] = value or getattr(default, f.name)
    return cls(**values, **overrides)
