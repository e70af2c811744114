"""The hostile SQL corpus (testbed/data/hostile_sql.yaml) as (name, sql, allowed statuses) triples, for
the sandbox tests, the critic service tests and `benchmarks/bench_hostile.py` alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

CORPUS = Path(__file__).with_name("data") / "hostile_sql.yaml"


def _expand(parts: list[Any]) -> str:
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif "repeat" in part:
            out.append(part.get("sep", "").join([part["repeat"]] * part["times"]))
        else:
            out.append(part.get("sep", "").join(part["format"].format(i=i) for i in range(part["range"])))
    return "".join(out)


def load_hostile() -> list[tuple[str, str, set[str]]]:
    entries = yaml.safe_load(CORPUS.read_text())
    return [
        (e["name"], _expand(e["parts"]) if "parts" in e else e["sql"], set(e["allowed"])) for e in entries
    ]


HOSTILE = load_hostile()


def sendable(corpus: list[tuple[str, str, set[str]]] = HOSTILE) -> list[tuple[str, str]]:
    """The entries a protobuf string field can carry (no lone surrogates)."""
    return [(n, s) for n, s, _ in corpus if not any(0xD800 <= ord(ch) <= 0xDFFF for ch in s)]
