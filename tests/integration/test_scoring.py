"""Scoring completions on a real (tiny, random) model: the batched score over a shared prefilled
prompt equals a plain forward pass over each whole sequence, for both KV cache kinds, from a cold
and a warm prefix cache; and reviewing SQL (log p(question | SQL)) scores each SQL on the review
prompt, or is refused where the backend cannot score."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from services.generation.backends import ModelSpec  # noqa: E402
from services.generation.logic import Generator  # noqa: E402
from services.generation.transformers_backend import TransformersBackend  # noqa: E402
from shared.catalogue import Catalogue, Example  # noqa: E402
from shared.errors import FailedPrecondition, InvalidArgument, NotFound  # noqa: E402
from shared.fewshot import question_review_prompt  # noqa: E402
from shared.prompts import review_completion, review_context  # noqa: E402
from testbed.tiny_models import make_tiny_model  # noqa: E402
from tests.support.backends import RecordingBackend  # noqa: E402

PROMPT = "-- Database: concert\nCREATE TABLE singer (name TEXT, age INTEGER);\n-- SQL:"
CONTEXTS = [
    " SELECT name FROM singer;\n-- Question:",
    " SELECT count(*) FROM singer WHERE age > 30;\n-- Question:",
]
COMPLETIONS = [" What are the singers' names?\n", " How many singers are older than 30?\n"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "a", seed=0)


def _whole(backend, prompt, context, completion) -> float:
    """The reference: one forward pass over prompt + context + completion, no cache."""
    model, tokenizer = backend._current.model, backend._current.tokenizer
    head = tokenizer(prompt).input_ids + tokenizer(context, add_special_tokens=False).input_ids
    tail = tokenizer(completion, add_special_tokens=False).input_ids
    with torch.inference_mode():
        logits = model(input_ids=torch.tensor([head + tail])).logits[0].float()
    logprobs = torch.log_softmax(logits, dim=-1)
    return float(sum(logprobs[len(head) - 1 + j, token] for j, token in enumerate(tail)))


@pytest.mark.parametrize("loop", ["compact", "generate"])
def test_a_batched_score_equals_each_sequence_scored_whole(tiny_model, tmp_path, loop):
    backend = TransformersBackend(
        tmp_path, ModelSpec(str(tiny_model)), precision="fp32", device="cpu", decode_loop=loop
    )
    want = [_whole(backend, PROMPT, c, s) for c, s in zip(CONTEXTS, COMPLETIONS, strict=True)]
    cold = backend.score(PROMPT, COMPLETIONS, CONTEXTS)
    warm = backend.score(PROMPT, COMPLETIONS, CONTEXTS)  # the prompt's prefix now comes from the cache
    assert backend._current.prefixes.hits >= 1
    assert cold == pytest.approx(want, abs=1e-3) and warm == pytest.approx(want, abs=1e-3)
    assert all(score < 0 for score in cold) and cold[0] != cold[1]
    # Without contexts, the completion follows the prompt directly; the same SQL scores the same.
    alone = backend.score(PROMPT + CONTEXTS[0], COMPLETIONS[:1])
    assert alone == pytest.approx([_whole(backend, PROMPT + CONTEXTS[0], "", COMPLETIONS[0])], abs=1e-3)
    many = backend.score(PROMPT, COMPLETIONS * 9, CONTEXTS * 9)  # past one pass's rows
    assert many == pytest.approx(want * 9, abs=1e-3)
    with pytest.raises(ValueError, match="one context per completion"):
        backend.score(PROMPT, COMPLETIONS, CONTEXTS[:1])
    assert backend.score(PROMPT, []) == []


def test_review_scores_each_sql_on_the_review_prompt(tiny_model, tmp_path, spider_dir):
    catalogue = Catalogue.load(spider_dir)
    pool = [
        Example(
            "pets", "How many dogs are there?", "SELECT count(*) FROM pet WHERE kind = 'dog'", "seed", "p1"
        )
    ]
    backend = TransformersBackend(tmp_path, ModelSpec(str(tiny_model)), precision="fp32", device="cpu")
    generator = Generator(catalogue, backend, pool, default_k=1)
    question = "What are the names of the stadiums?"
    sqls = ["SELECT name FROM stadium", "SELECT stadium_id FROM stadium LIMIT 1"]
    got, version = generator.review("concert", question, sqls)
    assert version == backend.info().version
    head = question_review_prompt(catalogue, pool, "concert", question, 1)
    assert "-- Question: How many dogs are there?" in head  # the writer's examples, read backwards
    want = [_whole(backend, head, review_context(sql), review_completion(question)) for sql in sqls]
    assert got == pytest.approx(want, abs=1e-3)
    with pytest.raises(NotFound):
        generator.review("no_such_db", question, sqls)
    with pytest.raises(InvalidArgument, match="question"):
        generator.review("concert", "  ", sqls)
    for bad, match in (([], "1 to 64"), (["SELECT 1", " "], "sql 1 is empty"), (["x" * 100_001], "longer")):
        with pytest.raises(InvalidArgument, match=match):
            generator.review("concert", question, bad)
    with pytest.raises(InvalidArgument, match="few_shot_k"):
        generator.review("concert", question, sqls, few_shot_k=-1)
    recorder = Generator(catalogue, RecordingBackend(), pool)  # a backend that cannot score (as tgi)
    with pytest.raises(FailedPrecondition, match="generation.backend transformers"):
        recorder.review("concert", question, sqls)
