"""Hostile RPC fields against the real trainer and generation services: traversal, absolute paths,
symlinks out of the roots, NUL, 10 MB strings, unknown enum values, negative and huge numbers.
Each is refused with INVALID_ARGUMENT (or NOT_FOUND) and a message that reveals nothing about the
file system, nothing is written outside the roots, and the service keeps SERVING."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import grpc
import pytest

from shared.grpc_client import check_health, make_channel
from shared.pb import common_pb2, generation_pb2, generation_pb2_grpc, trainer_pb2, trainer_pb2_grpc
from shared.training_data import file_hash
from testbed.processes import start_service, stop_service
from testbed.tiny_models import make_tiny_model

HUGE = "a" * 10_000_000
REFUSED = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND)


@pytest.fixture(scope="module")
def outside() -> Path:
    """A folder outside every root (not under pytest's temporary folder): nothing may appear in it."""
    folder = Path("/var/tmp") / f"sqldistill-outside-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    (folder / "secret.jsonl").write_text('{"db_id": "x", "question": "q", "sql": "SELECT 1"}\n')
    yield folder
    for path in sorted(folder.rglob("*"), reverse=True):
        path.unlink() if path.is_file() or path.is_symlink() else path.rmdir()
    folder.rmdir()


def _snapshot(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _refused(call, *args) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        result = call(*args, timeout=60)
        if hasattr(result, "__iter__") and not hasattr(result, "SerializeToString"):
            list(result)
    assert info.value.code() in REFUSED, (info.value.code(), info.value.details()[:200])
    assert info.value.details(), "a refusal says why"
    return info.value


def test_hostile_trainer_fields(tmp_path, tiny_base_for_fields, outside):
    service = start_service("trainer", tmp_path)
    stub = trainer_pb2_grpc.TrainerServiceStub(make_channel(service.target))
    dataset = tmp_path / "home" / "datasets" / "ok.jsonl"
    dataset.parent.mkdir(parents=True, exist_ok=True)
    dataset.write_text('{"db_id": "concert", "question": "How many?", "sql": "SELECT 1"}\n')
    digest = file_hash(dataset)
    link = dataset.parent / "escape.jsonl"
    link.symlink_to(outside / "secret.jsonl")
    secret_digest = file_hash(outside / "secret.jsonl")
    before = _snapshot(outside)

    def request(**fields):
        base = dict(
            run_id="r",
            round=1,
            dataset_hash=digest,
            dataset_path=str(dataset),
            base_model=common_pb2.ModelRef(path=str(tiny_base_for_fields)),
        )
        params = fields.pop("params", {})
        base.update(fields)
        return trainer_pb2.SubmitJobRequest(**base, params=trainer_pb2.TrainingParams(**params))

    cases = {
        "version traversal": request(version="../../../../var/tmp/escape"),
        "version slash": request(version=f"a/{outside}"),
        "version dot-dot": request(version=".."),
        "version NUL": request(version="v\x00"),
        "version 10 MB": request(version=HUGE),
        "parent traversal": request(parent_version="../../versions/x"),
        "run_id traversal": request(run_id="../../x"),
        "launcher traversal": request(launcher="../local"),
        "dataset outside": request(dataset_path=str(outside / "secret.jsonl"), dataset_hash=secret_digest),
        "dataset dot-dot": request(
            dataset_path=str(dataset.parent / ".." / ".." / ".." / ".." / "etc" / "passwd"),
            dataset_hash="0" * 64,
        ),
        "dataset symlink out": request(dataset_path=str(link), dataset_hash=secret_digest),
        "dataset relative": request(dataset_path="ok.jsonl"),
        "dataset NUL": request(dataset_path=str(dataset) + "\x00"),
        "dataset 10 MB": request(dataset_path=HUGE),
        "hash not hex": request(dataset_hash="../x"),
        "base outside": request(base_model=common_pb2.ModelRef(path=str(outside))),
        "base relative": request(base_model=common_pb2.ModelRef(path="../models")),
        "base hub id not allowed": request(base_model=common_pb2.ModelRef(path="evil/model")),
        "base /etc": request(base_model=common_pb2.ModelRef(path="/etc")),
        "negative round": request(round=-1),
        "huge round": request(round=2**31 - 1),
        "negative rank": request(params=dict(lora_rank=-4)),
        "huge batch": request(params=dict(batch_size=2**31 - 1)),
        "negative steps": request(params=dict(max_steps=-1)),
        "unknown method": request(params=dict(method="rm -rf")),
        "nan learning rate": request(params=dict(learning_rate=float("nan"))),
        "target module traversal": request(params=dict(target_modules=["../x"])),
    }
    try:
        for name, message in cases.items():
            error = _refused(stub.SubmitJob, message)
            assert str(outside) not in error.details() and "exist" not in error.details(), name
        assert check_health(make_channel(service.target)) == "SERVING"
        assert _snapshot(outside) == before
        assert not (tmp_path / "home" / "jobs").exists() or not any((tmp_path / "home" / "jobs").iterdir())
    finally:
        stop_service(service)


@pytest.fixture(scope="module")
def tiny_base_for_fields(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("hostile-base") / "tiny")


def test_hostile_generation_fields(tmp_path, spider_dir, tiny_base_for_fields, outside):
    service = start_service(
        "generation",
        tmp_path,
        dataset=spider_dir,
        extra_env={
            "SQLDISTILL_GENERATION__MODEL": str(tiny_base_for_fields),
            "SQLDISTILL_GENERATION__VERSION": "a",
        },
    )
    stub = generation_pb2_grpc.GenerationServiceStub(make_channel(service.target))
    link = tmp_path / "home" / "models" / "escape"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(outside)
    before = _snapshot(outside)

    def load(path="", adapter="", version="x"):
        return generation_pb2.LoadModelRequest(
            model=common_pb2.ModelRef(path=path, adapter_path=adapter, version=version)
        )

    def sql(n=1, k=None, **sampling):
        request = generation_pb2.GenerateSqlRequest(
            questions=[generation_pb2.QuestionItem(id="q", db_id="concert", question="How many?")],
            n=n,
            sampling=common_pb2.SamplingParams(**sampling),
        )
        if k is not None:
            request.few_shot_k = k
        return request

    loads = {
        "path outside": load(str(outside)),
        "path /etc": load("/etc"),
        "path traversal": load(str(tmp_path / "home" / "models") + "/.." * 20 + "/etc"),
        "path symlink out": load(str(link)),
        "path relative": load("../models/x"),
        "hub id not allowed": load("evil/model"),
        "path NUL": load(str(tiny_base_for_fields) + "\x00"),
        "path 10 MB": load(HUGE),
        "adapter outside": load(str(tiny_base_for_fields), adapter=str(outside)),
        "adapter relative": load(str(tiny_base_for_fields), adapter="../adapter"),
        "version traversal": load(str(tiny_base_for_fields), version="../../x"),
        "version 10 MB": load(str(tiny_base_for_fields), version=HUGE),
    }
    generates = {
        "n negative": sql(n=-1),
        "n huge": sql(n=2**31 - 1),
        "k negative": sql(k=-3),
        "k huge": sql(k=2**31 - 1),
        "temperature negative": sql(temperature=-1.0),
        "temperature nan": sql(temperature=float("nan")),
        "top_p huge": sql(top_p=1e9),
        "max tokens huge": sql(max_new_tokens=2**31 - 1),
        "max tokens negative": sql(max_new_tokens=-5),
        "unknown database": generation_pb2.GenerateSqlRequest(
            questions=[generation_pb2.QuestionItem(id="q", db_id="../../etc", question="q")], n=1
        ),
    }
    try:
        for name, message in loads.items():
            error = _refused(stub.LoadModel, message)
            assert str(outside) not in error.details() and "exist" not in error.details(), name
        for message in generates.values():
            _refused(stub.GenerateSql, message)
        _refused(
            stub.GeneratePairs,
            generation_pb2.GeneratePairsRequest(db_id="concert", n=1, hardness="../../x"),
        )
        assert stub.DescribeModel(generation_pb2.DescribeModelRequest(), timeout=10).version == "a"
        assert check_health(make_channel(service.target)) == "SERVING"
        assert _snapshot(outside) == before and os.path.islink(link)
    finally:
        stop_service(service)
