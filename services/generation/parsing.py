"""Turning raw model output into SQL (and questions), robustly: never raises, says why it dropped."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from shared.prompts import SQL_MARK, STOP_SEQUENCES

_FENCE = re.compile(r"```(?:sql|sqlite)?", re.IGNORECASE)
_QUERY_START = re.compile(r"\b(select|with)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Parsed:
    sql: str = ""
    question: str = ""
    reason: str = ""  # why nothing usable was found (empty when parsing succeeded)

    @property
    def ok(self) -> bool:
        return not self.reason


def truncate_at_stop(text: str, stops: tuple[str, ...] | list[str] = STOP_SEQUENCES) -> str:
    cut = len(text)
    for stop in stops:
        if stop:
            index = text.find(stop)
            if 0 <= index < cut:
                cut = index
    return text[:cut]


def extract_sql(text: str) -> Parsed:
    """The first complete SQL statement in text (starting at SELECT / WITH), without the semicolon."""
    text = _FENCE.sub(" ", text)
    match = _QUERY_START.search(text)
    if not match:
        return Parsed(reason="no SELECT or WITH in the output")
    body = text[match.start() :]
    # sqlite3.complete_statement knows quotes and comments: the first prefix ending in a real ';'.
    for index, char in enumerate(body):
        if char == ";" and sqlite3.complete_statement(body[: index + 1]):
            return Parsed(sql=" ".join(body[:index].split()))
    # No terminator: keep the first line group (generation stopped at a stop sequence or length).
    candidate = truncate_at_stop(body, ("\n\n", "\n--", "```")).strip()
    if not candidate:
        return Parsed(reason="empty SQL")
    return Parsed(sql=" ".join(candidate.split()))


def parse_sql_completion(completion: str) -> Parsed:
    """Completion of sql_prompt: ' SELECT ...;' possibly followed by more text."""
    return extract_sql(truncate_at_stop(completion))


def parse_pair_completion(completion: str) -> Parsed:
    """Completion of pair_prompt: ' <question>\\n-- SQL: <sql>;'."""
    text = completion.replace("\r\n", "\n")
    if SQL_MARK not in text:
        return Parsed(reason="no '-- SQL:' line after the question")
    question, rest = text.split(SQL_MARK, 1)
    question = " ".join(question.strip().split())
    if not question:
        return Parsed(reason="empty question")
    if len(question) > 400:
        return Parsed(reason="question longer than 400 characters")
    if _QUERY_START.match(question):
        return Parsed(reason="question is SQL")
    parsed = extract_sql(truncate_at_stop(rest))
    if not parsed.ok:
        return parsed
    return Parsed(sql=parsed.sql, question=question)
