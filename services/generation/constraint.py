"""What a prompt's completions are held to, as backends receive it (services/generation/sql_grammar.py
writes the GBNF text, sql_grammar_lark.py the Lark text)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from services.generation.sql_grammar import sql_grammar
from services.generation.sql_grammar_lark import sql_grammar_lark
from shared.schema import DatabaseSchema

if TYPE_CHECKING:
    from services.generation.backends import Backend, Sampling


@dataclass(frozen=True)
class Constraint:
    """What a prompt's completions are held to: a database's grammar at one strength, for one
    completion layout. Each backend renders it in the form its engine takes."""

    schema: DatabaseSchema
    mode: str
    task: str = "sql"

    def gbnf(self) -> str:
        return sql_grammar(self.schema, self.mode, self.task)

    def lark(self) -> str:
        return sql_grammar_lark(self.schema, self.mode, self.task)


def constraint_for(schema: DatabaseSchema, mode: str, task: str) -> Constraint | None:
    """A database's constraint at this strength; none when constraining is off."""
    return None if mode == "off" else Constraint(schema, mode, task)


def generate(
    backend: Backend, prompts: list[str], n: int, sampling: Sampling, constraint: Constraint | None
) -> list[list[str]]:
    """backend.generate over prompts of one database, each held to `constraint` when there is one (a
    backend without grammars takes three arguments)."""
    if constraint is None:
        return backend.generate(prompts, n, sampling)
    return backend.generate(prompts, n, sampling, [constraint] * len(prompts))
