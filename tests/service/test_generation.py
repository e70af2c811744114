"""Generation: the transformers backend on a tiny random model, the TGI backend against a
recorded-protocol server, and the real gRPC service on loopback. One module, past 300 lines, because
its tests share module-scoped fixtures (a tiny model, a started service) that take seconds each."""

from __future__ import annotations

import threading
import time

import grpc
import pytest

from services.controller.calls import passed_on
from services.controller.generation_client import GenerationClient
from services.controller.versions import ServedModel
from services.generation.backends import ModelSpec, Sampling
from services.generation.logic import Generator
from services.generation.requests import QuestionIn
from services.generation.tgi_backend import TgiBackend
from services.generation.transformers_backend import TransformersBackend
from shared.catalogue import Catalogue, Example
from shared.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from shared.grpc_client import make_channel
from shared.limits import MAX_SAMPLES
from shared.pb import common_pb2, generation_pb2, generation_pb2_grpc
from testbed.fake_tgi import FakeTgiServer, default_scorer
from testbed.processes import start_service, stop_service
from testbed.tiny_models import make_tiny_model

PROMPTS = [
    "-- Question: How many singers are there?\n-- SQL:",
    "SELECT name FROM singer WHERE age > 30 AND country = 'France' ORDER BY",
]
SEEDS = [
    Example(
        "pets",
        "How many dogs are there?",
        "SELECT count(*) FROM pet WHERE kind = 'dog'",
        "seed",
        "p1",
        "easy",
    ),
    Example(
        "pets", "List the owners in Oslo.", "SELECT name FROM owner WHERE city = 'Oslo'", "seed", "p2", "easy"
    ),
]


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    return make_tiny_model(root / "a", seed=0), make_tiny_model(root / "b", seed=1)


@pytest.fixture(scope="module")
def backend(tiny_models, tmp_path_factory):
    """fp32: the exact reference the other tests compare with."""
    return TransformersBackend(
        tmp_path_factory.mktemp("models"),
        ModelSpec(str(tiny_models[0]), version="tiny-a"),
        max_batch_size=3,
        precision="fp32",
    )


def test_batched_generation_returns_n_samples_per_prompt(backend):
    out = backend.generate(PROMPTS, 3, Sampling(temperature=1.0, max_new_tokens=8, seed=1, stop=()))
    assert [len(samples) for samples in out] == [3, 3]
    assert all(isinstance(s, str) for samples in out for s in samples)
    again = backend.generate(PROMPTS, 3, Sampling(temperature=1.0, max_new_tokens=8, seed=1, stop=()))
    assert again == out  # seeded sampling is reproducible


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_left_padding_gives_the_same_greedy_output_alone_and_in_a_batch(tiny_models, tmp_path, precision):
    """int8 too: activations are quantized per row, so batch-mates do not change a row's output.
    On the CPU, where these decoding paths' exactness is defined: a GPU picks matmul kernels by
    shape, so batch and alone may differ in the last bits there (and int8 is a CPU path)."""
    backend = TransformersBackend(
        tmp_path, ModelSpec(str(tiny_models[0])), max_batch_size=3, precision=precision, device="cpu"
    )
    greedy = Sampling(temperature=0.0, max_new_tokens=10, stop=())
    together = backend.generate(PROMPTS, 1, greedy)
    alone = [backend.generate([p], 1, greedy)[0] for p in PROMPTS]
    assert together == alone


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_shared_prefix_prefill_gives_the_same_output_as_plain_batching(tiny_models, tmp_path, precision):
    shared = (
        "-- Database: concert\nCREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, age INTEGER);\n"
        * 3
    )
    prompts = [
        shared + "-- Question: How many singers?\n-- SQL:",
        shared + "-- Question: List the names of singers older than 30.\n-- SQL:",
    ]
    greedy = Sampling(temperature=0.0, max_new_tokens=12, stop=())
    cpu = dict(max_batch_size=8, precision=precision, device="cpu")  # exactness across shapes: CPU kernels
    sharing = TransformersBackend(tmp_path, ModelSpec(str(tiny_models[0])), prefix_sharing=True, **cpu)
    plain = TransformersBackend(tmp_path, ModelSpec(str(tiny_models[0])), prefix_sharing=False, **cpu)
    assert sharing.generate(prompts, 2, greedy) == plain.generate(prompts, 2, greedy)
    assert [s[0] for s in sharing.generate(prompts, 1, greedy)] == [
        plain.generate([p], 1, greedy)[0][0] for p in prompts
    ]


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_a_prefix_prefilled_by_an_earlier_call_is_reused_with_the_same_output(
    tiny_models, tmp_path, precision
):
    shared = "-- Database: concert\nCREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT);\n" * 3
    first = [shared + "-- Question: How many singers?\n-- SQL:", shared + "-- Question: Name them.\n-- SQL:"]
    second = [shared + "-- Question: Who is oldest?\n-- SQL:", shared + "-- Question: Count names.\n-- SQL:"]
    greedy = Sampling(temperature=0.0, max_new_tokens=12, stop=())

    def make() -> TransformersBackend:
        return TransformersBackend(  # on the CPU: exact equality across batch shapes is its kernels'
            tmp_path, ModelSpec(str(tiny_models[0])), max_batch_size=8, precision=precision, device="cpu"
        )

    warm = make()
    warm.generate(first, 1, greedy)
    prefixes = warm._current.prefixes
    assert (prefixes.hits, prefixes.misses) == (0, 1)
    expected = make().generate(second, 2, greedy)  # a fresh cache
    assert warm.generate(second, 2, greedy) == expected
    assert warm.generate(second, 2, greedy) == expected  # the stored prefix was not changed by use
    assert prefixes.hits == 2
    warm.load(ModelSpec(str(tiny_models[1])))  # another model: its own, empty cache
    assert warm._current.prefixes.hits == warm._current.prefixes.misses == 0


