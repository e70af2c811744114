"""The grammar of sql_grammar.py in llguidance's Lark form, for the in-process engine: the same
statement shapes and the same names, at the same strengths (`identifiers`, `full`)."""

from __future__ import annotations

from functools import lru_cache

from services.generation.sql_grammar import _BARE, FUNCTIONS, KEYWORDS, TYPE_NAMES, sql_grammar
from shared.prompts import SQL_MARK
from shared.schema import DatabaseSchema

# --- the same grammar in llguidance's Lark form (the in-process engine) -----------------------------
# Whitespace is %ignore'd between lexemes, and the lexer lets two lexemes touch. So an alias declared
# without AS is a letter and digits (T1, as Spider writes them): "movies" is never the table "movie"
# with an alias "s" (any other alias takes AS). Two real names glued into one ("name"+"id") pass.


def _rx(text: str) -> str:
    """A Rust-regex literal for text: word characters as they are, anything else as \\x{..}."""
    return "".join(c if c.isalnum() or c == "_" else f"\\x{{{ord(c):x}}}" for c in text)


def _lark_name_forms(name: str) -> str:
    """One case-insensitive regex matching every way a name may be written."""
    inner = _rx(name)
    forms = [inner] if _BARE.match(name) else []
    forms += [f"\\x{{22}}{inner}\\x{{22}}", f"`{inner}`", f"\\[{inner}\\]"]
    return "/(?i:" + "|".join(forms) + ")/"


def _lark_words(words: list[str]) -> str:
    return "/(?i:" + "|".join(_rx(w) for w in words) + ")/"


_LARK_COMMON = r"""
%ignore /[ \t\n]+/
TAIL: /(?s:.*)/
NUMBER: /[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?|\.[0-9]+/
STRING: /'([^']|'')*'/
DQ_STRING: /"[^"\n]*"/
FREE_IDENT: /[A-Za-z_][A-Za-z0-9_]*/
ALIAS_REF: /[A-Za-z][0-9]*/
NUMBERED_ALIAS: /[A-Za-z][0-9]+/
"""

_LARK_FULL = """
query: one_table | select_any (compound select_any)+ order_by? limit? | select_core order_by? limit?
select_any: select_core | one_table_core
compound: KW_UNION KW_ALL? | KW_INTERSECT | KW_EXCEPT
select_core: KW_SELECT (KW_DISTINCT | KW_ALL)? result_list (KW_FROM from_clause)? (KW_WHERE expr)? (KW_GROUP KW_BY expr_list (KW_HAVING expr)?)?
result_list: result_col ("," result_col)*
result_col: "*" | expr (KW_AS (FREE_IDENT | STRING | DQ_STRING))?
from_clause: source (join_op source join_constraint?)+ | "(" query ")" (KW_AS FREE_IDENT | NUMBERED_ALIAS)?
source: (TABLE_NAME | "(" query ")") (KW_AS FREE_IDENT | NUMBERED_ALIAS)?
join_op: "," | KW_NATURAL? ((KW_LEFT KW_OUTER? | KW_INNER | KW_CROSS))? KW_JOIN
join_constraint: KW_ON expr | KW_USING "(" COLUMN_NAME ("," COLUMN_NAME)* ")"
expr_list: expr ("," expr)*
expr: unary (binop unary)*
binop: SYM_OP | KW_AND | KW_OR | KW_NOT? (KW_LIKE | KW_GLOB | KW_IN | KW_BETWEEN) | KW_IS KW_NOT?
SYM_OP: /==|!=|<>|<=|>=|=|<|>|\\+|-|\\*|\\/|%|\\|\\|/
unary: (KW_NOT | "-" | "+")* primary (KW_COLLATE KW_NOCASE | KW_ISNULL | KW_NOTNULL | KW_NOT KW_NULL)?
primary: NUMBER | STRING | DQ_STRING | KW_NULL | KW_TRUE | KW_FALSE | KW_CURRENT_DATE | KW_CURRENT_TIMESTAMP | column_ref | call | "(" (query | expr_list) ")" | case_expr | cast_expr | KW_EXISTS "(" query ")"
column_ref: COLUMN_NAME | qualified
call: FN_NAME "(" ("*" | KW_DISTINCT? expr_list)? ")"
case_expr: KW_CASE expr? (KW_WHEN expr KW_THEN expr)+ (KW_ELSE expr)? KW_END
cast_expr: KW_CAST "(" expr KW_AS TYPE_NAME ("(" NUMBER ("," NUMBER)? ")")? ")"
order_by: KW_ORDER KW_BY order_term ("," order_term)*
order_term: expr (KW_ASC | KW_DESC)? (KW_NULLS (KW_FIRST | KW_LAST))?
limit: KW_LIMIT expr (("," | KW_OFFSET) expr)?
"""

