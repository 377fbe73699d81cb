# One way to run everything. Every target brings up what it needs (scripts/stack.sh is
# idempotent: on a fresh Debian 12 machine it installs and starts the whole local stack).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STACK_ENV = eval "$$(scripts/stack.sh env)"
EXAMPLE_FLAGS = --projects-root examples/projects --registry $$PFD_REGISTRY/examples \
	--base-image $$PFD_BASE_IMAGE --work-pool $$PFD_WORK_POOL
PYTEST_ARGS ?=

.PHONY: stack demo-stack stop venv demo plan test test-fast lint format schema lock bench bench-quick reliability clean

stack:  ## start dockerd, registries, Prefect server and worker; build stand-in base images
	@bash scripts/stack.sh up

stop:
	@bash scripts/stack.sh down

demo-stack:  ## only what the demo needs (no older Prefect servers, no test tools)
	@bash scripts/stack.sh demo

demo: demo-stack  ## deploy examples/ to the local stack, then run one flow to Completed
	@$(STACK_ENV); $(BIN)/prefect-flow-deploy deploy $(EXAMPLE_FLAGS)
	@$(STACK_ENV); $(BIN)/python scripts/demo.py daily-orders/sales

plan: demo-stack  ## what `demo` would do, and why
	@$(STACK_ENV); $(BIN)/prefect-flow-deploy plan $(EXAMPLE_FLAGS)

test: stack lint  ## the whole suite (10 to 13 minutes on 2 cores)
	@$(STACK_ENV); $(BIN)/python -m pytest -n 3 --dist loadfile --durations=15 $(PYTEST_ARGS)

# The laptop loop: no root, no Docker, no servers (only the project's .venv).
test-fast: venv  ## ruff and the unit tests: no services needed (add PYTEST_ARGS="-k name")
	@$(BIN)/ruff check src tests bench scripts
	@$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

venv:  ## only the project's .venv (pip install -e .[dev]); needs neither root nor services
	@bash scripts/stack.sh venv

lint: stack
	@$(BIN)/ruff check src tests bench scripts
	@$(BIN)/ruff format --check src tests bench scripts
	@$(BIN)/mypy

format: stack
	@$(BIN)/ruff check --fix src tests bench scripts
	@$(BIN)/ruff format src tests bench scripts

# The config file's JSON Schema (prefect-flow-deploy.schema.json) from its model;
# tests/unit/settings/test_config_file.py fails while the committed file is out of date.
schema: venv  ## rewrite prefect-flow-deploy.schema.json from the config file's model
	@$(BIN)/python scripts/config-schema.py

# Every dependency of the action image, pinned with hashes for every platform and Python the
# image may use (the Dockerfile installs it with --require-hashes). Run after editing the
# dependencies in pyproject.toml; tests/unit/test_repo_requirements_lock.py fails until you do.
lock:  ## pin the action image's dependencies with hashes into requirements.lock
	@bash scripts/stack.sh venv
	@$(BIN)/uv pip compile pyproject.toml --extra deploy --group build --universal --generate-hashes \
		--custom-compile-command "make lock" --quiet --output-file requirements.lock

bench: stack  ## benchmarks against prefect deploy and the old workflow (bench/README.md)
	@$(STACK_ENV); $(BIN)/python bench/run.py
	@$(STACK_ENV); $(BIN)/python bench/plan_scaling.py

bench-quick: stack  ## every published figure at a small size (~3 min), as ratios to the last run
	@$(STACK_ENV); $(BIN)/python bench/quick.py

reliability: stack  ## faults, signals, concurrent runs and bad inputs against the real stack: one table
	@$(STACK_ENV); $(BIN)/python bench/reliability.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
