"""Schemas larger than a prompt: when a database's schema text passes the token budget, a question's
prompt keeps the tables most relevant to it - their names, columns and comments against the
question's words, sample values that match the question's literal words - and the tables on the
foreign-key paths that join them, in schema order, up to the budget. One rule for training rows and
inference (shared/fewshot.question_prompt); a training row too long for the trainer is pruned by it
too, keeping the tables its SQL reads (shared/training_data.training_prompt)."""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Sequence

from shared.schema import DatabaseSchema, TableInfo

# A tokenizer-free estimate: a token per digit (code-model BPEs split numbers into digits) and one per
# CHARS_PER_TOKEN other characters. On the prompts of the 144 Spider training schemas and the bundled
# ones (Qwen2.5's tokenizer) real tokens came to 0.77-1.24 of it (median 1.1); characters / 3.5
# alone, to 1.54 on schemas whose sample values are numbers.
CHARS_PER_TOKEN = 3.5
REAL_TOKENS_PER_ESTIMATE = 1.25  # the most real tokens one estimated token came to, rounded up
NAME_WEIGHT, COLUMN_WEIGHT, COMMENT_WEIGHT, VALUE_WEIGHT = 3.0, 1.0, 1.0, 2.0
STOPWORDS = frozenset(
    "a an and are as at be by do does each for from give has have how i in is it list many me most of on "
    "or show than that the their them there these they this to was what when where which who whose with".split()
)
_WORD = re.compile(r"[^\W\d_]+|\d+(?:\.\d+)?")  # letters of any script (año, straße), or a number
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def estimated_tokens(text: str) -> int:
    digits = sum(c.isdigit() for c in text)
    return math.ceil(digits + (len(text) - digits) / CHARS_PER_TOKEN)


def _stem(word: str) -> str:
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def words(text: str) -> set[str]:
    """Content words of a question, a name (snake_case, camelCase) or a comment, singular."""
    return {
        _stem(w) for w in _WORD.findall(_CAMEL.sub(" ", text.replace("_", " "))) if w.lower() not in STOPWORDS
    }


def literals(question: str) -> set[str]:
    """What may be a value in the database: quoted strings, capitalised words past the first, numbers."""
    found = {m.strip().lower() for m in re.findall(r"['\"]([^'\"]{1,60})['\"]", question)}
    tokens = question.split()
    punctuation = ".,?!;:'\""
    found |= {
        t.strip(punctuation).lower()
        for t in tokens[1:]
        if t.lstrip("'\"")[:1].isupper() and len(t.strip(punctuation)) > 1
    }
    found |= set(re.findall(r"\b\d+(?:\.\d+)?\b", question))
    return found


def relevance(table: TableInfo, question_words: set[str], question_literals: set[str]) -> float:
    score = NAME_WEIGHT * len(question_words & words(table.name))
    for column in table.columns:
        score += COLUMN_WEIGHT * len(question_words & words(column.name))
        score += COMMENT_WEIGHT * len(question_words & words(column.comment))
        score += VALUE_WEIGHT * sum(1 for v in column.sample_values if v.lower() in question_literals)
    return score + COMMENT_WEIGHT * len(question_words & words(table.comment))


def _neighbours(schema: DatabaseSchema) -> dict[str, set[str]]:
    """The foreign-key graph, both ways, by lower-case table name."""
    graph: dict[str, set[str]] = {t.name.lower(): set() for t in schema.tables}
    for table in schema.tables:
        for fk in table.foreign_keys:
            ref = fk.ref_table.lower()
            if ref in graph and ref != table.name.lower():
                graph[table.name.lower()].add(ref)
                graph[ref].add(table.name.lower())
    return graph


def _path(graph: dict[str, set[str]], start: str, goals: set[str]) -> list[str]:
    """The tables on a shortest foreign-key path from start to any of goals (excluding both ends);
    [] when start is a goal or no path exists."""
    if not goals or start in goals:
        return []
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph.get(node, ())):
            if nxt in previous:
                continue
            previous[nxt] = node
            if nxt in goals:
                path, step = [], previous[nxt]
                while step is not None and step != start:
                    path.append(step)
                    step = previous[step]
                return path
            queue.append(nxt)
    return []


def prune_schema(
    schema: DatabaseSchema, question: str, budget: int, sample_values: int = 2, keep: Sequence[str] = ()
) -> DatabaseSchema:
    """The schema a question's prompt shows: all of it within the budget, else the relevant tables
    and their joins (at least the most relevant table, whatever its size). Tables named in `keep`
    (a training row's SQL reads them) and the joins between them come first, whatever their size."""
    texts = {
        t.name.lower(): DatabaseSchema(schema.db_id, schema.path, (t,)).schema_text(sample_values)
        for t in schema.tables
    }
    cost = {name: estimated_tokens(text) + 1 for name, text in texts.items()}  # +1: the blank line between
    if budget <= 0 or sum(cost.values()) <= budget:
        return schema
    q_words, q_literals = words(question), literals(question)
    order = {t.name.lower(): i for i, t in enumerate(schema.tables)}
    ranked = sorted(schema.tables, key=lambda t: (-relevance(t, q_words, q_literals), order[t.name.lower()]))
    graph = _neighbours(schema)
    chosen: list[str] = []
    for name in dict.fromkeys(n.lower() for n in keep if n.lower() in cost):
        chosen += [n for n in (name, *_path(graph, name, set(chosen))) if n not in chosen]
    used = sum(cost[n] for n in chosen)
    for table in ranked:
        name = table.name.lower()
        if name in chosen:
            continue
        if chosen and relevance(table, q_words, q_literals) == 0:
            break  # the rest says nothing about the question
        adding = [name, *(p for p in _path(graph, name, set(chosen)) if p not in chosen)]
        extra = sum(cost[n] for n in adding)
        if chosen and used + extra > budget:
            continue
        chosen += adding
        used += extra
    kept = set(chosen)
    return DatabaseSchema(
        schema.db_id, schema.path, tuple(t for t in schema.tables if t.name.lower() in kept)
    )
