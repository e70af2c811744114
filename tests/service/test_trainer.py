"""The trainer service: local jobs through the real gRPC service (submit, watch, cancel, bad jobs,
queueing), the local launcher on two processes, and Kubernetes Jobs (schema + fake API server)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import grpc
import pytest
import yaml

from services.trainer.launchers import DEFAULT_JOB_TEMPLATE, KubernetesLauncher, build_job, job_name
from shared.grpc_client import make_channel
from shared.pb import common_pb2, trainer_pb2, trainer_pb2_grpc
from testbed.processes import start_service, stop_service
from tests.support.fake_kube_api import FakeKubeApi
from tests.support.training_fixtures import DDP, train_spec


def _submit(stub, dataset, base, round_number=1, **params):
    path, digest = dataset
    return stub.SubmitJob(
        trainer_pb2.SubmitJobRequest(
            run_id="run-1",
            round=round_number,
            dataset_hash=digest,
            dataset_path=str(path),
            base_model=common_pb2.ModelRef(path=str(base)),
            params=trainer_pb2.TrainingParams(
                max_steps=params.get("max_steps", 6), batch_size=4, learning_rate=5e-3, lora_rank=4
            ),
        ),
        timeout=30,
    )


def test_service_runs_a_local_job_end_to_end(tmp_path, tiny_base, dataset):
    service = start_service("trainer", tmp_path)
    try:
        stub = trainer_pb2_grpc.TrainerServiceStub(make_channel(service.target))
        job = _submit(stub, dataset, tiny_base)
        assert job.state in (trainer_pb2.JOB_STATE_RUNNING, trainer_pb2.JOB_STATE_PENDING) and job.job_id
        again = _submit(stub, dataset, tiny_base)
        assert again.job_id == job.job_id  # idempotent: no second job for the same round and dataset
        updates = list(stub.WatchJob(trainer_pb2.JobRef(job_id=job.job_id), timeout=300))
        assert updates[-1].state == trainer_pb2.JOB_STATE_SUCCEEDED
        steps = [u.step for u in updates if u.state == trainer_pb2.JOB_STATE_RUNNING]
        assert steps == sorted(steps) and steps[-1] == 6 and updates[-1].total_steps == 6
        done = updates[-1].job
        assert Path(done.artifact_path, "manifest.json").is_file() and done.final_loss > 0
        assert (
            stub.GetJob(trainer_pb2.JobRef(job_id=job.job_id), timeout=10).state
            == trainer_pb2.JOB_STATE_SUCCEEDED
        )

        crashed = stub.SubmitJob(
            trainer_pb2.SubmitJobRequest(
                run_id="run-1",
                round=2,
                dataset_hash=dataset[1],
                dataset_path=str(dataset[0]),
                base_model=common_pb2.ModelRef(
                    path=str(tmp_path)
                ),  # a folder with no model in it: training crashes
            ),
            timeout=30,
        )
        final = list(stub.WatchJob(trainer_pb2.JobRef(job_id=crashed.job_id), timeout=300))[-1]
        assert final.state == trainer_pb2.JOB_STATE_FAILED and "exited with code" in final.job.error
        # The error carries the log tail, ending with the exception that ended the job.
        assert re.search(r"(?m)^[A-Za-z.]*Error: ", final.job.error), final.job.error
        assert not Path(tmp_path / "home" / "models" / "versions" / final.job.version).exists()
    finally:
        stop_service(service)


def test_service_rejects_bad_jobs(tmp_path, tiny_base, dataset):
    service = start_service("trainer", tmp_path)
    try:
        stub = trainer_pb2_grpc.TrainerServiceStub(make_channel(service.target))
        empty = tmp_path / "empty.jsonl"
        empty.write_text("")
        cases = [
            (
                dict(dataset_path=str(empty), dataset_hash="0" * 64),
                grpc.StatusCode.FAILED_PRECONDITION,
                "is empty",
            ),
            (
                dict(dataset_path=str(dataset[0]), dataset_hash="f" * 64),
                grpc.StatusCode.FAILED_PRECONDITION,
                "hash mismatch",
            ),
            (
                dict(dataset_path=str(tmp_path / "nope.jsonl"), dataset_hash="0" * 64),
                grpc.StatusCode.FAILED_PRECONDITION,
                "does not exist",
            ),
            (
                dict(
                    dataset_path=str(dataset[0]),
                    dataset_hash=dataset[1],
                    base=str(tmp_path / "no-such-model"),
                ),
                grpc.StatusCode.FAILED_PRECONDITION,
                "base model",  # inside the roots: that it does not exist may be said
            ),
            (
                dict(dataset_path=str(dataset[0]), dataset_hash=dataset[1], base="/no/such/model"),
                grpc.StatusCode.INVALID_ARGUMENT,
                "inside the service's configured roots",
            ),
            (
                dict(dataset_path=str(dataset[0]), dataset_hash=dataset[1], run_id=""),
                grpc.StatusCode.INVALID_ARGUMENT,
                "run_id",
            ),
            (
                dict(dataset_path=str(dataset[0]), dataset_hash=dataset[1], parent="ghost"),
                grpc.StatusCode.FAILED_PRECONDITION,
                "parent version",
            ),
        ]
        for fields, code, message in cases:
            request = trainer_pb2.SubmitJobRequest(
                run_id=fields.get("run_id", "r"),
                round=1,
                dataset_path=fields["dataset_path"],
                dataset_hash=fields["dataset_hash"],
                base_model=common_pb2.ModelRef(path=fields.get("base", str(tiny_base))),
                parent_version=fields.get("parent", ""),
            )
            with pytest.raises(grpc.RpcError) as info:
                stub.SubmitJob(request, timeout=30)
            assert info.value.code() == code and message in info.value.details(), fields
        with pytest.raises(grpc.RpcError) as info:
            stub.GetJob(trainer_pb2.JobRef(job_id="missing"), timeout=10)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        stop_service(service)


def test_cancel_stops_a_running_job(tmp_path, tiny_base, dataset):
    service = start_service("trainer", tmp_path)
    try:
        stub = trainer_pb2_grpc.TrainerServiceStub(make_channel(service.target))
        job = _submit(stub, dataset, tiny_base, max_steps=100000)
        cancelled = stub.CancelJob(trainer_pb2.JobRef(job_id=job.job_id), timeout=30)
        assert cancelled.state == trainer_pb2.JOB_STATE_CANCELLED
        assert (
            list(stub.WatchJob(trainer_pb2.JobRef(job_id=job.job_id), timeout=30))[-1].state
            == trainer_pb2.JOB_STATE_CANCELLED
        )
    finally:
        stop_service(service)


# --- Kubernetes ---------------------------------------------------------------------------------


def test_job_built_from_the_template_validates_against_the_kubernetes_schema():
    template = yaml.safe_load(DEFAULT_JOB_TEMPLATE.read_text())
    job = build_job(
        template,
        "0123abcd",
        Path("/data/jobs/0123abcd/spec.json"),
        {"sqldistill.io/run": "run-1", "sqldistill.io/round": "2"},
        image="registry.local/sqldistill:1",
        namespace="ml",
    )
    kubernetes_validate = pytest.importorskip(
        "kubernetes_validate", reason="not installed (a bare GPU machine)"
    )
    kubernetes_validate.validate(job, kubernetes_validate.latest_version(), strict=True)
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["-m", "services.trainer.train", "/data/jobs/0123abcd/spec.json"]
    assert (
        container["resources"]["limits"]["nvidia.com/gpu"] == "1"
        and container["image"] == "registry.local/sqldistill:1"
    )
    assert (
        job["metadata"]["labels"]["sqldistill.io/round"] == "2"
        and job["metadata"]["name"] == "sqldistill-train-0123abcd"
    )
    assert job["spec"]["ttlSecondsAfterFinished"] > 0 and job["spec"]["backoffLimit"] >= 1


def test_a_job_of_several_processes_runs_torchrun_and_asks_for_a_gpu_each():
    template = yaml.safe_load(DEFAULT_JOB_TEMPLATE.read_text())
    job = build_job(template, "ab12", Path("/data/jobs/ab12/spec.json"), {}, processes=4)
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == [
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=4",
        "-m",
        "services.trainer.train",
        "/data/jobs/ab12/spec.json",
    ]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "4"
    assert container["resources"]["requests"]["nvidia.com/gpu"] == "4"
    assert (
        template["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    )


def test_the_local_launcher_runs_a_job_on_two_processes_and_cancels_every_rank(tmp_path, tiny_base, dataset):
    import psutil

    from services.trainer.launchers import LocalLauncher

    spec = train_spec(tmp_path, tiny_base, dataset, max_steps=4000, checkpoint_every=0, **DDP)
    spec_path = Path(spec.work_dir) / "spec.json"
    spec_path.parent.mkdir(parents=True)
    spec.dump(spec_path)
    launcher = LocalLauncher(processes=2)
    launcher.start("j1", spec_path, {})
    progress = Path(spec.work_dir) / "progress.jsonl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (progress.exists() and '"loss"' in progress.read_text()):
        time.sleep(0.1)
    assert launcher.status("j1").running
    ranks = [
        p
        for p in psutil.Process(launcher._processes["j1"].pid).children(recursive=True)
        if "services.trainer.train" in " ".join(p.cmdline())
    ]
    assert len(ranks) >= 2  # torchrun's two ranks
    launcher.cancel("j1")
    assert not launcher.status("j1").running
    time.sleep(1)
    assert not any(
        p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in ranks
    )  # no rank left behind


def test_kubernetes_launcher_against_a_fake_api_server_sends_the_exact_requests():
    pytest.importorskip("kubernetes", reason="the kubernetes client is not installed (a bare GPU machine)")
    api = FakeKubeApi()
    try:
        launcher = KubernetesLauncher("ml", api_client=api.api_client(), image="img:1")
        launcher.start("abc", Path("/data/jobs/abc/spec.json"), {"sqldistill.io/run": "r1"})
        create = api.requests[-1]
        assert (create["method"], create["path"]) == ("POST", "/apis/batch/v1/namespaces/ml/jobs")
        assert create["body"]["metadata"]["name"] == job_name("abc") and create["body"]["kind"] == "Job"
        launcher.start("abc", Path("/data/jobs/abc/spec.json"), {})  # a restart re-submits: 409 is adopted
        assert launcher.status("abc").running
        assert api.requests[-1]["path"] == f"/apis/batch/v1/namespaces/ml/jobs/{job_name('abc')}/status"
        api.jobs[job_name("abc")]["status"] = {
            "succeeded": 1,
            "conditions": [{"type": "Complete", "status": "True"}],
        }
        assert launcher.status("abc").exit_code == 0
        api.jobs[job_name("abc")]["status"] = {
            "failed": 3,
            "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}],
        }
        failed = launcher.status("abc")
        assert failed.exit_code == 1 and "BackoffLimitExceeded" in failed.message
        api.pod_logs[job_name("abc")] = "line 1\nCUDA out of memory\n"
        assert "CUDA out of memory" in launcher.log_tail("abc")
        launcher.cancel("abc")
        delete = api.requests[-1]
        assert delete["method"] == "DELETE" and delete["body"]["propagationPolicy"] == "Foreground"
        assert launcher.status("abc").exit_code is None  # gone
    finally:
        api.close()


def test_local_jobs_queue_behind_the_concurrency_limit(tmp_path, tiny_base, dataset):
    """Three submissions with distinct run ids on a 2-core machine: one training process at a time
    (the default), the others PENDING until a slot frees; the last, cancelled while queued, never
    starts; the rest finish."""
    service = start_service("trainer", tmp_path)
    try:
        stub = trainer_pb2_grpc.TrainerServiceStub(make_channel(service.target))
        path, digest = dataset
        jobs = [
            stub.SubmitJob(
                trainer_pb2.SubmitJobRequest(
                    run_id=f"run-{i}",
                    round=1,
                    dataset_hash=digest,
                    dataset_path=str(path),
                    base_model=common_pb2.ModelRef(path=str(tiny_base)),
                    params=trainer_pb2.TrainingParams(max_steps=2, batch_size=4, lora_rank=4),
                ),
                timeout=30,
            )
            for i in range(3)
        ]
        states = [stub.GetJob(trainer_pb2.JobRef(job_id=j.job_id), timeout=10).state for j in jobs]
        assert states.count(trainer_pb2.JOB_STATE_RUNNING) <= 1
        assert states.count(trainer_pb2.JOB_STATE_PENDING) >= 2
        stub.CancelJob(trainer_pb2.JobRef(job_id=jobs[-1].job_id), timeout=30)  # a queued job cancels
        seen_running = 0
        for job in jobs[:-1]:
            updates = list(stub.WatchJob(trainer_pb2.JobRef(job_id=job.job_id), timeout=300))
            assert updates[-1].state == trainer_pb2.JOB_STATE_SUCCEEDED
            running = [
                stub.GetJob(trainer_pb2.JobRef(job_id=j.job_id), timeout=10).state for j in jobs
            ].count(trainer_pb2.JOB_STATE_RUNNING)
            seen_running = max(seen_running, running)
        assert seen_running <= 1
        final = stub.GetJob(trainer_pb2.JobRef(job_id=jobs[-1].job_id), timeout=10)
        assert final.state == trainer_pb2.JOB_STATE_CANCELLED
        pids = list((tmp_path / "home" / "jobs").glob("*/pid"))
        assert len(pids) == 2  # the cancelled job never started a process
    finally:
        stop_service(service)