# `full`: a SELECT over one table names bare columns of that table only (most of a small model's
# "no such column" answers name a column of another table of the same database). The parser keeps
# one alternative per table alive until FROM settles which: "SELECT plays FROM" then allows only
# the tables that have `plays`. Qualified names (T1.x, movie.x) keep the general rule: a correlated
# subquery may name the outer query's columns.
_LARK_ONE_TABLE = """
one_table_{i}: one_table_core_{i} order_by_{i}? limit?
one_table_core_{i}: KW_SELECT (KW_DISTINCT | KW_ALL)? result_col_{i} ("," result_col_{i})* KW_FROM TABLE_{i} (KW_AS FREE_IDENT | NUMBERED_ALIAS)? (KW_WHERE expr_{i})? (KW_GROUP KW_BY expr_list_{i} (KW_HAVING expr_{i})?)?
result_col_{i}: "*" | expr_{i} (KW_AS (FREE_IDENT | STRING | DQ_STRING))?
expr_list_{i}: expr_{i} ("," expr_{i})*
expr_{i}: unary_{i} (binop unary_{i})*
unary_{i}: (KW_NOT | "-" | "+")* primary_{i} (KW_COLLATE KW_NOCASE | KW_ISNULL | KW_NOTNULL | KW_NOT KW_NULL)?
primary_{i}: NUMBER | STRING | DQ_STRING | KW_NULL | KW_TRUE | KW_FALSE | KW_CURRENT_DATE | KW_CURRENT_TIMESTAMP | COLS_{i} | qualified | FN_NAME "(" ("*" | KW_DISTINCT? expr_list_{i})? ")" | "(" (query | expr_list_{i}) ")" | KW_CASE expr_{i}? (KW_WHEN expr_{i} KW_THEN expr_{i})+ (KW_ELSE expr_{i})? KW_END | KW_CAST "(" expr_{i} KW_AS TYPE_NAME ("(" NUMBER ("," NUMBER)? ")")? ")" | KW_EXISTS "(" query ")"
order_by_{i}: KW_ORDER KW_BY order_term_{i} ("," order_term_{i})*
order_term_{i}: expr_{i} (KW_ASC | KW_DESC)? (KW_NULLS (KW_FIRST | KW_LAST))?
"""


def _lark_one_table_rules(schema: DatabaseSchema) -> list[str]:
    indices = range(len(schema.tables))
    rules = [_LARK_ONE_TABLE.replace("{i}", str(i)).strip() for i in indices]
    rules.append("one_table: " + " | ".join(f"one_table_{i}" for i in indices))
    rules.append("one_table_core: " + " | ".join(f"one_table_core_{i}" for i in indices))
    return rules


_LARK_IDENTIFIERS = """
query: (KW_SELECT | KW_WITH) item*
item: WORD | QUALIFIED | NUMBER | KW_AS FREE_IDENT | NUMBERED_ALIAS | PUNCT | STRING | DQ_STRING
PUNCT: /==|!=|<>|<=|>=|=|<|>|\\+|-|\\*|\\/|%|\\|\\||\\(|\\)|,/
"""


