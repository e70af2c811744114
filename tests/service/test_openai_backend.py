"""The `openai` backend against a real OpenAI-compatible server: llama-cpp-python's server (built from
its sdist by `make setup`) serving the default model's own GGUF file on loopback, started here.
TGI's own `/generate` route details stay tested against the recorded-protocol stand-in
(test_generation.py), which is all that the real server here cannot speak."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import grpc
import pytest

from services.generation.backends import ModelSpec, Sampling
from services.generation.openai_backend import OpenAIBackend
from shared.errors import Unavailable
from shared.grpc_client import make_channel
from shared.packaged_models import DEFAULT_MODEL
from shared.pb import common_pb2, generation_pb2, generation_pb2_grpc
from shared.prompts import STOP_SEQUENCES
from testbed.llama_server import llama_server as serve
from testbed.processes import free_port, start_service, stop_service

# One worker assembles and converts the packaged models for the run (tests/support/packaged_models.py).
pytestmark = pytest.mark.xdist_group("packaged_models")

PROMPT = "-- SQLite\nCREATE TABLE singer (singer_id INTEGER, name TEXT, age INTEGER);\n-- Question: How many singers are there?\n-- SQL:"


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory, packaged_models):
    gguf = packaged_models.gguf(DEFAULT_MODEL)  # assembled and verified, once per run
    with serve(gguf, "qwen-0.5b", tmp_path_factory.mktemp("llama") / "server.log") as url:
        with urllib.request.urlopen(f"{url}/models", timeout=10) as reply:
            assert json.load(reply)["data"][0]["id"] == "qwen-0.5b"
        yield url


def test_completions_with_samples_seed_and_stop_sequences(llama_server):
    backend = OpenAIBackend(llama_server, ModelSpec(version="base"))
    greedy = Sampling(temperature=0.0, max_new_tokens=24, seed=7, stop=STOP_SEQUENCES)
    first = backend.generate([PROMPT, PROMPT.replace("singers", "singer names")], 2, greedy)
    assert [len(outputs) for outputs in first] == [2, 2]
    assert all(not any(stop in text for stop in STOP_SEQUENCES) for outputs in first for text in outputs)
    assert "count" in first[0][0].lower()  # a real model answered the real question
    again = backend.generate([PROMPT], 1, greedy)
    # Greedy on the same prompt gives the same first line (llama.cpp's prompt cache may shift later
    # tokens by rounding, so whole texts are not compared).
    assert again[0][0].strip().splitlines()[0] == first[0][0].strip().splitlines()[0]
    sampled = backend.generate([PROMPT], 3, Sampling(temperature=0.9, top_p=0.95, max_new_tokens=16, seed=1))
    assert len(sampled[0]) == 3
    assert backend.model_id == "qwen-0.5b"  # the server's model, asked for by id
    assert backend.info().backend == "openai" and backend.info().version == "base"


def test_an_unreachable_server_is_unavailable_after_retries():
    backend = OpenAIBackend(f"http://127.0.0.1:{free_port()}/v1", model_id="m", retries=1, timeout=2)
    with pytest.raises(Unavailable, match="unreachable"):
        backend.generate([PROMPT], 1, Sampling(max_new_tokens=4))


def test_the_generation_service_serves_through_the_openai_backend(llama_server, tmp_path, spider_dir):
    service = start_service(
        "generation",
        tmp_path,
        dataset=spider_dir,
        extra_env={
            "SQLDISTILL_GENERATION__BACKEND": "openai",
            "SQLDISTILL_GENERATION__OPENAI_URL": llama_server,
            "SQLDISTILL_GENERATION__VERSION": "base",
        },
    )
    try:
        stub = generation_pb2_grpc.GenerationServiceStub(make_channel(service.target))
        info = stub.DescribeModel(generation_pb2.DescribeModelRequest(), timeout=10)
        assert (info.backend, info.version, info.reviews) == ("openai", "base", False)
        with pytest.raises(grpc.RpcError) as refused:  # completions give no scores of their input
            stub.ReviewSql(
                generation_pb2.ReviewSqlRequest(
                    db_id="concert", question="How many singers?", sql=["SELECT 1"]
                ),
                timeout=10,
            )
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "scores text" in refused.value.details()
        reply = stub.GenerateSql(
            generation_pb2.GenerateSqlRequest(
                questions=[
                    generation_pb2.QuestionItem(
                        id="q", db_id="concert", question="How many singers are there?"
                    )
                ],
                n=2,
                few_shot_k=0,
                sampling=common_pb2.SamplingParams(temperature=0.0, max_new_tokens=48),
            ),
            timeout=300,
        )
        result = reply.results[0]
        assert reply.model_version == "base" and len(result.sql) + len(result.dropped) == 2
        assert any("singer" in sql.lower() for sql in result.sql)
    except grpc.RpcError as exc:
        pytest.fail(f"{exc.code()}: {exc.details()}\n{Path(service.log_path).read_text()[-2000:]}")
    finally:
        stop_service(service)


def test_the_server_receives_and_honours_the_schema_grammar(llama_server):
    """llama.cpp's server takes the GBNF text in `grammar`: a question about a column the table
    lacks is answered unconstrained with an invented name, and with the grammar only with real ones."""
    import sqlglot
    from sqlglot import exp

    from services.generation.constraint import Constraint
    from services.generation.parsing import parse_sql_completion
    from shared.schema import ColumnInfo, DatabaseSchema, TableInfo

    columns = ("singer_id", "name", "age")
    schema = DatabaseSchema(
        "concert",
        Path("concert.sqlite"),
        (TableInfo("singer", tuple(ColumnInfo(c, "TEXT") for c in columns)),),
    )
    prompt = PROMPT.replace("How many singers are there?", "What is the average height of the singers?")
    backend = OpenAIBackend(llama_server, ModelSpec(version="base"))
    greedy = Sampling(temperature=0.0, max_new_tokens=40, seed=3, stop=STOP_SEQUENCES)
    (free,), (held,) = (
        backend.generate([prompt], 1, greedy),
        backend.generate([prompt], 1, greedy, [Constraint(schema, "full")]),
    )

    def names(completion: str) -> set[str]:
        first = completion.strip().splitlines()[0]  # the statement the grammar holds (one line here)
        tree = sqlglot.parse_one(parse_sql_completion(first).sql, read="sqlite")
        return {c.name.lower() for c in tree.find_all(exp.Column)} | {
            t.name.lower() for t in tree.find_all(exp.Table)
        }

    assert "height" in names(free[0])  # the model invents the column it was asked about...
    assert names(held[0]) <= {*columns, "singer"}  # ...and only real ones under the grammar
