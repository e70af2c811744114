"""SQL utilities over sqlglot's AST: parsing, canonical forms, Spider hardness, DISTINCT removal.

Shared by the critic (verdicts, evaluation), generation (few-shot selection by hardness)
and the bundled-data checks, so all three agree on what "hard" and "the same query" mean.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import ParamSpec, TypeVar

import sqlglot
from sqlglot import exp
from sqlglot.dialects.sqlite import SQLite
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

DIALECT = "sqlite"
HARDNESS_LEVELS = ("easy", "medium", "hard", "extra")
DIFFICULTY_LEVELS = ("simple", "moderate", "challenging", "unknown")  # BIRD's own, per question
_AGGREGATES = (exp.Count, exp.Sum, exp.Avg, exp.Max, exp.Min)
_SET_OPS = (exp.Union, exp.Intersect, exp.Except)
_TOKENIZER = SQLite.tokenizer_class()
P = ParamSpec("P")
R = TypeVar("R")


class SqlParseError(ValueError):
    """The text is not one SQL statement sqlglot can parse."""


def parse(sql: str) -> exp.Expression:
    try:
        statements = [s for s in sqlglot.parse(sql, read=DIALECT) if s is not None]
    except (ParseError, TokenError) as exc:
        raise SqlParseError(str(exc).splitlines()[0] if str(exc) else "cannot parse SQL") from None
    except RecursionError:
        raise SqlParseError("SQL nests too deeply to parse") from None
    if len(statements) != 1:
        raise SqlParseError(f"expected one statement, found {len(statements)}")
    return statements[0]


def is_query(tree: exp.Expression) -> bool:
    return isinstance(tree, (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery, exp.Values))


def _too_deep(function: Callable[P, R]) -> Callable[P, R]:
    """Tree walks recurse: a query that parses yet nests past Python's stack (a 1,000-branch UNION)
    becomes SqlParseError, the one error callers already turn into a verdict."""

    @wraps(function)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except RecursionError:
            raise SqlParseError("SQL nests too deeply to analyse") from None

    return guarded


@_too_deep
def canonical(sql: str | exp.Expression, mask_literals: bool = True) -> str:
    """A normal form for de-duplication: lower-cased, formatted by sqlglot, literals masked.

    Two candidates with the same canonical form ask the same thing of the schema, up to values.
    """
    tree = parse(sql) if isinstance(sql, str) else sql.copy()

    def rewrite(node: exp.Expression) -> exp.Expression:
        if mask_literals and isinstance(node, exp.Literal):
            return exp.Placeholder()
        if isinstance(node, exp.Identifier):
            return exp.Identifier(this=node.name.lower(), quoted=False)
        return node

    return tree.transform(rewrite).sql(dialect=DIALECT, normalize=True, comments=False).lower()


def canonical_or_text(sql: str, mask_literals: bool = True) -> str:
    """A key that never raises: the canonical form, or - for SQL that defeats the analysis (which a
    model can write) - its text, whitespace-normalised and lower-cased."""
    try:
        return canonical(parse(sql), mask_literals=mask_literals)
    except Exception:  # noqa: BLE001 - model-written SQL may break any analysis
        return " ".join(sql.split()).lower()


@lru_cache(maxsize=65536)
def remove_distinct(sql: str) -> str:
    """The official evaluator's default: drop every DISTINCT token (so COUNT(DISTINCT x) -> COUNT(x)).

    Like the official code this works on tokens, not the tree, so nothing else in the text changes."""
    if "distinct" not in sql.lower():
        return sql
    try:
        tokens = _TOKENIZER.tokenize(sql)
    except (TokenError, ParseError):
        return sql
    out, position = [], 0
    for token in tokens:
        if token.token_type == TokenType.DISTINCT:
            out.append(sql[position : token.start])
            position = token.end + 1
    out.append(sql[position:])
    return "".join(out)


# --- Spider hardness -----------------------------------------------------------------------------
# Spider's evaluation.py counts components of its own parse; we compute the same counts from
# sqlglot's tree. Quirks of the original are kept on purpose so labels agree with it.


def _main_select(tree: exp.Expression) -> tuple[exp.Select | None, exp.Expression | None]:
    """The leftmost SELECT and the right operand of a top-level set operation (Spider's nesting)."""
    if isinstance(tree, exp.Subquery):
        return _main_select(tree.this)
    if isinstance(tree, _SET_OPS):
        left, _ = _main_select(tree.this)
        return left, tree.expression
    if isinstance(tree, exp.Select):
        return tree, None
    return None, None


def _conditions(node: exp.Expression | None) -> tuple[list[exp.Expression], list[str]]:
    """Flatten an AND/OR tree into condition units and the connectives between them."""
    if node is None:
        return [], []
    if isinstance(node, exp.Paren) and isinstance(node.this, (exp.And, exp.Or)):
        return _conditions(node.this)
    if isinstance(node, (exp.And, exp.Or)):
        left_units, left_ops = _conditions(node.this)
        right_units, right_ops = _conditions(node.expression)
        op = "and" if isinstance(node, exp.And) else "or"
        return left_units + right_units, left_ops + [op] + right_ops
    return [node], []


def _own(node: exp.Expression, kind: type | tuple[type, ...], root: exp.Select) -> list[exp.Expression]:
    """Nodes of a kind under node that belong to root's query level, not to a nested SELECT."""
    found = []
    for child in node.find_all(kind):
        parent = child.parent
        nested = False
        while parent is not None and parent is not root:
            if isinstance(parent, exp.Select) and parent is not node:
                nested = True
                break
            parent = parent.parent
        if not nested:
            found.append(child)
    return found


def _has_nested_query(unit: exp.Expression) -> bool:
    return any(True for _ in unit.find_all(exp.Select))


def _is_like(unit: exp.Expression) -> bool:
    inner = unit.this if isinstance(unit, exp.Not) else unit
    return isinstance(inner, (exp.Like, exp.ILike))


def _top_aggregate(node: exp.Expression) -> bool:
    inner = node.this if isinstance(node, exp.Alias) else node
    inner = inner.this if isinstance(inner, exp.Paren) else inner
    return isinstance(inner, _AGGREGATES)


@_too_deep
def ungrouped_order(tree: exp.Expression) -> str:
    """The first ORDER BY term of a grouped SELECT that is neither grouped, aggregated, selected nor a
    select alias or position, as text ("" when none): SQLite then orders each group by whichever
    of its rows it happens to pick, and standard SQL refuses the query. Such SQL can agree with
    other samples by chance, so it makes a poor label."""
    for select in tree.find_all(exp.Select):
        group, order = select.args.get("group"), select.args.get("order")
        if not group or not order:
            continue
        allowed = {e.sql().lower() for e in group.expressions}
        allowed |= {e.name.lower() for e in group.expressions if isinstance(e, exp.Column)}
        for e in select.expressions:
            allowed |= {e.alias.lower(), e.unalias().sql().lower()} - {""}
            if isinstance(e.unalias(), exp.Column):
                allowed.add(e.unalias().name.lower())
        for term in order.expressions:
            key = term.this
            if isinstance(key, exp.Literal) or key.find(exp.AggFunc) is not None:
                continue
            if key.sql().lower() in allowed or (isinstance(key, exp.Column) and key.name.lower() in allowed):
                continue
            return key.sql()
    return ""


@_too_deep
def order_key_probe(tree: exp.Expression) -> tuple[str, int]:
    """For a SELECT that sorts and then keeps the first rows (ORDER BY ... LIMIT): the same query
    without its LIMIT, its sort keys appended as the last columns, and how many keys ("", 0 for any
    other query). When every row has the same keys, which rows LIMIT keeps is arbitrary: "the
    airport with the most flights" written as GROUP BY a unique code ORDER BY count(*) picks any
    airport, and every sample picks the same one."""
    if not isinstance(tree, exp.Select) or tree.args.get("distinct"):
        return "", 0
    order, limit = tree.args.get("order"), tree.args.get("limit")
    if order is None or limit is None:
        return "", 0
    selected = [e.unalias() for e in tree.expressions]
    aliases = {e.alias.lower(): e.unalias() for e in tree.expressions if e.alias}
    keys = []
    for term in order.expressions:
        key = term.this
        if isinstance(key, exp.Literal) and key.is_int and 1 <= int(key.name) <= len(selected):
            key = selected[int(key.name) - 1]  # ORDER BY 2: the second selected expression
        elif isinstance(key, exp.Column) and not key.table and key.name.lower() in aliases:
            key = aliases[key.name.lower()]  # an alias: a select list cannot refer to its own
        keys.append(key.copy())
    probe = tree.copy()
    probe.set("limit", None)
    probe.set("offset", None)
    probe.set("expressions", [*probe.expressions, *keys])
    return probe.sql(dialect=DIALECT), len(keys)


@lru_cache(maxsize=65536)
def hardness_of(sql: str) -> str:
    """hardness() of SQL text, cached: gold queries are scored over and over. Unparseable -> extra."""
    try:
        return hardness(parse(sql))
    except SqlParseError:
        return "extra"


@_too_deep
def hardness(sql: str | exp.Expression) -> str:
    """Spider's difficulty bucket (easy / medium / hard / extra) for one SQL query."""
    tree = parse(sql) if isinstance(sql, str) else sql
    select, set_right = _main_select(tree)
    if select is None:
        return "extra"
    joins = select.args.get("joins") or []
    from_ = select.args.get("from_") or select.args.get("from")
    table_units = (1 if from_ is not None else 0) + len(joins)
    join_units, join_ops = [], []
    for join in joins:
        units, ops = _conditions(join.args.get("on"))
        if units and join_units:
            join_ops.append("and")
        join_units += units
        join_ops += ops
    where = select.args.get("where")
    having = select.args.get("having")
    where_units, where_ops = _conditions(where.this if where else None)
    having_units, having_ops = _conditions(having.this if having else None)
    group = select.args.get("group")
    group_exprs = group.expressions if group else []
    order = select.args.get("order")
    order_exprs = [o.this for o in order.expressions] if order else []

    # count_component1
    comp1 = sum(1 for present in (where_units, group_exprs, order_exprs) if present)
    comp1 += 1 if select.args.get("limit") is not None else 0
    comp1 += max(0, table_units - 1)
    comp1 += (join_ops + where_ops + having_ops).count("or")
    comp1 += sum(1 for u in join_units + where_units + having_units if _is_like(u))

    # count_component2: nested queries in conditions, plus one for a set operation
    comp2 = sum(1 for u in join_units + where_units + having_units if _has_nested_query(u))
    comp2 += 1 if set_right is not None else 0

    # count_others (with the original's quirks: a NOT counts as an aggregate in WHERE/HAVING,
    # and so does every AND/OR connective in HAVING)
    agg = sum(1 for e in select.expressions if _top_aggregate(e))
    agg += sum(1 for u in where_units if isinstance(u, exp.Not))
    agg += sum(1 for e in group_exprs if _top_aggregate(e))
    agg += sum(len(_own(e, _AGGREGATES, select)) for e in order_exprs)
    agg += sum(1 for u in having_units if isinstance(u, exp.Not)) + len(having_ops)
    others = 1 if agg > 1 else 0
    others += 1 if len(select.expressions) > 1 else 0
    others += 1 if len(where_units) > 1 else 0
    others += 1 if len(group_exprs) > 1 else 0

    if comp1 <= 1 and others == 0 and comp2 == 0:
        return "easy"
    if (others <= 2 and comp1 <= 1 and comp2 == 0) or (comp1 <= 2 and others < 2 and comp2 == 0):
        return "medium"
    if (
        (others > 2 and comp1 <= 2 and comp2 == 0)
        or (2 < comp1 <= 3 and others <= 2 and comp2 == 0)
        or (comp1 <= 1 and others == 0 and comp2 <= 1)
    ):
        return "hard"
    return "extra"
