"""A grammar of the SQL a database can run, written from its schema: where a name goes, only the
database's own tables and columns (any case; bare, "quoted", `quoted` or [bracketed]) or an alias.

Two strengths (`generation.constrain`):
- `identifiers`: any sequence of SQL tokens (keywords, functions, literals, operators), but every
  word that is not a keyword, a function or a number must be one of the schema's names, an alias
  reference (`T1`, `a`), or a name being declared after AS. Catches invented columns and tables and
  nothing else: any statement shape still goes.
- `full`: also the statement must be a SQLite SELECT of the shapes the product writes (joins,
  subqueries, set operations, GROUP BY / HAVING / ORDER BY / LIMIT, CASE, CAST, functions), and a
  column named through its table (`singer.name`) must belong to that table.

The text here is GBNF (llama.cpp's grammar format): the in-process engine compiles it as is, and an
OpenAI-compatible llama.cpp server takes it unchanged. Rule names use letters, digits and dashes
only (llama.cpp's rule-name alphabet). A completion is the prompt's continuation: " SELECT ...;"
for a question, " <question>\\n-- SQL: SELECT ...;" for a self-instruct pair; after the ";" the
grammar allows anything, so the row ends as an unconstrained row does (a stop sequence, end of
text) and a model that already writes valid SQL writes the same tokens. The same grammar in
llguidance's Lark form: sql_grammar_lark.py; what a backend is handed: constraint.Constraint."""

from __future__ import annotations

import re
from functools import lru_cache

from shared.limits import CONSTRAIN_MODES
from shared.prompts import SQL_MARK
from shared.schema import DatabaseSchema

TASKS = ("sql", "pair")

KEYWORDS = (
    "SELECT DISTINCT ALL FROM WHERE GROUP BY HAVING ORDER ASC DESC LIMIT OFFSET UNION INTERSECT EXCEPT "
    "JOIN INNER LEFT RIGHT FULL OUTER CROSS NATURAL ON USING AS AND OR NOT IN IS NULL LIKE GLOB BETWEEN "
    "EXISTS CASE WHEN THEN ELSE END CAST COLLATE NOCASE ESCAPE NULLS FIRST LAST TRUE FALSE WITH "
    "RECURSIVE ISNULL NOTNULL INTEGER INT REAL TEXT NUMERIC FLOAT DOUBLE VARCHAR CHAR DATE "
    "CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP"
).split()
FUNCTIONS = (
    "count sum avg min max total group_concat abs length lower upper substr substring trim ltrim rtrim "
    "replace round coalesce ifnull nullif instr strftime date time datetime julianday unixepoch typeof "
    "random iif printf format hex unicode char like glob sign ceil ceiling floor sqrt power pow mod "
    "cast quote zeroblob"
).split()
TYPE_NAMES = "INTEGER INT REAL TEXT NUMERIC FLOAT DOUBLE VARCHAR CHAR DATE DATETIME BOOLEAN DECIMAL".split()
_BARE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _ci(word: str) -> str:
    """A case-insensitive GBNF sequence for a literal word: "[sS][eE]..." (other chars as literals)."""
    parts = []
    literal = ""
    for char in word:
        if char.isalpha() and char.lower() != char.upper() and len(char.lower()) == 1:
            if literal:
                parts.append(_quote(literal))
                literal = ""
            parts.append(f"[{char.lower()}{char.upper()}]")
        else:
            literal += char
    if literal:
        parts.append(_quote(literal))
    return " ".join(parts)


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def _name_forms(name: str) -> list[str]:
    """How a name may be written: bare when it can be, and quoted three ways, any case."""
    forms = [_ci(name)] if _BARE.match(name) else []
    inner = _ci(name)
    forms += [f'"\\"" {inner} "\\""', f'"`" {inner} "`"', f'"[" {inner} "]"']
    return forms


def _alternatives(rule: str, options: list[str]) -> str:
    return f"{rule} ::= " + " | ".join(f"( {o} )" for o in options)


def _rule_id(index: int) -> str:
    return f"cols-of-{index}"


# Rules both strengths share: whitespace, literals, free identifiers, the operator tokens.
_COMMON = r"""
ws ::= [ \t\n]+
ows ::= [ \t\n]*
tail ::= [^\x00]*
number ::= [0-9]+ ( "." [0-9]* )? ( [eE] [-+]? [0-9]+ )? | "." [0-9]+
string ::= "'" ( [^'] | "''" )* "'"
dq-string ::= "\"" [^"\n]* "\""
free-ident ::= [A-Za-z_] [A-Za-z0-9_]*
alias-ref ::= [A-Za-z] [0-9]*
"""


def _vocabulary(schema: DatabaseSchema) -> list[str]:
    """Rules naming the schema: table-name, column-name (any table's), cols-of-N (table N's)."""
    rules = []
    tables = [t for t in schema.tables]
    rules.append(_alternatives("table-name", [f for t in tables for f in _name_forms(t.name)]))
    columns = sorted({c.name for t in tables for c in t.columns}, key=str.lower)
    unique = list({c.lower(): c for c in columns}.values())
    rules.append(_alternatives("column-name", [f for c in unique for f in _name_forms(c)]))
    for index, table in enumerate(tables):
        names = list({c.name.lower(): c.name for c in table.columns}.values())
        rules.append(_alternatives(_rule_id(index), [f for c in names for f in _name_forms(c)]))
    qualified = [
        f'( {f} ) "." ( {_rule_id(i)} | "*" )' for i, t in enumerate(tables) for f in _name_forms(t.name)
    ]
    qualified.append('alias-ref "." ( column-name | "*" )')
    rules.append(_alternatives("qualified", qualified))
    rules.append(_alternatives("fn-name", [_ci(f) for f in FUNCTIONS]))
    return rules