def test_compact_and_static_decoding_loops_answer_as_transformers_generate(tiny_models, tmp_path):
    """The CPU's loop (finished rows leave the batch, the cache written in place) and the GPU's
    (static cache, rows padded to a power of two, run eagerly here) against generate(), through the
    backend: shared-prefix batches, several samples, stop sequences; batches of 3 rows pad to 4. On
    the CPU, where equality across batch shapes holds (test_static_decoding checks a GPU's graphs)."""
    shared = "-- Database: concert\nCREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT);\n" * 3
    prompts = [
        shared + "-- Question: How many singers?\n-- SQL:",
        shared + "-- Question: Name them.\n-- SQL:",
    ]
    greedy = Sampling(temperature=0.0, max_new_tokens=14, stop=("(", " FROM"))
    loops = {
        loop: TransformersBackend(
            tmp_path, ModelSpec(str(tiny_models[0])), max_batch_size=3, decode_loop=loop, device="cpu"
        )
        for loop in ("compact", "generate", "static", "auto")
    }
    assert loops["auto"].decode_loop == "compact"  # auto: static only on a GPU
    assert loops["static"]._current.static is not None and loops["compact"]._current.static is None
    for batch in (prompts, PROMPTS):
        reference = loops["generate"].generate(batch, 2, greedy)
        assert loops["compact"].generate(batch, 2, greedy) == reference
        assert loops["static"].generate(batch, 2, greedy) == reference
    with pytest.raises(ValueError, match="decode_loop"):
        TransformersBackend(tmp_path, ModelSpec(str(tiny_models[0])), decode_loop="beam")


def test_stop_sequences_cut_the_output(backend):
    greedy = Sampling(temperature=0.0, max_new_tokens=16, stop=())
    full = backend.generate(PROMPTS[:1], 1, greedy)[0][0]
    assert len(full) > 4
    stop = full[2:4]
    cut = backend.generate(PROMPTS[:1], 1, Sampling(temperature=0.0, max_new_tokens=16, stop=(stop,)))[0][0]
    assert stop not in cut and full.startswith(cut)


def test_hot_swap_keeps_in_flight_calls_on_the_old_model(tiny_models, tmp_path):
    backend = TransformersBackend(tmp_path, ModelSpec(str(tiny_models[0]), version="a"), max_batch_size=2)
    greedy = Sampling(temperature=0.0, max_new_tokens=12, stop=())
    expected_a = backend.generate(PROMPTS, 1, greedy)
    results: dict = {}

    def in_flight() -> None:
        results["out"] = backend.generate(PROMPTS * 4, 1, greedy)

    worker = threading.Thread(target=in_flight)
    with backend.generate_lock:  # the call starts (takes its model) and waits for the lock
        worker.start()
        time.sleep(0.5)
        info = backend.load(ModelSpec(str(tiny_models[1]), version="b"))
    worker.join()
    assert info.version == "b" and backend.info().version == "b"
    expected_b = backend.generate(PROMPTS, 1, greedy)
    assert expected_b != expected_a  # new calls use the new model
    assert results["out"] == expected_a * 4  # every batch of the in-flight call stayed on the old one


