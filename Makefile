# The template's own tasks.  `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Two workers by default: the machines that run this have two cores.
WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help venv test test-fast test-slow lint demo bench mutation lock lock-dev clean

help: ## List the targets with what they do
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/.installed: requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	@touch $@

venv: $(BIN)/.installed ## Create .venv from the pinned, hashed dev requirements

# The slow tier lists its slowest tests, so a CI log shows where its time went.
SLOWEST ?= 15

test: venv ## Run the whole suite: fast tier, then slow tier
	@$(BIN)/python -m pytest -n $(WORKERS) -m "not slow"
	@$(BIN)/python -m pytest -n $(WORKERS) --dist loadgroup -m slow --durations=$(SLOWEST)

test-fast: venv ## Run the fast tier (under 2 minutes)
	@$(BIN)/python -m pytest -n $(WORKERS) -m "not slow"

test-slow: venv ## Run the slow tier: real venvs, real training
	@$(BIN)/python -m pytest -n $(WORKERS) --dist loadgroup -m slow --durations=$(SLOWEST)

lint: venv ## Lint and format-check the template's own code
	@$(BIN)/ruff check hooks tests
	@$(BIN)/ruff format --check hooks tests

demo: venv ## Bake the default project into build/, prove it reproduces, and re-create a committed model
	@rm -rf build/digits-classifier
	@mkdir -p build
	@$(BIN)/cookiecutter --no-input --output-dir build .
	@$(MAKE) -C build/digits-classifier setup repro-check train
	@git -C build/digits-classifier add models
	@git -C build/digits-classifier -c user.name="repro-template demo" -c user.email=demo@example.org \
		commit --quiet --no-verify --message "Record the first model"
	@$(MAKE) -C build/digits-classifier reproduce

bench: venv ## Measure bake, set-up, training and test times; print a table, write JSON
	@$(BIN)/python tests/benchmark.py $(BENCH_ARGS)

mutation: venv ## Count the deliberate bugs the tests catch, per module (hours; not part of test)
	@$(BIN)/python tests/mutation.py $(MUTATION_ARGS)

lock-dev: venv ## Regenerate requirements-dev.txt from requirements-dev.in
	@$(BIN)/uv pip compile --quiet --universal --generate-hashes --python-version 3.11 \
		--no-emit-index-url --no-emit-find-links requirements-dev.in -o requirements-dev.txt

# The template's framework locks are made the way a user's project makes its
# own: bake a project, run its scripts/lock.py, copy the lock back.  The bake
# uses the oldest supported Python, which a universal lock covers upwards.
PROJECT := {{cookiecutter.project_slug}}
FRAMEWORKS = $(shell $(BIN)/python -c "import json; print(*json.load(open('cookiecutter.json'))['framework'])")
OLDEST_PYTHON = $(shell $(BIN)/python -c "import json; print(json.load(open('cookiecutter.json'))['python_version'][0])")
LOCK_BUILD := build/locks

lock: venv ## Refresh every framework's lock and the project's dev lock (UPGRADE=1: newest pins)
	@rm -rf $(LOCK_BUILD)
	@set -e; for framework in $(FRAMEWORKS); do \
		out=$(LOCK_BUILD)/$$framework; mkdir -p $$out; \
		$(BIN)/cookiecutter --no-input --output-dir $$out . framework=$$framework \
			python_version=$(OLDEST_PYTHON) init_git=false ci=none; \
		UV=$(abspath $(BIN)/uv) $(BIN)/python $$out/*/scripts/lock.py; \
		cp $$out/*/requirements.txt '$(PROJECT)/requirements/'$$framework.txt; \
	done
	@cp $(LOCK_BUILD)/$(firstword $(FRAMEWORKS))/*/requirements-dev.txt '$(PROJECT)/requirements-dev.txt'
	@rm -rf $(LOCK_BUILD)
	@echo "Locked: $(FRAMEWORKS) and the dev tools, in $(PROJECT)/"

clean: ## Remove the venv, caches and demo output
	@rm -rf $(VENV) build .ruff_cache .pytest_cache
