# Milan commerce platform — every command a developer or CI needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
TOOLS := .tools
STAMP_VENV := $(VENV)/.installed
STAMP_KAFKA := $(TOOLS)/kafka/.installed
STAMP_MONGO := $(TOOLS)/mongo/.installed
DIR ?=

.PHONY: help install tools run up down status seed test test-unit test-faults lint fmt bench import clean k8s-check images browser lock

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP_VENV): requirements-dev.txt shared/requirements.txt devkit/requirements.txt services/*/requirements.txt tests/requirements-extra.txt tests/browser/requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) is required (Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

$(STAMP_KAFKA): devkit/stack/requirements-kafka.txt
	$(PYTHON) -m venv $(TOOLS)/kafka
	$(TOOLS)/kafka/bin/pip install --quiet --disable-pip-version-check -r $<
	@touch $@

$(STAMP_MONGO): devkit/stack/requirements-mongo.txt
	$(PYTHON) -m venv $(TOOLS)/mongo
	$(TOOLS)/mongo/bin/pip install --quiet --disable-pip-version-check -r $<
	@touch $@

install: $(STAMP_VENV) tools ## install the platform and its local broker and database

tools: $(STAMP_KAFKA) $(STAMP_MONGO)

run: install ## start everything in the foreground with demo data (Ctrl-C stops)
	$(PY) -m devkit.stack run

up: install ## start (or complete) the stack in the background; returns when all is ready
	$(PY) -m devkit.stack up

down: ## stop what `make up` started (by pid file)
	@if [ -x $(PY) ]; then $(PY) -m devkit.stack down; else echo "nothing to stop"; fi

status: ## show which local components are running
	@$(PY) -m devkit.stack status

seed: ## load the demo data into a running stack
	$(PY) -m devkit.stack seed

browser: ## install headless Chromium for the dashboard tests (where possible)
	@bash tests/browser/install-chromium.sh

test: install browser ## run the whole test suite (unit, integration, faults, browser, deploy checks)
	$(PY) -m pytest -q -ra --durations=15

test-unit: $(STAMP_VENV) ## fast tests only (no broker or database)
	$(PY) -m pytest -q -m "not integration and not browser"

test-faults: install ## fault-injection tests only
	$(PY) -m pytest -q tests/faults

lint: $(STAMP_VENV) ## ruff, mypy --strict on shared/, devkit/ and every domain module, the import contracts
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

fmt: $(STAMP_VENV)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install ## measure throughput and latency; writes docs/benchmarks.md
	$(PY) -m tests.bench

import: $(STAMP_VENV) ## import official open data: make import DIR=<folder> (stack must be up)
	@test -n "$(DIR)" || { echo "usage: make import DIR=<folder with open-data files>"; exit 2; }
	$(VENV)/bin/commerce import "$(DIR)"

k8s-check: ## render and validate the Kubernetes manifests offline
	bash deploy/k8s/check.sh

lock: ## compile the images' runtime requirements with hashes into deploy/requirements/
	bash deploy/lock.sh

images: ## build the container images (needs a container engine)
	bash deploy/images.sh

clean: down ## stop everything and remove local environments and data
	rm -rf $(VENV) $(TOOLS) .data
