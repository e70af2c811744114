"""The GPU benchmark's smoke mode: the tiny shape on the CPU through the same code a GPU run takes,
in a subprocess, as the GPU machine runs it; and what it may import there (torch, transformers and
peft, not this project's other dependencies)."""

from __future__ import annotations

import json
import subprocess
import sys

from benchmarks.gpu_bench import peak_tflops
from shared.config import REPO_ROOT as REPO

NOT_ON_THE_GPU_MACHINE = {"grpc", "sqlglot", "pydantic", "sqlalchemy", "typer", "rich", "alembic"}


def test_smoke_run_measures_every_combination_and_imports_only_what_a_gpu_machine_has(tmp_path):
    out = tmp_path / "gpu.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.gpu_bench", "--smoke", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["device"] == "cpu" and report["peak_bf16_tflops"] is None
    tiny = report["shapes"]["tiny"]
    combos = {(t["method"], t["packing"]) for t in tiny["training"]}
    assert combos == {(m, p) for m in ("lora", "lora_dropout", "full") for p in (False, True)}
    assert all(t["tokens_per_second"] > 0 and t["parameters"] > 0 for t in tiny["training"])
    assert all(t["padding_waste"] == 0 for t in tiny["training"] if t["packing"])
    assert {g["loop"] for g in tiny["generation"]} == {"compact", "static"}
    assert all(g["tokens_per_second"] > 0 for g in tiny["generation"])
    assert not NOT_ON_THE_GPU_MACHINE & set(report["modules"])


def test_peak_is_looked_up_by_the_most_specific_card_name():
    assert peak_tflops("NVIDIA H100 80GB HBM3") == 989.0
    assert peak_tflops("NVIDIA H100 PCIe") == 756.0
    assert peak_tflops("NVIDIA H200") == 989.0
    assert peak_tflops("NVIDIA GeForce RTX 2080") is None


def test_gpu_check_knows_a_version_for_every_carried_wheel_and_runs_existing_tests():
    from benchmarks.gpu_check import CARRIED, GPU_TESTS, pinned_versions

    pins = pinned_versions()
    assert set(CARRIED) <= set(pins), set(CARRIED) - set(pins)  # `make gpu-wheels` fetches exact versions
    assert all((REPO / path).is_file() for path in GPU_TESTS)


def test_the_constrained_decoding_benchmark_runs_every_strength_on_the_cpu(tmp_path):
    """gpu_constrain's smoke mode: the tiny shape with the tiny tokenizer, off / identifiers / full
    through both loops; a constrained run reports the time its masks took."""
    from testbed.tiny_models import make_tiny_model

    tokenizer = make_tiny_model(tmp_path / "tiny")
    out = tmp_path / "constrain.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.gpu_constrain",
            "--smoke",
            "--tokenizer",
            str(tokenizer),
            "--out",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    runs = json.loads(out.read_text())["runs"]
    assert {(r["loop"], r["constrain"]) for r in runs} == {
        (loop, mode) for loop in ("static", "compact") for mode in ("off", "identifiers", "full")
    }
    assert all(r["tokens_per_second"] > 0 for r in runs)
    assert all((r["mask_ms_per_step"] > 0) == (r["constrain"] != "off") for r in runs)