def _kw(word: str) -> str:
    return _ci(word)


_FULL = """
query ::= select-core ( ws compound ws select-core )* ( ws order-by )? ( ws limit )?
compound ::= {UNION} ( ws {ALL} )? | {INTERSECT} | {EXCEPT}
select-core ::= {SELECT} ( ws ( {DISTINCT} | {ALL} ) )? ws result-list ( ws {FROM} ws from-clause )? ( ws {WHERE} ws expr )? ( ws {GROUP} ws {BY} ws expr-list ( ws {HAVING} ws expr )? )?
result-list ::= result-col ( ows "," ows result-col )*
result-col ::= "*" | expr ( ws {AS} ws ( free-ident | string | dq-string ) )?
from-clause ::= source ( join-op source join-constraint? )*
source ::= table-name ( ws ( {AS} ws )? free-ident )? | "(" ows query ows ")" ( ws ( {AS} ws )? free-ident )?
join-op ::= ows "," ows | ws ( {NATURAL} ws )? ( ( {LEFT} ( ws {OUTER} )? | {INNER} | {CROSS} ) ws )? {JOIN} ws
join-constraint ::= ws {ON} ws expr | ws {USING} ows "(" ows column-name ( ows "," ows column-name )* ows ")"
expr-list ::= expr ( ows "," ows expr )*
expr ::= unary ( binop unary )*
binop ::= ows sym-op ows | ws kw-op ws
sym-op ::= "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=" | "+" | "-" | "*" | "/" | "%" | "||"
kw-op ::= {AND} | {OR} | ( {NOT} ws )? ( {LIKE} | {GLOB} | {IN} | {BETWEEN} ) | {IS} ( ws {NOT} )?
unary ::= ( {NOT} ws | "-" ows | "+" ows )* primary ( ws ( {COLLATE} ws {NOCASE} | {ISNULL} | {NOTNULL} | {NOT} ws {NULL} ) )?
primary ::= number | string | dq-string | {NULL} | {TRUE} | {FALSE} | {CURRENT_DATE} | {CURRENT_TIMESTAMP} | column-ref | call | "(" ows ( query | expr-list ) ows ")" | case-expr | cast-expr | {EXISTS} ows "(" ows query ows ")"
column-ref ::= column-name | qualified
call ::= fn-name ows "(" ows ( "*" | ( {DISTINCT} ws )? expr-list )? ows ")"
case-expr ::= {CASE} ( ws expr )? ( ws {WHEN} ws expr ws {THEN} ws expr )+ ( ws {ELSE} ws expr )? ws {END}
cast-expr ::= {CAST} ows "(" ows expr ws {AS} ws type-name ows ")"
type-name ::= ( {types} ) ( ows "(" ows number ( ows "," ows number )? ows ")" )?
order-by ::= {ORDER} ws {BY} ws order-term ( ows "," ows order-term )*
order-term ::= expr ( ws ( {ASC} | {DESC} ) )? ( ws {NULLS} ws ( {FIRST} | {LAST} ) )?
limit ::= {LIMIT} ws expr ( ( ows "," ows | ws {OFFSET} ws ) expr )?
"""

# `identifiers`: a token stream. Two words always have whitespace between them (so no invented
# name is spelt as two real ones glued together); punctuation may touch its neighbours.
_IDENTIFIERS = """
query ::= ( {SELECT} | {WITH} ) ( ws word | ows punct ( ows word )? )*
word ::= keyword | fn-name | table-name | column-name | qualified | alias-ref | number | {AS} ws free-ident
keyword ::= {keywords}
punct ::= string | dq-string | "(" | ")" | "," | "*" | "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=" | "+" | "-" | "/" | "%" | "||" | "."
"""


def _expand(template: str) -> str:
    """Fill {KEYWORD} placeholders with case-insensitive sequences."""
    fills = {k: f"( {_kw(k)} )" for k in KEYWORDS}
    fills["types"] = " | ".join(f"( {_kw(t)} )" for t in TYPE_NAMES)
    fills["keywords"] = " | ".join(f"( {_kw(k)} )" for k in KEYWORDS)
    return template.format(**fills)


@lru_cache(maxsize=256)
def sql_grammar(schema: DatabaseSchema, mode: str, task: str = "sql") -> str:
    """The GBNF text for one database, strength and completion layout. Cached per schema value: a
    database whose schema changed is a different key, so it gets a new grammar."""
    if mode not in CONSTRAIN_MODES or mode == "off":
        raise ValueError(f"constrain must be identifiers or full for a grammar, got {mode!r}")
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    if not schema.tables:
        raise ValueError(f"database {schema.db_id!r} has no tables")
    if task == "sql":
        root = 'root ::= " "? ows query ows ";" tail'
    else:
        root = f'root ::= [^\\n]+ "\\n" {_quote(SQL_MARK)} " "? ows query ows ";" tail'
    body = _expand(_FULL if mode == "full" else _IDENTIFIERS)
    return "\n".join([root, body.strip(), _COMMON.strip(), *_vocabulary(schema)]) + "\n"
