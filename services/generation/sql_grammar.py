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

The text is GBNF (llama.cpp's grammar format): the in-process engine compiles it as is, and an
OpenAI-compatible llama.cpp server takes it unchanged. Rule names use letters, digits and dashes
only (llama.cpp's rule-name alphabet). A completion is the prompt's continuation: " SELECT ...;"
for a question, " <question>\\n-- SQL: SELECT ...;" for a self-instruct pair; after the ";" the
grammar allows anything, so the row ends as an unconstrained row does (a stop sequence, end of
text) and a model that already writes valid SQL writes the same tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass
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
