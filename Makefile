# The template's own tasks.  `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Two workers by default: the machines that run this have two cores.
WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help venv test test-fast test-slow lint bench demo lock-dev clean

help: ## List the targets with what they do
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/.installed: requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	@touch $@

venv: $(BIN)/.installed ## Create .venv from the pinned, hashed dev requirements

test: venv ## Run the whole suite: fast tier, then slow tier
	@$(BIN)/python -m pytest -n $(WORKERS) -m "not slow"
	@$(BIN)/python -m pytest -n $(WORKERS) --dist loadgroup -m slow

test-fast: venv ## Run the fast tier (under 2 minutes)
	@$(BIN)/python -m pytest -n $(WORKERS) -m "not slow"

test-slow: venv ## Run the slow tier: real venvs, real training
	@$(BIN)/python -m pytest -n $(WORKERS) --dist loadgroup -m slow

lint: venv ## Lint and format-check the template's own code
	@$(BIN)/ruff check hooks tests benchmarks
	@$(BIN)/ruff format --check hooks tests benchmarks

bench: venv ## Time each framework's train, predict, repro-check and tests (FRAMEWORKS="numpy")
	@$(BIN)/python benchmarks/pipeline.py $(FRAMEWORKS)

demo: venv ## Bake the default project into build/ and prove it reproduces
	@rm -rf build/digits-classifier
	@mkdir -p build
	@$(BIN)/cookiecutter --no-input --output-dir build .
	@$(MAKE) -C build/digits-classifier setup repro-check

lock-dev: venv ## Regenerate requirements-dev.txt from requirements-dev.in
	@$(BIN)/uv pip compile --quiet --universal --generate-hashes --python-version 3.11 \
		--no-emit-index-url --no-emit-find-links requirements-dev.in -o requirements-dev.txt

clean: ## Remove the venv, caches and demo output
	@rm -rf $(VENV) build .ruff_cache .pytest_cache
