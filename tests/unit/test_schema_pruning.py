"""Schemas larger than a prompt: a question's prompt keeps the tables its words and literal values
point at, and the tables that join them, within the token budget; a schema within it is untouched."""

from __future__ import annotations

from pathlib import Path

from shared.schema import ColumnInfo, DatabaseSchema, ForeignKeyInfo, TableInfo
from shared.schema_pruning import estimated_tokens, literals, prune_schema, words


def _table(
    name: str, columns: list[str], fks: tuple = (), values: dict | None = None, comment: str = ""
) -> TableInfo:
    cols = tuple(
        ColumnInfo(c, "TEXT", primary_key=(i == 0), sample_values=tuple((values or {}).get(c, ())))
        for i, c in enumerate(columns)
    )
    return TableInfo(name, cols, tuple(ForeignKeyInfo(c, t, r) for c, t, r in fks), comment=comment)


def _schema() -> DatabaseSchema:
    filler = [_table(f"ledger_{i}", ["entry_id", "amount", "posted_on", "memo"]) for i in range(60)]
    relevant = [
        _table("singer", ["singer_id", "name", "country"], values={"country": ["France", "Japan"]}),
        _table("concert", ["concert_id", "venue_id", "year"], fks=(("venue_id", "stadium", "stadium_id"),)),
        _table(
            "singer_in_concert",
            ["id", "singer_id", "concert_id"],
            fks=(("singer_id", "singer", "singer_id"), ("concert_id", "concert", "concert_id")),
        ),
        _table("stadium", ["stadium_id", "location", "capacity"], values={"location": ["Paris", "Oslo"]}),
        _table("warehouse", ["warehouse_id", "city"], comment="where stock is kept"),
    ]
    return DatabaseSchema("big", Path("big.sqlite"), (*filler[:30], *relevant, *filler[30:]))


def test_a_schema_within_the_budget_is_shown_whole():
    schema = _schema()
    assert prune_schema(schema, "How many singers are there?", 10**6) is schema
    assert prune_schema(schema, "How many singers are there?", 0) is schema  # 0: never pruned


def test_the_question_keeps_its_tables_and_the_tables_joining_them_within_the_budget():
    schema = _schema()
    full = estimated_tokens(schema.schema_text(2))
    kept = prune_schema(schema, "Which singers performed in concerts in 2014?", full // 4)
    names = [t.name for t in kept.tables]
    assert {"singer", "concert", "singer_in_concert"} <= set(names)
    assert not any(n.startswith("ledger_") for n in names)
    assert estimated_tokens(kept.schema_text(2)) <= full // 4
    assert names == [t.name for t in schema.tables if t.name in names]  # schema order


def test_a_literal_value_and_a_comment_point_at_their_tables():
    schema = _schema()
    budget = estimated_tokens(schema.schema_text(2)) // 4
    by_value = {t.name for t in prune_schema(schema, "How many concerts were held in Paris?", budget).tables}
    assert {"concert", "stadium"} <= by_value  # Paris is a stadium location; concert joins it
    by_comment = {t.name for t in prune_schema(schema, "Where is stock kept?", budget).tables}
    assert "warehouse" in by_comment


def test_a_table_larger_than_the_budget_still_shows_the_most_relevant_one():
    kept = prune_schema(_schema(), "List every singer.", 1)
    assert [t.name for t in kept.tables] == ["singer"]


def test_words_and_literals():
    assert words("singerInConcert concert_years") == {"singer", "concert", "year"}  # "in": a stopword
    assert literals("Which stadiums in 'New York' hold more than 5000 people in Paris?") == {
        "new york",  # quoted
        "new",  # capitalised words
        "york",
        "paris",
        "5000",  # numbers
    }
