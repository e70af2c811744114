"""Mutated neighbours of a gold query (Zhong et al. 2020): near-misses a good test suite must catch.

Each mutation changes one thing in sqlglot's AST: drop a predicate, flip a comparison, swap an
aggregate, reverse an ORDER BY, swap a column for another of its table, or shift a LIMIT /
numeric literal by one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlglot import exp

from shared.schema import DatabaseSchema
from shared.sql import DIALECT, SqlParseError, parse

_FLIPS: dict[type, type] = {
    exp.GT: exp.GTE,
    exp.GTE: exp.GT,
    exp.LT: exp.LTE,
    exp.LTE: exp.LT,
    exp.EQ: exp.NEQ,
    exp.NEQ: exp.EQ,
}
_AGG_SWAPS: dict[type, type] = {exp.Max: exp.Min, exp.Min: exp.Max, exp.Sum: exp.Avg, exp.Avg: exp.Sum}


def _nodes(tree: exp.Expression, kind: type | tuple[type, ...]) -> list[exp.Expression]:
    return list(tree.find_all(kind))


def _mutate_each(
    tree: exp.Expression, kind, change: Callable[[exp.Expression], exp.Expression | None]
) -> Iterator[str]:
    """For every node of a kind, yield the SQL with that one node changed."""
    for index in range(len(_nodes(tree, kind))):
        copy = tree.copy()
        node = _nodes(copy, kind)[index]
        replacement = change(node)
        if replacement is None:
            continue
        if replacement is not node:
            node.replace(replacement)
        yield copy.sql(dialect=DIALECT)


def _drop_predicate(node: exp.Expression) -> exp.Expression:
    return node.this  # keep the left side of an AND


def _drop_predicate_right(node: exp.Expression) -> exp.Expression:
    return node.expression


def _flip(node: exp.Expression) -> exp.Expression:
    return _FLIPS[type(node)](this=node.this.copy(), expression=node.expression.copy())


def _swap_aggregate(node: exp.Expression) -> exp.Expression:
    return _AGG_SWAPS[type(node)](this=node.this.copy())


def _reverse_order(node: exp.Expression) -> exp.Expression:
    desc = not node.args.get("desc")
    node.set("desc", desc)
    node.set("nulls_first", not desc)  # SQLite's own NULL placement, so no NULLS clause is printed
    return node


def _shift_number(node: exp.Expression) -> exp.Expression | None:
    if not node.is_number:
        return None
    try:
        value = int(node.this)
    except ValueError:
        return None
    return exp.Literal.number(value + 1)


def neighbours(gold_sql: str, schema: DatabaseSchema | None = None, limit: int = 40) -> list[str]:
    """Distinct one-edit mutations of gold_sql (never gold itself), at most `limit` of them."""
    try:
        tree = parse(gold_sql)
    except SqlParseError:
        return []
    found: list[str] = []
    original = tree.sql(dialect=DIALECT)
    generators = [
        _mutate_each(tree, exp.And, _drop_predicate),
        _mutate_each(tree, exp.And, _drop_predicate_right),
        _mutate_each(tree, tuple(_FLIPS), _flip),
        _mutate_each(tree, tuple(_AGG_SWAPS), _swap_aggregate),
        _mutate_each(tree, exp.Ordered, _reverse_order),
        _mutate_each(tree, exp.Literal, _shift_number),
    ]
    if schema is not None:
        generators.append(_swap_columns(tree, schema))
    for generator in generators:
        for sql in generator:
            if sql != original and sql not in found:
                found.append(sql)
            if len(found) >= limit:
                return found
    return found


def _swap_columns(tree: exp.Expression, schema: DatabaseSchema) -> Iterator[str]:
    """Replace one column reference by another column of the same type from the table it reads."""
    tables = {t.name.lower(): t for t in schema.tables}
    for index in range(len(_nodes(tree, exp.Column))):
        copy = tree.copy()
        column = _nodes(copy, exp.Column)[index]
        table = _owning_table(column, tables)
        if table is None:
            continue
        own = next((c for c in table.columns if c.name.lower() == column.name.lower()), None)
        alternatives = [
            c.name for c in table.columns if c is not own and own and c.type.upper() == own.type.upper()
        ]
        if not alternatives:
            continue
        column.set("this", exp.to_identifier(alternatives[0]))
        yield copy.sql(dialect=DIALECT)


def _owning_table(column: exp.Column, tables: dict) -> object | None:
    """The schema table a column reference reads: by its qualifier (alias or name), else the first
    table of its SELECT that has such a column."""
    select = column.find_ancestor(exp.Select)
    if select is None:
        return None
    aliases = {}
    for table in select.find_all(exp.Table):
        if table.find_ancestor(exp.Select) is not select:
            continue
        name = table.name.lower()
        aliases[(table.alias or table.name).lower()] = name
        aliases[name] = name
    if column.table:
        return tables.get(aliases.get(column.table.lower(), ""))
    for name in dict.fromkeys(aliases.values()):
        table = tables.get(name)
        if table and any(c.name.lower() == column.name.lower() for c in table.columns):
            return table
    return None
