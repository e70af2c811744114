"""One command for a GPU machine (`make gpu-check`): the GPU-relevant tests and `gpu_bench`, within
about 8 minutes, writing a JSON of figures and a junit file, and printing every error in full.

It needs no network and nothing beyond torch, transformers and peft: the project's other Python
dependencies travel as wheels that `make gpu-wheels` downloads on a machine with a package index
(CPython 3.12, manylinux x86-64: what the GPU machines run), installed here into a private folder.

    python3 -m benchmarks.gpu_check [--out DIR] [--wheels .whl]       # on the GPU machine
    python -m benchmarks.gpu_check --download .whl                     # where pip can fetch
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = 8 * 60
TEST_SECONDS = 240  # the tests' share of the budget; gpu_bench gets the rest, shape by shape
# What a GPU machine's image lacks (or holds at another version than the generated code needs).
CARRIED = (
    "sqlalchemy",
    "alembic",
    "mako",
    "sqlglot",
    "pydantic",
    "pydantic-core",
    "pydantic-settings",
    "python-dotenv",
    "annotated-types",
    "typing-inspection",
    "grpcio",
    "grpcio-health-checking",
    "grpcio-reflection",
    "protobuf",
    "openai",
    "jiter",
    "sniffio",
    "llguidance",
    "pyyaml",
)
# The tests whose subject a GPU changes: decoding, the generation backend and service, training.
GPU_TESTS = (
    "tests/unit/test_decoding.py",
    "tests/unit/test_kv_cache.py",
    "tests/unit/test_static_decoding.py",
    "tests/service/test_generation.py",
    "tests/integration/test_training.py",
    "tests/service/test_trainer.py",
    "tests/integration/test_gpu_bench.py",
    "tests/unit/test_constrained_decoding.py",
)
CONSTRAIN_SECONDS = 150  # gpu_constrain's share: schema grammars' cost on the GPU's decoding loop
# The default model's tokenizer files (weights cannot travel): `make gpu-carry` copies them here.
TOKENIZER = REPO / ".gpu-carry" / "qwen2.5-tokenizer"
SHAPES = ("0.5b", "1.5b", "135m")  # the default model first: the figures the issues ask for


def pinned_versions() -> dict[str, str]:
    """name -> version, from pyproject's pins and the installed environment for the rest."""
    from importlib import metadata

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = {}
    for requirement in project["dependencies"]:
        name, _, version = requirement.partition("==")
        pins[name.strip().lower()] = version.split(";")[0].strip()
    for name in CARRIED:
        if name not in pins:
            try:
                pins[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                pass
    return pins


def download(folder: Path) -> int:
    """Wheels of CARRIED for CPython 3.12 on manylinux x86-64, at this project's versions."""
    folder.mkdir(parents=True, exist_ok=True)
    pins = pinned_versions()
    platforms = [f"manylinux_2_{n}_x86_64" for n in (17, 24, 27, 28, 31, 34, 35, 39)] + [
        "manylinux2014_x86_64",
        "manylinux1_x86_64",
    ]
    failed = []
    for name in CARRIED:
        spec = f"{name}=={pins[name]}" if name in pins else name
        command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:"]
        command += ["--python-version", "3.12", "--implementation", "cp", "-d", str(folder), spec]
        for p in platforms:
            command += ["--platform", p]
        if subprocess.run(command).returncode != 0:
            failed.append(spec)
    size = sum(p.stat().st_size for p in folder.glob("*.whl")) / 2**20
    print(
        f"{len(list(folder.glob('*.whl')))} wheels, {size:.1f} MiB in {folder}"
        + (f"; failed: {failed}" if failed else "")
    )
    return 1 if failed else 0


def install(folder: Path) -> dict[str, str]:
    """The carried wheels into a private folder, first on the path of every process started here."""
    wheels = sorted(folder.glob("*.whl")) if folder.is_dir() else []
    if not wheels:
        return dict(os.environ)
    target = Path("/tmp/sqldistill-site")
    command = [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile"]
    command += ["--no-cache-dir", "--upgrade", "--target", str(target), *map(str, wheels)]
    subprocess.run(command, check=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(target), str(REPO), env.get("PYTHONPATH", "")]))
    return env


