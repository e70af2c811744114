"""The schema grammar (services/generation/sql_grammar.py) on its own: every gold query of the bundled
data and a fixture of hard shapes pass both strengths, invented names do not, the GBNF form parses in
llama.cpp's grammar parser, and a changed schema gets a new grammar."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from services.generation.sql_grammar import sql_grammar
from services.generation.sql_grammar_lark import sql_grammar_lark
from shared.bundled.build import ensure_built
from shared.catalogue import Catalogue
from shared.schema import ColumnInfo
from testbed.tiny_models import make_tiny_model

SHAPES = yaml.safe_load((Path(__file__).parents[1] / "data" / "sql_shapes.yaml").read_text())
MODES = ("identifiers", "full")


@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> Catalogue:
    return Catalogue.load(ensure_built(tmp_path_factory.mktemp("bundled") / "bundled"))


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    """The tiny byte-level BPE tokenizer in llguidance's view (any text tokenizes)."""
    import llguidance.hf
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(make_tiny_model(tmp_path_factory.mktemp("tiny") / "m"))
    return hf, llguidance.hf.from_tokenizer(hf)


def accepts(tokenizer, grammar: str, text: str) -> bool:
    import llguidance

    hf, ll = tokenizer
    assert not llguidance.LLMatcher.validate_grammar(grammar, ll)
    matcher = llguidance.LLMatcher(ll, grammar)
    consumed = all(matcher.consume_token(t) for t in hf(text).input_ids)
    return consumed and not matcher.is_error() and matcher.is_accepting()


@pytest.mark.parametrize("mode", MODES)
def test_every_bundled_gold_query_passes(bundled, tokenizer, mode):
    refused = [
        e.query
        for split in bundled.splits
        for e in bundled.examples(split)
        if not accepts(tokenizer, sql_grammar_lark(bundled.schema(e.db_id), mode), f" {e.query};\n\n")
    ]
    assert refused == []
    assert sum(len(bundled.examples(s)) for s in bundled.splits) == 300


@pytest.mark.parametrize("mode", MODES)
def test_hard_shapes_pass_and_invented_names_do_not(bundled, tokenizer, mode):
    grammar = sql_grammar_lark(bundled.schema("film"), mode)
    assert [q for q in SHAPES["accepted"] if not accepts(tokenizer, grammar, f" {q};")] == []
    assert [q for q in SHAPES["rejected"] if accepts(tokenizer, grammar, f" {q};")] == []
    full_only = SHAPES["rejected_full_only"] + SHAPES["rejected_full_only_scoped"]
    wrong_table = [q for q in full_only if accepts(tokenizer, grammar, f" {q};")]
    assert wrong_table == ([] if mode == "full" else full_only)


def test_the_pair_layout_holds_a_question_then_sql(bundled, tokenizer):
    grammar = sql_grammar_lark(bundled.schema("film"), "full", "pair")
    assert accepts(tokenizer, grammar, " How many movies are there?\n-- SQL: SELECT count(*) FROM movie;")
    assert not accepts(tokenizer, grammar, " How many films?\n-- SQL: SELECT count(*) FROM films;")
    assert not accepts(tokenizer, grammar, " How many films? SELECT count(*) FROM movie;")


def test_anything_may_follow_the_statement(bundled, tokenizer):
    """After the ';' the row ends as unconstrained rows do (stop sequences, end of text)."""
    grammar = sql_grammar_lark(bundled.schema("film"), "identifiers")
    assert accepts(tokenizer, grammar, " SELECT count(*) FROM movie;\n\n-- Question: next one")


@pytest.mark.parametrize("task", ("sql", "pair"))
@pytest.mark.parametrize("mode", MODES)
def test_the_gbnf_form_parses_in_llama_cpp(bundled, mode, task):
    from llama_cpp import LlamaGrammar

    for db_id in bundled.db_ids:
        LlamaGrammar.from_string(sql_grammar(bundled.schema(db_id), mode, task), verbose=False)


def test_a_changed_schema_gets_a_new_grammar(bundled, tokenizer):
    schema = bundled.schema("film")
    movie = schema.table("movie")
    grown = replace(movie, columns=(*movie.columns, ColumnInfo("rating", "REAL")))
    changed = replace(schema, tables=tuple(grown if t is movie else t for t in schema.tables))
    query = " SELECT rating FROM movie;"
    assert not accepts(tokenizer, sql_grammar_lark(schema, "full"), query)
    assert accepts(tokenizer, sql_grammar_lark(changed, "full"), query)
    assert sql_grammar(changed, "full") != sql_grammar(schema, "full")


def test_bad_arguments_are_refused(bundled):
    with pytest.raises(ValueError, match="identifiers or full"):
        sql_grammar(bundled.schema("film"), "off")
    with pytest.raises(ValueError, match="task"):
        sql_grammar(bundled.schema("film"), "full", "prose")
    with pytest.raises(ValueError, match="no tables"):
        sql_grammar(replace(bundled.schema("film"), tables=()), "full")
