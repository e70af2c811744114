"""Grammar masks inside the decoding loops (services/generation/constrain.py): a scripted model (no
weights: it prefers, in order, the continuations of a few texts) shows a model that would invent a
column steered to a real one, valid SQL decoded token for token as without the mask, and a dead end
ending its row cleanly; the tiny random Llama shows the static loop masking as the compact one does."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from services.generation.constrain import GrammarEngine, RowGrammar
from services.generation.decoding import Decoding, decode, end_token_ids
from services.generation.kv_cache import GrowingCache
from services.generation.sql_grammar_lark import sql_grammar_lark
from services.generation.static_decoding import StaticDecoder
from shared.schema import ColumnInfo, DatabaseSchema, TableInfo
from testbed.tiny_models import load_tiny, make_tiny_model

CONCERT = DatabaseSchema(
    "concert",
    Path("concert.sqlite"),
    (
        TableInfo(
            "singer",
            (
                ColumnInfo("singer_id", "INTEGER", primary_key=True),
                ColumnInfo("name", "TEXT"),
                ColumnInfo("age", "INTEGER"),
            ),
        ),
        TableInfo("concert", (ColumnInfo("concert_id", "INTEGER"), ColumnInfo("singer_id", "INTEGER"))),
    ),
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return load_tiny(make_tiny_model(tmp_path_factory.mktemp("tiny") / "m", seed=3))


@pytest.fixture(scope="module")
def engine(tiny):
    model, tokenizer = tiny
    return GrammarEngine(tokenizer, model.config.vocab_size, end_token_ids(model, tokenizer))


class HistoryCache:
    """What the scripted model keeps instead of keys and values: each row's tokens so far."""

    def __init__(self) -> None:
        self.rows: list[list[int]] = []
        self.prompt = 0

    def get_seq_length(self) -> int:
        return 0

    def batch_select_indices(self, index: torch.Tensor) -> None:
        self.rows = [self.rows[i] for i in index.tolist()]


class ScriptedLM(torch.nn.Module):
    """A scripted stand-in for a language model: row r prefers, in order, the continuations of
    preferences[r] that extend what it has written (the next token of each; earlier texts score
    higher), and end of text once a text is complete."""

    def __init__(self, tokenizer, preferences: list[list[str]]) -> None:
        super().__init__()
        self.tokenizer, self.preferences = tokenizer, preferences
        self.end = tokenizer.eos_token_id
        self.config = SimpleNamespace(vocab_size=len(tokenizer))
        self.generation_config = SimpleNamespace(eos_token_id=self.end)

    def forward(self, input_ids, cache, **_kwargs):
        if not cache.rows:  # the prompts: remembered, with the original row of each
            cache.rows = [[r] for r in range(input_ids.shape[0])]
        else:
            for row, token in zip(cache.rows, input_ids[:, -1].tolist(), strict=True):
                row.append(token)
        logits = torch.full((input_ids.shape[0], 1, self.config.vocab_size), -10.0)
        for batch_row, (original, *written) in enumerate(cache.rows):
            text = self.tokenizer.decode(written)
            for rank, wanted in enumerate(self.preferences[original]):
                score = 10.0 - rank
                if wanted == text:
                    token = self.end
                elif wanted.startswith(text):
                    token = self.tokenizer(wanted[len(text) :]).input_ids[0]
                else:
                    continue
                logits[batch_row, 0, token] = max(logits[batch_row, 0, token].item(), score)
        return SimpleNamespace(logits=logits)


def scripted_decode(tokenizer, engine, preferences, mode, settings=None):
    settings = settings or Decoding(max_new_tokens=40)
    model = ScriptedLM(tokenizer, preferences)
    ids = torch.zeros((len(preferences), 1), dtype=torch.long)
    grammars = [RowGrammar(sql_grammar_lark(CONCERT, mode), "concert")] * len(preferences) if mode else []
    constraints = engine.rows(grammars) if mode else None
    rows = decode(model, tokenizer, ids, torch.ones_like(ids), HistoryCache(), settings, constraints)
    return [tokenizer.decode(row, skip_special_tokens=True) for row in rows]


@pytest.mark.parametrize("mode", ("identifiers", "full"))
def test_a_model_that_would_invent_a_column_is_steered_to_a_real_one(tiny, engine, mode):
    _, tokenizer = tiny
    preferences = [[" SELECT nme FROM singer;", " SELECT name FROM singer;"]]
    assert scripted_decode(tokenizer, engine, preferences, None) == [" SELECT nme FROM singer;"]
    assert scripted_decode(tokenizer, engine, preferences, mode) == [" SELECT name FROM singer;"]


