"""Self-instruct batches (services/generation/pairs.py): batch sizes, the seed each batch samples
with, which level and tables each planned row asks about, and the 3n cap - through a recording
stand-in model (what is tested is what is asked, not a model)."""

from __future__ import annotations

import pytest

from services.generation.backends import Sampling
from services.generation.logic import Generator
from services.generation.pairs import PairPlan, check_levels, checked_focuses, pair_batches
from shared.bundled.build import build
from shared.catalogue import Catalogue
from shared.errors import InvalidArgument
from shared.prompts import COMPLEXITY_MARK, TABLES_MARK, schema_for_prompt

pytestmark = pytest.mark.unit


class SeedRecorder:
    """Records each call's prompts and seed; every completion is a usable pair when `good`."""

    def __init__(self, good: bool = True) -> None:
        self.calls: list[tuple[list[str], int, int]] = []
        self.good = good

    def generate(self, prompts, n, sampling):
        self.calls.append((list(prompts), n, sampling.seed))
        text = " How many rows?\n-- SQL: SELECT 1;" if self.good else " no pair here"
        return [[text] * n for _ in prompts]

    def count_tokens(self, text):
        return len(text.split())

    def info(self):
        from services.generation.backends import ModelInfo

        return ModelInfo(version="recorder")


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory) -> Catalogue:
    return Catalogue.load(build(tmp_path_factory.mktemp("bundled")))


def plan(catalogue: Catalogue, **fields) -> PairPlan:
    db_id = catalogue.db_ids[0]
    pool = catalogue.examples("seed")
    return PairPlan(catalogue, pool, db_id, schema_for_prompt(catalogue.schema(db_id)), 1, **fields)


def test_plain_batches_start_small_then_fill_and_stop_at_three_n(catalogue):
    backend = SeedRecorder(good=False)
    batches = list(pair_batches(backend, plan(catalogue), 5, Sampling(seed=100), 4, None))
    sizes = [len(b) for b in batches]
    assert sizes == [4, 4, 4, 3]  # first batch min(batch, n); then full; 15 = 3n attempts in all
    assert [n for _, n, _ in backend.calls] == sizes  # one prompt sampled n times per plain batch
    assert [seed for _, _, seed in backend.calls] == [100, 104, 108, 112]  # seed + attempts so far
    levels = [level for b in batches for _, level in b]
    assert levels[:4] == ["easy"] * 4 and levels[4:8] == ["medium"] * 4  # one level per batch, in turn


def test_planned_rows_take_levels_and_focuses_in_turn_with_one_prompt_each(catalogue):
    schema = catalogue.schema(catalogue.db_ids[0])
    tables = [t.name for t in schema.tables[:2]]
    focuses = checked_focuses(schema, [(tables[0].upper(),), (tables[1],)])
    assert focuses == [(tables[0],), (tables[1],)]  # spelled as the schema spells them
    backend = SeedRecorder()
    rows = next(
        pair_batches(
            backend, plan(catalogue, focuses=focuses, row_levels=("hard", "easy")), 3, Sampling(), 8, None
        )
    )
    prompts, n, _ = backend.calls[0]
    assert n == 1 and len(prompts) == 3 == len(rows)
    assert [level for _, level in rows] == ["hard", "easy", "hard"]
    asked = [p.rsplit(TABLES_MARK, 1)[-1].split("\n", 1)[0].strip() for p in prompts]
    assert asked == [tables[0], tables[1], tables[0]]  # each row's own tables, in turn
    assert [f"{COMPLEXITY_MARK} hard" in p.rsplit("-- Database:", 1)[-1] for p in prompts] == [
        True,
        False,
        True,
    ]


def test_the_generator_stops_once_it_has_n_pairs(catalogue):
    backend = SeedRecorder()
    generator = Generator(catalogue, backend, catalogue.examples("seed"), pair_batch_size=4)
    pairs = list(generator.generate_pairs(catalogue.db_ids[0], 6))
    assert len(pairs) == 6 and [n for _, n, _ in backend.calls] == [4, 4]  # no third batch


def test_bad_levels_and_focuses_are_the_callers_error(catalogue):
    schema = catalogue.schema(catalogue.db_ids[0])
    with pytest.raises(InvalidArgument, match="hardness must be one of"):
        check_levels("", ["impossible"])
    with pytest.raises(InvalidArgument, match="not in database"):
        checked_focuses(schema, [("no_such_table",)])
    with pytest.raises(InvalidArgument, match="a focus names 1 to"):
        checked_focuses(schema, [()])