def _lark_vocabulary(schema: DatabaseSchema, mode: str) -> list[str]:
    tables = list(schema.tables)
    if mode == "identifiers":
        return _lark_identifier_words(schema)
    lines = [f"TABLE_NAME: {_lark_name_forms_all([t.name for t in tables])}"]
    columns = list({c.name.lower(): c.name for t in tables for c in t.columns}.values())
    lines.append(f"COLUMN_NAME: {_lark_name_forms_all(columns)}")
    qualified = []
    for index, table in enumerate(tables):
        names = list({c.name.lower(): c.name for c in table.columns}.values())
        lines.append(f"TABLE_{index}: {_lark_name_forms(table.name)}")
        lines.append(f"COLS_{index}: {_lark_name_forms_all(names)}")
        qualified.append(f'TABLE_{index} "." (COLS_{index} | "*")')
    qualified.append('ALIAS_REF "." (COLUMN_NAME | "*")')
    lines.append("qualified: " + " | ".join(qualified))
    lines.append(f"FN_NAME: {_lark_words(FUNCTIONS)}")
    lines.append(f"TYPE_NAME: {_lark_words(TYPE_NAMES)}")
    for keyword in KEYWORDS:
        lines.append(f"KW_{keyword}: {_lark_words([keyword])}")
    return lines


def _lark_identifier_words(schema: DatabaseSchema) -> list[str]:
    """`identifiers`: every word in one lexeme (keywords but AS, functions, tables, columns), and
    every qualified name in another, so that the lexer never weighs overlapping words."""
    tables = [t.name for t in schema.tables]
    columns = list({c.name.lower(): c.name for t in schema.tables for c in t.columns}.values())
    words = [k for k in KEYWORDS if k != "AS"] + FUNCTIONS
    names = _lark_name_forms_all(tables + columns)[len("/(?i:") : -len(")/")]
    word = "/(?i:" + "|".join([_rx(w) for w in words] + [names]) + ")/"
    tables_rx = _lark_name_forms_all(tables)[len("/(?i:") : -len(")/")]
    columns_rx = _lark_name_forms_all(columns)[len("/(?i:") : -len(")/")]
    qualified = f"/(?i:([A-Za-z][0-9]*|{tables_rx})\\.({columns_rx}|\\*))/"
    return [f"WORD: {word}", f"QUALIFIED: {qualified}", f"KW_AS: {_lark_words(['AS'])}"] + [
        f"KW_{k}: {_lark_words([k])}" for k in ("SELECT", "WITH")
    ]


def _lark_name_forms_all(names: list[str]) -> str:
    parts = [_lark_name_forms(n)[len("/(?i:") : -len(")/")] for n in names]
    return "/(?i:" + "|".join(parts) + ")/"


@lru_cache(maxsize=256)
def sql_grammar_lark(schema: DatabaseSchema, mode: str, task: str = "sql") -> str:
    """The grammar of sql_grammar() as llguidance's Lark text (same shapes, same names)."""
    sql_grammar(schema, mode, task)  # the same argument checks
    if task == "sql":
        start = 'start: LEAD? query ";" TAIL\nLEAD: /[ \\t\\n]+/'  # %ignore starts after a first lexeme
    else:
        start = f'start: QUESTION_LINE "{SQL_MARK}" query ";" TAIL\nQUESTION_LINE: /[^\\n]+\\n/'
    body = _LARK_FULL if mode == "full" else _LARK_IDENTIFIERS
    scoped = _lark_one_table_rules(schema) if mode == "full" else []
    return (
        "\n".join(
            [
                "%llguidance {}",
                start,
                body.strip(),
                *scoped,
                _LARK_COMMON.strip(),
                *_lark_vocabulary(schema, mode),
            ]
        )
        + "\n"
    )
