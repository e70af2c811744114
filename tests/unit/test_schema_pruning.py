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
    assert words("Straße año_fiscal") == {"straße", "año", "fiscal"}  # letters of any script, not cut
    assert literals("Which stadiums in 'New York' hold more than 5000 people in Paris?") == {
        "new york",  # quoted
        "new",  # capitalised words
        "york",
        "paris",
        "5000",  # numbers
    }


def test_tables_to_keep_come_first_with_the_joins_between_them():
    """A training row's SQL reads `warehouse` and `stadium`, which the question's words do not name:
    kept whatever the budget, with nothing between them to join (no foreign key links them)."""
    kept = prune_schema(_schema(), "How many singers are there?", 1, keep=("Warehouse", "stadium", "nope"))
    assert [t.name for t in kept.tables] == ["stadium", "warehouse"]  # schema order; unknown names ignored
    joined = prune_schema(_schema(), "List every ledger.", 1, keep=("singer", "concert"))
    assert {"singer", "concert", "singer_in_concert"} <= {t.name for t in joined.tables}


def test_a_training_row_fits_the_trainer_without_being_cut_mid_schema(tmp_path):
    """A database whose prompt would pass the trainer's row (defaults.TRAIN_MAX_TOKENS, estimated at
    its worst) trains on a prompt pruned to its SQL's tables; a small one on exactly the prompt
    inference writes. The trainer never has to cut a prompt from the left."""
    import sqlite3

    from shared import defaults
    from shared.catalogue import Catalogue
    from shared.fewshot import question_prompt
    from shared.schema_pruning import REAL_TOKENS_PER_ESTIMATE
    from shared.training_data import PreferencePair, TrainingPair, render_preferences, render_rows

    with sqlite3.connect(tmp_path / "big.sqlite") as db:
        for i in range(80):
            db.execute(
                f"CREATE TABLE ledger_{i} (entry_id INTEGER PRIMARY KEY, amount REAL, posted_on TEXT, memo TEXT)"
            )
        db.execute("CREATE TABLE warehouse (warehouse_id INTEGER PRIMARY KEY, city TEXT)")
    with sqlite3.connect(tmp_path / "small.sqlite") as db:
        db.execute("CREATE TABLE book (book_id INTEGER PRIMARY KEY, title TEXT)")
    catalogue = Catalogue.load(tmp_path)
    question = "Where is inventory stored?"  # names no table: only its SQL says which
    sql = "SELECT city FROM warehouse"
    assert estimated_tokens(question_prompt(catalogue, [], "big", question, 0)) > 1000  # would be cut
    (big,) = render_rows([TrainingPair("big", question, sql)], catalogue, 0, pool=[])
    assert "CREATE TABLE warehouse" in big["prompt"] and big["prompt"].count("CREATE TABLE") < 81
    written = estimated_tokens(big["prompt"]) + estimated_tokens(big["completion"])
    assert written * REAL_TOKENS_PER_ESTIMATE <= defaults.TRAIN_MAX_TOKENS
    (preference,) = render_preferences(
        [PreferencePair("big", question, sql, "SELECT memo FROM ledger_3")], catalogue, 0, pool=[]
    )
    assert preference["prompt"] == big["prompt"]  # the supervised row's prompt
    (unparsed,) = render_rows([TrainingPair("big", question, "SELEC city FRM")], catalogue, 0, pool=[])
    assert unparsed["prompt"] == question_prompt(catalogue, [], "big", question, 0)  # names no tables: whole
    (small,) = render_rows(
        [TrainingPair("small", "List titles.", "SELECT title FROM book")], catalogue, 0, pool=[]
    )
    assert small["prompt"] == question_prompt(catalogue, [], "small", "List titles.", 0)