def facts() -> dict[str, object]:
    import torch

    cuda = torch.cuda.is_available()
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "device": torch.cuda.get_device_name() if cuda else "cpu",
        "gpu_memory_gib": round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1) if cuda else 0,
    }


def run_tests(out: Path, env: dict[str, str], seconds: int) -> dict[str, object]:
    junit = out / "gpu-junit.xml"
    command = [sys.executable, "-m", "pytest", "-q", "-rfE", "--tb=long", "-p", "no:cacheprovider"]
    command += ["-m", "not slow", f"--junitxml={junit}", "--timeout=180", *GPU_TESTS]
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=REPO, env=env, timeout=seconds)
        code = done.returncode
    except subprocess.TimeoutExpired:
        code = "timeout"
    return {"exit": code, "seconds": round(time.monotonic() - started, 1), "junit": junit.name}


def run_constrain(out: Path, env: dict[str, str], seconds: int) -> object:
    """gpu_constrain with the carried tokenizer: its figures, or why there are none."""
    if not (TOKENIZER / "tokenizer.json").is_file():
        return f"skipped: no tokenizer in {TOKENIZER} (make gpu-carry)"
    path = out / "gpu-constrain.json"
    command = [
        sys.executable,
        "-m",
        "benchmarks.gpu_constrain",
        "--tokenizer",
        str(TOKENIZER),
        "--out",
        str(path),
    ]
    try:
        done = subprocess.run(command, cwd=REPO, env=env, timeout=seconds)
    except subprocess.TimeoutExpired:
        return f"timeout after {seconds} s" + (f"; partial: {path.read_text()}" if path.is_file() else "")
    return json.loads(path.read_text()) if path.is_file() else f"exit {done.returncode}"


def run_bench(out: Path, env: dict[str, str], deadline: float) -> dict[str, object]:
    """gpu_bench one shape at a time, each with what is left of the budget: a shape that does not
    finish costs only itself."""
    results: dict[str, object] = {}
    for shape in SHAPES:
        left = deadline - time.monotonic()
        if left < 30:
            results[shape] = "skipped: out of time"
            continue
        path = out / f"gpu-bench-{shape}.json"
        command = [sys.executable, "-m", "benchmarks.gpu_bench", "--shapes", shape, "--out", str(path)]
        try:
            done = subprocess.run(command, cwd=REPO, env=env, timeout=left)
            results[shape] = json.loads(path.read_text()) if path.is_file() else f"exit {done.returncode}"
        except subprocess.TimeoutExpired:
            results[shape] = f"timeout after {left:.0f} s"
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", ".bench/gpu-check")))
    parser.add_argument("--wheels", type=Path, default=REPO / ".whl")
    parser.add_argument("--download", type=Path, help="fetch the carried wheels into this folder and stop")
    args = parser.parse_args()
    if args.download:
        return download(args.download)
    started = time.monotonic()
    args.out.mkdir(parents=True, exist_ok=True)
    env = {**install(args.wheels), "PYTHONUNBUFFERED": "1"}
    report: dict[str, object] = {"facts": facts()}
    print(json.dumps(report["facts"]), flush=True)
    report["tests"] = run_tests(args.out, env, TEST_SECONDS)
    report["gpu_constrain"] = run_constrain(args.out, env, CONSTRAIN_SECONDS)
    report["gpu_bench"] = run_bench(args.out, env, started + BUDGET_SECONDS)
    report["seconds"] = round(time.monotonic() - started, 1)
    (args.out / "gpu-check.json").write_text(json.dumps(report, indent=2))
    print(f"figures: {args.out / 'gpu-check.json'}; tests: {report['tests']}")
    return 0 if report["tests"]["exit"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