@pytest.mark.parametrize("mode", ("identifiers", "full"))
def test_valid_sql_decodes_token_for_token_as_without_the_mask(tiny, engine, mode):
    """Rows of different lengths leave the batch as they end; the masks follow their rows."""
    _, tokenizer = tiny
    preferences = [
        [" SELECT count(*) FROM singer;"],
        [
            " SELECT T1.name, count(*) FROM singer AS T1 JOIN concert AS T2 ON T1.singer_id = T2.singer_id GROUP BY T1.singer_id;"
        ],
        [" SELECT name FROM singer WHERE age > 30 ORDER BY age DESC LIMIT 1;"],
    ]
    free = scripted_decode(tokenizer, engine, preferences, None, Decoding(max_new_tokens=80))
    assert free == [p[0] for p in preferences]
    assert scripted_decode(tokenizer, engine, preferences, mode, Decoding(max_new_tokens=80)) == free


def test_a_dead_end_ends_the_row_with_what_it_has(tiny, engine):
    _, tokenizer = tiny
    model = ScriptedLM(tokenizer, [[" SELECT name FROM singer;"]])
    constraints = engine.rows([RowGrammar('start: " SELECT"', "tiny")])  # nothing may follow
    ids = torch.zeros((1, 1), dtype=torch.long)
    held_off = Decoding(max_new_tokens=20, min_new_tokens=5)  # end of text is not allowed yet either
    rows = decode(model, tokenizer, ids, torch.ones_like(ids), HistoryCache(), held_off, constraints)
    assert tokenizer.decode(rows[0]) == " SELECT"


def test_a_grammar_that_does_not_compile_decodes_unconstrained_with_one_warning(tiny, engine, caplog):
    with caplog.at_level(logging.WARNING, logger="sqldistill.generation"):
        constraints = engine.rows([RowGrammar("start: ((( not a grammar", "broken_db")] * 3)
        engine.rows([RowGrammar("start: ((( not a grammar", "broken_db")])
    assert not constraints  # no row is held to anything
    warnings = [r.getMessage() for r in caplog.records if "broken_db" in r.getMessage()]
    assert len(warnings) == 1 and "unconstrained" in warnings[0]


def _tiny_rows(tiny, engine, loop, settings, seed=0):
    model, tokenizer = tiny
    prompts = ["-- SQL:", "-- Question: How many singers are there?\n-- SQL:", "SELECT"]
    batch = tokenizer(prompts, return_tensors="pt", padding=True)
    grammar = RowGrammar(sql_grammar_lark(CONCERT, "full"), "concert")
    constraints = engine.rows([grammar] * len(prompts))
    torch.manual_seed(seed)
    with torch.inference_mode():
        if loop == "static":
            return StaticDecoder(model).decode(
                tokenizer, batch["input_ids"], batch["attention_mask"], settings, constraints
            )
        return decode(
            model,
            tokenizer,
            batch["input_ids"],
            batch["attention_mask"],
            GrowingCache(),
            settings,
            constraints,
        )


@pytest.mark.parametrize("temperature", (0.0, 1.0))
def test_the_static_loop_masks_as_the_compact_loop_and_every_row_stays_in_the_grammar(
    tiny, engine, temperature
):
    import llguidance

    """Greedy, the same tokens; sampled (the static batch samples its padding row too, so the random
    streams differ), every row of both loops within the grammar."""
    settings = Decoding(max_new_tokens=30, temperature=temperature)
    compact = _tiny_rows(tiny, engine, "compact", settings, seed=4)
    static = _tiny_rows(tiny, engine, "static", settings, seed=4)
    if temperature == 0:
        assert static == compact
    grammar = sql_grammar_lark(CONCERT, "full")
    for row in compact + static:  # a random model's tokens, each one the grammar allowed
        matcher = llguidance.LLMatcher(engine.tokenizer, grammar)
        assert row and all(matcher.consume_token(t) for t in row), tiny[1].decode(row)


def test_an_engine_error_lets_the_row_go_on_unconstrained(tiny, engine, caplog):
    """Not a dead end: a parser that runs past its limits says so, and that row is not cut off."""
    import llguidance

    _, tokenizer = tiny
    preferences = [[" SELECT name FROM singer;"]]
    limits = engine.limits
    engine.limits = llguidance.LLParserLimits(step_max_items=5)
    try:
        with caplog.at_level(logging.WARNING, logger="sqldistill.generation"):
            out = scripted_decode(tokenizer, engine, preferences, "full")
    finally:
        engine.limits = limits
    assert out == [" SELECT name FROM singer;"]
    assert any("decodes unconstrained" in r.getMessage() for r in caplog.records)
