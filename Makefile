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

# The tests also use the team server's PostgreSQL driver (requirements/server.lock), the
# simulator drive server's old Socket.IO generation (requirements/drive.lock) and the
# converters and runtimes of `pipeline export` (requirements/export.lock, edge.lock) and Ray
# Tune for `pipeline tune` (requirements/tune.lock).
$(VENV)/.installed-dev: $(VENV)/.installed requirements/dev.lock requirements/server.lock \
  requirements/drive.lock requirements/export.lock requirements/edge.lock requirements/tune.lock
	@echo "Installing the dev tools of requirements/dev.lock, server.lock, drive.lock, export.lock, edge.lock and tune.lock into $(VENV)"
	@$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python \
	  -r requirements/dev.lock -r requirements/server.lock -r requirements/drive.lock \
	  -r requirements/export.lock -r requirements/edge.lock -r requirements/tune.lock
	@touch $@

install: $(VENV)/.installed ## Create .venv from the lock file

install-dev: $(VENV)/.installed-dev ## Create .venv with the dev tools too

repro: install ## Run the whole DVC pipeline (dvc repro)
	@$(BIN)/pipeline check-data
	$(BIN)/dvc repro

dvc: install ## Any dvc command without activating .venv: make dvc ARGS="exp show"
	$(BIN)/dvc $(ARGS)

# The baseline, kept in git as DVC's example projects keep theirs: dvc.lock and metrics/ of
# the default run, so that a fresh clone's `dvc exp show` and `dvc metrics diff` compare
# against it. tests/code/test_baseline.py fails when code or params move on without it.
.PHONY: baseline
.PHONY: plots
plots: install ## Render every DVC plot into dvc_plots/index.html, offline (no CDN)
	$(BIN)/pipeline plots

baseline: install ## Run the default pipeline, then commit dvc.lock and metrics/ (the baseline)
	@$(BIN)/pipeline check-data
	$(BIN)/dvc repro
	@git status --short -- dvc.lock metrics params.yaml
	@echo "Baseline ready: git add dvc.lock metrics/ && git commit -m 'Baseline: the default run'"

# `dvc exp run` in the workspace writes its -S values into params.yaml and, when it fails,
# leaves them there for the next `dvc repro`: this puts params.yaml back as it was before
# (uncommitted edits included) when the run fails or is interrupted. A finished experiment
# keeps DVC's behaviour: the workspace holds its params and results until `git checkout
# params.yaml` or `dvc exp apply <other>`. ARGS="--temp ..." runs in a copy under
# .dvc/tmp/exps/ and never touches the workspace (only git-tracked files are copied).
EXP_BACKUP := .dvc/tmp/params.yaml.before-exp
.PHONY: exp
exp: install ## dvc exp run, params.yaml put back if it fails: make exp ARGS="-S key=value"
	@mkdir -p $(dir $(EXP_BACKUP)) && cp params.yaml $(EXP_BACKUP)
	@put_back() { cp $(EXP_BACKUP) params.yaml && rm -f $(EXP_BACKUP); \
	  echo "dvc exp run $$1: params.yaml is back as it was before the run"; }; \
	trap 'put_back interrupted; exit 130' INT TERM; \
	if $(BIN)/dvc exp run $(ARGS); then rm -f $(EXP_BACKUP); else status=$$?; \
	  put_back "failed (exit $$status)"; exit $$status; fi

# Two workers: most tests wait on a subprocess or a single-threaded step, so the second core
# halves the wall time; the tests that share the session's `dvc repro` stay on one worker.
test: install-dev ## Run the whole test suite
	$(BIN)/pytest -n 2 --dist loadgroup

# PIPELINE_TESTS_NO_SERVERS: tests/servers.py fails a test that starts a server unmarked.
test-fast: install-dev ## Tests without training, dvc repro or servers (under 2 min)
	PIPELINE_TESTS_NO_SERVERS=1 $(BIN)/pytest -m "not slow and not train and not server" -q -n 2 --dist loadgroup

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
	cd requirements && ../$(UV) pip compile export.in --python-version 3.11 -o export.lock
	cd requirements && ../$(UV) pip compile edge.in --python-version 3.11 -o edge.lock
	cd requirements && ../$(UV) pip compile tune.in --python-version 3.11 -o tune.lock

ui: install ## Open the MLflow UI on the embedded store (http://127.0.0.1:5000)
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db

# The team tracking server: runs, registry and model files for everyone whose
# MLFLOW_TRACKING_URI is http://<this host>:$(SERVER_PORT), behind MLflow's basic-auth app
# (`pipeline server`): every request needs an account, an account without a grant gets
# nothing. PG_URI (postgresql://user:pass@host/db) picks a PostgreSQL backend store, which
# also holds the accounts; without it, the project's own mlflow.db and mlflow-auth.db. The
# server proxies artifacts (clients need no access to the folder) into mlartifacts/. The admin
# password: MLFLOW_AUTH_ADMIN_PASSWORD or ~/.config/pipeline/mlflow-admin-password (made on
# loopback; SERVER_HOST=0.0.0.0, the network, refuses to start without one). TLS:
# SERVER_OPTS='--gunicorn-opts "--certfile cert.pem --keyfile key.pem"'.
SERVER_HOST ?= 127.0.0.1
SERVER_PORT ?= 5000
SERVER_OPTS ?=
.PHONY: server users
server: install ## Team MLflow server with accounts (PostgreSQL at $PG_URI, else mlflow.db) on 127.0.0.1:5000
	@$(UV) pip install --quiet --python $(BIN)/python -r requirements/server.lock
	@exec $(BIN)/pipeline server --host $(SERVER_HOST) --port $(SERVER_PORT) $(SERVER_OPTS)

# As the server's admin: make users NAME=alice ROLE=scientist (or maintainer); the password
# is prompted for. MLFLOW_TRACKING_URI names the server.
users: install ## Add an account to the team server: make users NAME=alice ROLE=scientist|maintainer
	@MLFLOW_TRACKING_URI="$${MLFLOW_TRACKING_URI:-http://$(SERVER_HOST):$(SERVER_PORT)}" \
	  $(BIN)/pipeline users add $(NAME) --role $(ROLE)

# The Udacity simulator's drive server (its old Socket.IO generation is the `drive` extra).
.PHONY: drive
drive: install ## Drive the Udacity simulator with models:/driving.champion@champion (ARGS="--record DIR")
	@$(UV) pip install --quiet --python $(BIN)/python -r requirements/drive.lock
	$(BIN)/pipeline drive $(ARGS)

clean: ## Remove the virtual environment
	rm -rf $(VENV)
