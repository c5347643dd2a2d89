# One entry point for people and CI. `make help` lists the targets.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
# dvc.yaml's commands call `pipeline`: find it in the venv without activating it.
export PATH := $(abspath $(BIN)):$(PATH)

.DEFAULT_GOAL := help
.PHONY: help install install-dev repro dvc test test-fast lint format lock ui clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Installs say what they do in one line each; uv and pip print only errors (--quiet).
$(BIN)/python:
	@echo "Creating $(VENV) with $(PYTHON) and the uv installer"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.8

# --compile-bytecode: where PYTHONDONTWRITEBYTECODE is set (it is on our machines), Python would
# otherwise compile every imported module from source on every run (DVC, TensorFlow).
$(VENV)/.installed: $(BIN)/python requirements/main.lock pyproject.toml
	@echo "Installing requirements/main.lock into $(VENV) (the first time: ~2.6 GB, minutes)"
	@$(UV) pip sync --quiet --compile-bytecode --python $(BIN)/python requirements/main.lock
	@echo "Installing the pipeline itself (editable)"
	@$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

# The tests also use the team server's PostgreSQL driver (requirements/server.lock) and the
# simulator drive server's old Socket.IO generation (requirements/drive.lock).
$(VENV)/.installed-dev: $(VENV)/.installed requirements/dev.lock requirements/server.lock \
  requirements/drive.lock
	@echo "Installing the dev tools of requirements/dev.lock, server.lock and drive.lock into $(VENV)"
	@$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python \
	  -r requirements/dev.lock -r requirements/server.lock -r requirements/drive.lock
	@touch $@

install: $(VENV)/.installed ## Create .venv from the lock file

install-dev: $(VENV)/.installed-dev ## Create .venv with the dev tools too

repro: install ## Run the whole DVC pipeline (dvc repro)
	$(BIN)/dvc repro

dvc: install ## Any dvc command without activating .venv: make dvc ARGS="exp show"
	$(BIN)/dvc $(ARGS)

# Two workers: most tests wait on a subprocess or a single-threaded step, so the second core
# halves the wall time; the tests that share the session's `dvc repro` stay on one worker.
test: install-dev ## Run the whole test suite
	$(BIN)/pytest -n 2 --dist loadgroup

test-fast: install-dev ## Tests without training, dvc repro or servers (under 2 min)
	$(BIN)/pytest -m "not slow and not train" -q -n 2 --dist loadgroup

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
	cd requirements && ../$(UV) pip compile server.in --python-version 3.11 -o server.lock
	cd requirements && ../$(UV) pip compile drive.in --python-version 3.11 -o drive.lock

ui: install ## Open the MLflow UI on the embedded store (http://127.0.0.1:5000)
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db

# The team tracking server: runs, registry and model files for everyone whose
# MLFLOW_TRACKING_URI is http://<this host>:$(SERVER_PORT). PG_URI (postgresql://user:pass@host/db)
# picks a PostgreSQL backend store (its driver, the `server` extra, is installed first);
# without it, the project's own mlflow.db. The server proxies artifacts (clients need no
# access to the folder) into mlartifacts/. SERVER_HOST=0.0.0.0 opens it to the network.
# GenAI job workers are off: they serve no pipeline command and cost processes.
SERVER_HOST ?= 127.0.0.1
SERVER_PORT ?= 5000
.PHONY: server
server: install ## Team MLflow server (PostgreSQL at $PG_URI, else mlflow.db) on 127.0.0.1:5000
	$(if $(PG_URI),@$(UV) pip install --quiet --python $(BIN)/python -r requirements/server.lock)
	@echo "MLflow server on http://$(SERVER_HOST):$(SERVER_PORT), store: $(if $(PG_URI),PostgreSQL (PG_URI),$(abspath mlflow.db)), artifacts: $(abspath mlartifacts)"
	@MLFLOW_BACKEND_STORE_URI="$${PG_URI:-sqlite:///$(abspath mlflow.db)}" \
	  MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false \
	  exec $(BIN)/mlflow server --serve-artifacts --artifacts-destination $(abspath mlartifacts) \
	  --host $(SERVER_HOST) --port $(SERVER_PORT)

# The Udacity simulator's drive server (its old Socket.IO generation is the `drive` extra).
.PHONY: drive
drive: install ## Drive the Udacity simulator with models:/driving@champion (ARGS="--record DIR")
	@$(UV) pip install --quiet --python $(BIN)/python -r requirements/drive.lock
	$(BIN)/pipeline drive $(ARGS)

clean: ## Remove the virtual environment
	rm -rf $(VENV)