def test_lora_adapter_loads_on_top_of_the_base(tiny_models, tmp_path):
    from peft import LoraConfig, get_peft_model

    from shared.packaged_models import load_causal_lm

    model, _ = load_causal_lm(str(tiny_models[0]))
    peft_model = get_peft_model(
        model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    )
    peft_model.save_pretrained(tmp_path / "adapter")
    backend = TransformersBackend(
        tmp_path / "models", ModelSpec(str(tiny_models[0]), str(tmp_path / "adapter"), "v1")
    )
    assert backend.info().adapter_path == str(tmp_path / "adapter")
    base = TransformersBackend(tmp_path / "models", ModelSpec(str(tiny_models[0])))
    greedy = Sampling(temperature=0.0, max_new_tokens=10, stop=())
    assert backend.generate(PROMPTS, 1, greedy) != base.generate(PROMPTS, 1, greedy)


def test_missing_model_is_a_failed_precondition(tmp_path):
    with pytest.raises(FailedPrecondition, match="cannot load model"):
        TransformersBackend(tmp_path, ModelSpec(str(tmp_path / "nowhere")))


def test_generator_validates_requests(backend, spider_dir):
    generator = Generator(Catalogue.load(spider_dir), backend, SEEDS)
    with pytest.raises(NotFound):
        list(generator.generate_pairs("nope", 1))
    with pytest.raises(InvalidArgument, match="n must be positive"):
        list(generator.generate_pairs("concert", 0))
    with pytest.raises(InvalidArgument, match="at most"):
        list(generator.generate_pairs("concert", 10_000))
    with pytest.raises(InvalidArgument, match="hardness"):
        list(generator.generate_pairs("concert", 1, hardness="impossible"))
    with pytest.raises(InvalidArgument, match="questions is empty"):
        generator.generate_sql([], 1)
    with pytest.raises(InvalidArgument, match="temperature"):
        generator.generate_sql([QuestionIn("1", "concert", "q")], 1, sampling=Sampling(temperature=-1))
    with pytest.raises(InvalidArgument, match="context window"):
        generator.generate_sql([QuestionIn("1", "concert", "why " * 5000)], 1)


def test_generator_counts_dropped_outputs(backend, spider_dir):
    generator = Generator(Catalogue.load(spider_dir), backend, SEEDS)
    results, _version = generator.generate_sql(
        [QuestionIn("q1", "concert", "How many singers are there?")],
        2,
        sampling=Sampling(temperature=1.0, max_new_tokens=6, seed=3),
    )
    assert results[0].question_id == "q1"
    assert len(results[0].sql) + len(results[0].dropped) == 2
    assert sum(generator.dropped.values()) == len(results[0].dropped)


def test_generate_sql_takes_as_many_samples_as_a_run_may_ask(backend, spider_dir):
    """StartRun allows samples_per_question up to shared/limits.MAX_SAMPLES: GENERATE must too (it
    once stopped at 64, and a run of 65-256 samples failed at its first GENERATE)."""
    generator = Generator(Catalogue.load(spider_dir), backend, SEEDS)
    question = [QuestionIn("q1", "concert", "How many singers are there?")]
    results, _ = generator.generate_sql(
        question, MAX_SAMPLES, sampling=Sampling(temperature=1.0, max_new_tokens=2)
    )
    assert len(results[0].sql) + len(results[0].dropped) == MAX_SAMPLES
    with pytest.raises(InvalidArgument, match=f"n must be at most {MAX_SAMPLES}"):
        generator.generate_sql(question, MAX_SAMPLES + 1)


# --- TGI backend (recorded-protocol server; no TGI can run here) ---------------------------------


