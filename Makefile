# One entry point for people and CI. `make help` lists the targets.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
# dvc.yaml's commands call `pipeline`: find it in the venv without activating it.
export PATH := $(abspath $(BIN)):$(PATH)

.DEFAULT_GOAL := help
.PHONY: help install install-dev repro test lint format lock ui clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.8

# --compile-bytecode: where PYTHONDONTWRITEBYTECODE is set (it is on our machines), Python would
# otherwise compile every imported module from source on every run (DVC, TensorFlow).
$(VENV)/.installed: $(BIN)/python requirements/main.lock pyproject.toml
	$(UV) pip sync --compile-bytecode --python $(BIN)/python requirements/main.lock
	$(UV) pip install --python $(BIN)/python --no-deps -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements/dev.lock
	$(UV) pip install --compile-bytecode --python $(BIN)/python -r requirements/dev.lock
	@touch $@

install: $(VENV)/.installed ## Create .venv from the lock file

install-dev: $(VENV)/.installed-dev ## Create .venv with the dev tools too

repro: install ## Run the whole DVC pipeline (dvc repro)
	$(BIN)/dvc repro

test: install-dev ## Run the whole test suite
	$(BIN)/pytest

lint: install-dev ## Lint and type-check
	$(BIN)/ruff check pipeline tests
	$(BIN)/ruff format --check pipeline tests
	$(BIN)/mypy pipeline

format: install-dev ## Format the code
	$(BIN)/ruff format pipeline tests
	$(BIN)/ruff check --fix pipeline tests

lock: $(BIN)/python ## Re-resolve requirements/*.lock from requirements/*.in
	cd requirements && ../$(UV) pip compile main.in --python-version 3.11 -o main.lock
	cd requirements && ../$(UV) pip compile dev.in --python-version 3.11 -o dev.lock

ui: install ## Open the MLflow UI on the embedded store (http://127.0.0.1:5000)
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db

clean: ## Remove the virtual environment
	rm -rf $(VENV)