def test_tgi_backend_against_recorded_protocol_server_sends_adapter_and_sampling():
    server = FakeTgiServer([" SELECT count(*) FROM singer;\n\n-- Question: more"])
    try:
        backend = TgiBackend(
            server.url, timeout=5, spec=ModelSpec(path="base", adapter_path="round-3", version="v3")
        )
        out = backend.generate(
            ["p1", "p2"], 2, Sampling(temperature=0.7, top_p=0.9, max_new_tokens=32, seed=10)
        )
        assert out == [[" SELECT count(*) FROM singer;"] * 2] * 2
        assert len(server.requests) == 4
        params = server.requests[0]["parameters"]
        assert (
            params["adapter_id"] == "round-3"
            and params["max_new_tokens"] == 32
            and params["do_sample"] is True
        )
        assert params["temperature"] == pytest.approx(0.7) and params["top_p"] == pytest.approx(0.9)
        assert sorted(r["parameters"]["seed"] for r in server.requests) == [10, 11, 12, 13]
        assert backend.info().version == "v3" and backend.info().backend == "tgi"
    finally:
        server.close()


def test_tgi_backend_against_recorded_protocol_server_retries_then_gives_up():
    flaky = FakeTgiServer([" SELECT 1;"], fail_first=2)
    try:
        backend = TgiBackend(flaky.url, timeout=5, retries=3)
        assert backend.generate(["p"], 1, Sampling()) == [[" SELECT 1;"]]
        assert len(flaky.requests) == 3
    finally:
        flaky.close()
    down = FakeTgiServer([" SELECT 1;"], fail_first=100)
    try:
        with pytest.raises(Unavailable, match="failed after 2 tries"):
            TgiBackend(down.url, timeout=5, retries=1).generate(["p"], 1, Sampling())
    finally:
        down.close()
    dropped = FakeTgiServer([" SELECT 1;"], fail_first=2, fail_status=0)  # connections cut, no reply
    try:
        assert TgiBackend(dropped.url, timeout=5, retries=3).generate(["p"], 1, Sampling()) == [
            [" SELECT 1;"]
        ]
        assert len(dropped.requests) == 3  # a transport error is retried like a 503
    finally:
        dropped.close()
    refused = FakeTgiServer([" SELECT 1;"], fail_first=100, fail_status=422)
    try:
        with pytest.raises(FailedPrecondition, match="refused"):
            TgiBackend(refused.url, timeout=5, retries=3).generate(["p"], 1, Sampling())
        assert len(refused.requests) == 1  # client errors are not retried
    finally:
        refused.close()


# --- the real gRPC service --------------------------------------------------------------------


@pytest.fixture(scope="module")
def tgi_generation_service(tmp_path_factory, spider_dir):
    fake = FakeTgiServer(
        [
            " How many singers are there?\n-- SQL: SELECT count(*) FROM singer;",
            " not a pair at all",
            " Which stadiums are the largest?\n-- SQL: SELECT name FROM stadium ORDER BY capacity DESC LIMIT 1;",
        ]
    )
    service = start_service(
        "generation",
        tmp_path_factory.mktemp("gen"),
        dataset=spider_dir,
        extra_env={
            "SQLDISTILL_GENERATION__BACKEND": "tgi",
            "SQLDISTILL_GENERATION__TGI_URL": fake.url,
            "SQLDISTILL_GENERATION__MAX_BATCH_SIZE": "3",
        },
    )
    yield service, fake
    stop_service(service)
    fake.close()


def test_service_streams_pairs_from_a_tgi_backend_with_recorded_protocol(tgi_generation_service):
    service, _fake = tgi_generation_service
    stub = generation_pb2_grpc.GenerationServiceStub(make_channel(service.target))
    pairs = list(
        stub.GeneratePairs(
            generation_pb2.GeneratePairsRequest(db_id="concert", n=4, hardness="easy"), timeout=60
        )
    )
    assert len(pairs) == 4
    assert {p.sql for p in pairs} == {
        "SELECT count(*) FROM singer",
        "SELECT name FROM stadium ORDER BY capacity DESC LIMIT 1",
    }
    assert all(p.db_id == "concert" and p.hardness == "easy" for p in pairs)
    info = stub.DescribeModel(generation_pb2.DescribeModelRequest(), timeout=10)
    assert info.backend == "tgi"


def test_pairs_with_focuses_ask_about_each_table_and_join_path_in_turn(tgi_generation_service):
    service, fake = tgi_generation_service
    stub = generation_pb2_grpc.GenerationServiceStub(make_channel(service.target))
    focus = [
        generation_pb2.TableFocus(tables=["singer"]),
        generation_pb2.TableFocus(tables=["CONCERT", "stadium"]),  # spelled as the schema spells it
    ]
    before = len(fake.requests)
    pairs = list(
        stub.GeneratePairs(
            generation_pb2.GeneratePairsRequest(db_id="concert", n=2, levels=["easy", "hard"], focus=focus),
            timeout=60,
        )
    )
    assert len(pairs) == 2 and {p.hardness for p in pairs} <= {"easy", "hard"}
    prompts = [r["inputs"] for r in fake.requests[before:]]
    tails = [p.rsplit("-- Database: concert", 1)[1] for p in prompts]
    assert any("-- Complexity: easy" in t and "-- Tables: singer\n-- Question:" in t for t in tails)
    assert any("-- Complexity: hard" in t and "-- Tables: concert, stadium\n-- Question:" in t for t in tails)
    with pytest.raises(grpc.RpcError) as info:
        list(
            stub.GeneratePairs(
                generation_pb2.GeneratePairsRequest(
                    db_id="concert", n=1, focus=[generation_pb2.TableFocus(tables=["atlantis"])]
                ),
                timeout=10,
            )
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "atlantis" in info.value.details()


def test_a_repair_shows_the_model_its_failing_sql_and_the_database_error(tgi_generation_service):
    service, fake = tgi_generation_service
    stub = generation_pb2_grpc.GenerationServiceStub(make_channel(service.target))
    before = len(fake.requests)
    stub.GenerateSql(
        generation_pb2.GenerateSqlRequest(
            questions=[
                generation_pb2.QuestionItem(
                    id="r",
                    db_id="concert",
                    question="How many singers are there?",
                    failed_sql="SELECT count(*) FROM singers",
                    error="no such table: singers",
                ),
                generation_pb2.QuestionItem(id="p", db_id="concert", question="How many singers are there?"),
            ],
            n=1,
        ),
        timeout=30,
    )
    prompts = [r["inputs"] for r in fake.requests[before:]]
    (repair,) = [p for p in prompts if "-- Failed SQL:" in p]  # sent in any order
    (plain,) = [p for p in prompts if p != repair]
    assert repair.endswith(
        "-- Question: How many singers are there?\n"
        "-- Failed SQL: SELECT count(*) FROM singers;\n-- Error: no such table: singers\n-- SQL:"
    )
    assert plain.endswith("-- Question: How many singers are there?\n-- SQL:")
    assert repair.removesuffix(
        "-- Failed SQL: SELECT count(*) FROM singers;\n-- Error: no such table: singers\n-- SQL:"
    ) == plain.removesuffix("-- SQL:")


def test_review_through_tgi_sums_the_log_probabilities_of_the_questions_own_tokens(tgi_generation_service):
    """TGI returns every input token's log-probability (decoder_input_details); the review adds up
    those of the question after each SQL, and nothing of the prompt or the SQL before it."""
    service, fake = tgi_generation_service
    stub = generation_pb2_grpc.GenerationServiceStub(make_channel(service.target))
    assert stub.DescribeModel(generation_pb2.DescribeModelRequest(), timeout=10).reviews
    before = len(fake.requests)
    sqls = ["SELECT count(*) FROM singer", "SELECT name FROM singer WHERE age > 30 ORDER BY name"]
    reply = stub.ReviewSql(
        generation_pb2.ReviewSqlRequest(db_id="concert", question="How many singers are there?", sql=sqls),
        timeout=30,
    )
    pieces = [" How", " many", " singers", " are", " there?", "\n"]
    expected = sum(default_scorer("", piece) for piece in pieces)
    assert list(reply.logprob) == pytest.approx([expected, expected])  # the scorer reads pieces only
    asked = sorted(fake.requests[before:], key=lambda r: len(r["inputs"]))
    assert len(asked) == 2
    for request, sql in zip(asked, sqls, strict=True):
        assert request["parameters"]["decoder_input_details"] and request["parameters"]["details"]
        assert request["inputs"].endswith(f"-- SQL: {sql};\n-- Question: How many singers are there?\n")
    # A scorer that reads what came before: the SQL that explains the question better scores higher.
    fake.scorer = lambda before, piece: -1.0 if "count(*)" in before.rsplit("-- SQL:", 1)[-1] else -3.0
    rescored = stub.ReviewSql(
        generation_pb2.ReviewSqlRequest(db_id="concert", question="How many singers are there?", sql=sqls),
        timeout=30,
    )
    fake.scorer = default_scorer
    assert list(rescored.logprob) == pytest.approx([-6.0, -18.0])


def test_service_stream_can_be_cancelled(tgi_generation_service):
    service, fake = tgi_generation_service
    stub = generation_pb2_grpc.GenerationServiceStub(make_channel(service.target))
    before = len(fake.requests)
    stream = stub.GeneratePairs(generation_pb2.GeneratePairsRequest(db_id="concert", n=200), timeout=60)
    next(stream)
    stream.cancel()
    with pytest.raises(grpc.RpcError) as info:
        list(stream)
    assert info.value.code() == grpc.StatusCode.CANCELLED
    import time

    time.sleep(1.0)
    assert len(fake.requests) - before < 600  # generation stopped well before 3n attempts


def test_service_rejects_bad_requests(tgi_generation_service):
    service, _fake = tgi_generation_service
    stub = generation_pb2_grpc.GenerationServiceStub(make_channel(service.target))
    cases = [
        (
            lambda: list(
                stub.GeneratePairs(generation_pb2.GeneratePairsRequest(db_id="concert", n=0), timeout=10)
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "n must be positive",
        ),
        (
            lambda: list(
                stub.GeneratePairs(generation_pb2.GeneratePairsRequest(db_id="nope", n=1), timeout=10)
            ),
            grpc.StatusCode.NOT_FOUND,
            "unknown database",
        ),
        (
            lambda: list(
                stub.GeneratePairs(generation_pb2.GeneratePairsRequest(db_id="concert", n=100000), timeout=10)
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "at most",
        ),
        (
            lambda: stub.GenerateSql(generation_pb2.GenerateSqlRequest(n=1), timeout=10),
            grpc.StatusCode.INVALID_ARGUMENT,
            "questions is empty",
        ),
        (
            lambda: stub.LoadModel(generation_pb2.LoadModelRequest(), timeout=10),
            grpc.StatusCode.INVALID_ARGUMENT,
            "model.path",
        ),
        (
            lambda: stub.ReviewSql(
                generation_pb2.ReviewSqlRequest(db_id="concert", question="How many singers?"), timeout=10
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "takes 1 to",
        ),
        (  # a remote server computes at its own precision: asking another is refused, not ignored
            lambda: stub.LoadModel(
                generation_pb2.LoadModelRequest(
                    model=common_pb2.ModelRef(path="smollm2-135m-instruct", version="v"),
                    slot=generation_pb2.MODEL_SLOT_WORK,
                    precision="int8",
                ),
                timeout=10,
            ),
            grpc.StatusCode.FAILED_PRECONDITION,
            "needs generation.backend transformers",
        ),
        (
            lambda: stub.LoadModel(
                generation_pb2.LoadModelRequest(
                    model=common_pb2.ModelRef(path="smollm2-135m-instruct", version="v"),
                    precision="int4; rm -rf /",
                ),
                timeout=10,
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "precision must be one of",
        ),
        (
            lambda: stub.GenerateSql(
                generation_pb2.GenerateSqlRequest(
                    questions=[generation_pb2.QuestionItem(id="q", db_id="concert", question="How many?")],
                    n=1,
                    constrain="'; DROP TABLE singer; --",
                ),
                timeout=10,
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "constrain must be one of off, identifiers, full",
        ),
        (
            lambda: stub.GenerateSql(
                generation_pb2.GenerateSqlRequest(
                    questions=[
                        generation_pb2.QuestionItem(
                            id="q", db_id="concert", question="How many?", failed_sql="SELECT nme FROM singer"
                        )
                    ],
                    n=1,
                ),
                timeout=10,
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "question q: a repair needs both failed_sql and error",
        ),
        (
            lambda: stub.GenerateSql(
                generation_pb2.GenerateSqlRequest(
                    questions=[generation_pb2.QuestionItem(id="q", db_id="concert", question="How many?")],
                    n=4,
                    example_sets=-3,
                ),
                timeout=10,
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "example_sets must be within [1, 8]",
        ),
    ]
    for call, code, message in cases:
        with pytest.raises(grpc.RpcError) as info:
            call()
        assert info.value.code() == code and message in info.value.details()
    reply = stub.GenerateSql(
        generation_pb2.GenerateSqlRequest(
            questions=[generation_pb2.QuestionItem(id="q", db_id="concert", question="How many?")],
            n=2,
            sampling=common_pb2.SamplingParams(temperature=0.5),
        ),
        timeout=30,
    )
    assert (
        reply.results[0].question_id == "q" and len(reply.results[0].sql) + len(reply.results[0].dropped) == 2
    )
    assert reply.constrain == "off"  # the service's default
    # TGI takes no context-free grammar: the reply says plainly that the SQL was written unconstrained.
    question = generation_pb2.QuestionItem(id="q", db_id="concert", question="How many?")
    held = stub.GenerateSql(
        generation_pb2.GenerateSqlRequest(questions=[question], n=1, constrain="full"), timeout=30
    )
    assert held.constrain == "off"
    pair = next(
        stub.GeneratePairs(generation_pb2.GeneratePairsRequest(db_id="concert", n=1, constrain="full"))
    )
    assert pair.constrain == "off"


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def test_service_with_tiny_transformers_model_loads_and_hot_swaps(tmp_path, spider_dir, tiny_models):
    service = start_service(
        "generation",
        tmp_path,
        dataset=spider_dir,
        extra_env={
            "SQLDISTILL_GENERATION__MODEL": str(tiny_models[0]),
            "SQLDISTILL_GENERATION__VERSION": "tiny-a",
        },
    )
    try:
        stub = generation_pb2_grpc.GenerationServiceStub(make_channel(service.target))
        info = stub.DescribeModel(generation_pb2.DescribeModelRequest(), timeout=10)
        device = "cuda" if _cuda() else "cpu"  # the service's `auto` device
        assert (info.version, info.backend, info.device) == ("tiny-a", "transformers", device)
        assert info.num_parameters > 0
        reply = stub.GenerateSql(
            generation_pb2.GenerateSqlRequest(
                questions=[
                    generation_pb2.QuestionItem(id="q", db_id="concert", question="How many singers?")
                ],
                n=2,
                sampling=common_pb2.SamplingParams(max_new_tokens=8),
            ),
            timeout=60,
        )
        assert (
            len(reply.results[0].sql) + len(reply.results[0].dropped) == 2 and reply.model_version == "tiny-a"
        )
        held = stub.GenerateSql(
            generation_pb2.GenerateSqlRequest(
                questions=[
                    generation_pb2.QuestionItem(id="q", db_id="concert", question="How many singers?")
                ],
                n=2,
                sampling=common_pb2.SamplingParams(max_new_tokens=24),
                constrain="full",
            ),
            timeout=60,
        )
        assert held.constrain == "full"  # a random model's SQL, every token the grammar allowed
        assert all(sql.upper().startswith("SELECT") for sql in held.results[0].sql)
        review = generation_pb2.ReviewSqlRequest(
            db_id="concert",
            question="How many singers?",
            sql=["SELECT count(*) FROM singer", "SELECT name FROM singer"],
        )
        reviewed = stub.ReviewSql(review, timeout=60)
        assert len(reviewed.logprob) == 2 and all(lp < 0 for lp in reviewed.logprob)
        assert reviewed.model_version == "tiny-a" and reviewed.logprob[0] != reviewed.logprob[1]
        assert GenerationClient(stub, passed_on).review(
            "concert", "How many singers?", list(review.sql), shots=2
        ) == pytest.approx(list(reviewed.logprob))
        for bad, code, match in (
            (dict(sql=["SELECT 1"] * 65), grpc.StatusCode.INVALID_ARGUMENT, "1 to 64"),
            (dict(question=" "), grpc.StatusCode.INVALID_ARGUMENT, "question is required"),
            (dict(db_id="../etc"), grpc.StatusCode.NOT_FOUND, "unknown database"),
            (dict(few_shot_k=10_000), grpc.StatusCode.INVALID_ARGUMENT, "few_shot_k"),
        ):
            hostile = generation_pb2.ReviewSqlRequest()
            hostile.CopyFrom(review)
            for field, value in bad.items():
                if field == "sql":
                    del hostile.sql[:]
                    hostile.sql.extend(value)
                else:
                    setattr(hostile, field, value)
            with pytest.raises(grpc.RpcError) as info:
                stub.ReviewSql(hostile, timeout=10)
            assert info.value.code() == code and match in info.value.details(), info.value.details()
        swapped = stub.LoadModel(
            generation_pb2.LoadModelRequest(
                model=common_pb2.ModelRef(path=str(tiny_models[1]), version="tiny-b")
            ),
            timeout=60,
        )
        assert swapped.version == "tiny-b"
        assert stub.DescribeModel(generation_pb2.DescribeModelRequest(), timeout=10).version == "tiny-b"
        with pytest.raises(grpc.RpcError) as info:
            stub.LoadModel(
                generation_pb2.LoadModelRequest(model=common_pb2.ModelRef(path=str(tmp_path / "missing"))),
                timeout=60,
            )
        assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert (
            stub.DescribeModel(generation_pb2.DescribeModelRequest(), timeout=10).version == "tiny-b"
        )  # unchanged
    finally:
        stop_service(service)


def test_the_work_slot_evaluates_beside_what_serves(tmp_path, spider_dir, tiny_models):
    """A candidate loaded into the work slot answers requests that name the slot; the serving slot,
    and every request that names no slot, stay on the serving model throughout."""
    service = start_service(
        "generation",
        tmp_path,
        dataset=spider_dir,
        extra_env={
            "SQLDISTILL_GENERATION__MODEL": str(tiny_models[0]),
            "SQLDISTILL_GENERATION__VERSION": "a",
        },
    )
    work = generation_pb2.MODEL_SLOT_WORK
    try:
        stub = generation_pb2_grpc.GenerationServiceStub(make_channel(service.target))
        with pytest.raises(grpc.RpcError) as info:
            stub.DescribeModel(generation_pb2.DescribeModelRequest(slot=work), timeout=10)
        assert (
            info.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "work slot" in info.value.details()
        )
        loaded = stub.LoadModel(
            generation_pb2.LoadModelRequest(
                model=common_pb2.ModelRef(path=str(tiny_models[1]), version="b"), slot=work
            ),
            timeout=60,
        )
        assert (loaded.version, loaded.slot) == ("b", work)

        def ask(slot=generation_pb2.MODEL_SLOT_SERVING):
            request = generation_pb2.GenerateSqlRequest(
                questions=[
                    generation_pb2.QuestionItem(id="q", db_id="concert", question="How many singers?")
                ],
                n=1,
                sampling=common_pb2.SamplingParams(max_new_tokens=4),
                slot=slot,
            )
            return stub.GenerateSql(request, timeout=60).model_version

        assert (ask(), ask(work)) == ("a", "b")
        pairs = list(
            stub.GeneratePairs(
                generation_pb2.GeneratePairsRequest(
                    db_id="concert", n=1, sampling=common_pb2.SamplingParams(max_new_tokens=8), slot=work
                ),
                timeout=60,
            )
        )
        assert all(p.model_version == "b" for p in pairs)
        assert stub.DescribeModel(generation_pb2.DescribeModelRequest(), timeout=10).version == "a"
        # GENERATE's int8 copy: the work slot computes in int8, what serves stays fp32
        loaded = stub.LoadModel(
            generation_pb2.LoadModelRequest(
                model=common_pb2.ModelRef(path=str(tiny_models[0]), version="a"), slot=work, precision="int8"
            ),
            timeout=120,
        )
        assert (loaded.version, loaded.precision) == ("a", "int8")
        assert ask(work) == "a"
        serving = stub.DescribeModel(generation_pb2.DescribeModelRequest(), timeout=10)
        assert (serving.version, serving.precision) == ("a", "fp32")
        # The controller's client reloads a version held at another format (the gate asks at the
        # service's own) and keeps one held at the format asked for.
        client = GenerationClient(stub, passed_on)
        client.in_work_slot(ServedModel("a", str(tiny_models[0])))
        assert client.describe(work).precision == "fp32"
        client.in_work_slot(ServedModel("a", str(tiny_models[0])), "int8")
        assert (client.describe(work).version, client.describe(work).precision) == ("a", "int8")
        raw = (
            generation_pb2.DescribeModelRequest(slot=work)
            .SerializeToString()
            .replace(b"\x08\x01", b"\x08\x07")
        )
        describe = make_channel(service.target).unary_unary(
            "/sqldistill.v1.GenerationService/DescribeModel",
            request_serializer=lambda data: data,
            response_deserializer=generation_pb2.ModelInfo.FromString,
        )
        with pytest.raises(grpc.RpcError) as info:
            describe(raw, timeout=10)  # an enum value this service does not know
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "slot" in info.value.details()
    finally:
        stop_service(service)
