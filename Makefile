# Webcert onboarding toolkit — the two commands: `make demo` and `make test`.
# Both bootstrap what they need: a virtualenv in .venv with requirements*.txt, and the
# Debian packages slapd + ldap-utils (and chromium for the report tests) via apt.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_HOME := $(CURDIR)/.cache/ansible
export ANSIBLE_LOCAL_TEMP := $(CURDIR)/.cache/ansible/tmp
export PYTHONDONTWRITEBYTECODE := 1

PLAYBOOKS := $(sort $(wildcard playbooks/*.yml))

.PHONY: help venv system-deps lint ruff yamllint ansible-lint syntax-check pytest unit \
        integration molecule sanity units collection test demo bench clean catalogs

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt tools/ensure-system-deps
	@tools/ensure-system-deps
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	@[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -r requirements.txt -r requirements-dev.txt
	@touch $@

COLLECTION_LINK := .cache/collections/ansible_collections/webcert_siths/onboarding

$(COLLECTION_LINK):
	@$(PYTHON) tools/collection_path.py >/dev/null

venv: $(STAMP) $(COLLECTION_LINK) ## System packages, .venv with the Python requirements, the collection link

system-deps: ## Install slapd, ldap-utils and chromium with apt when missing
	@tools/ensure-system-deps

ruff: venv
	ruff check .

yamllint: venv
	yamllint -s .

ansible-lint: venv
	@# ansible-lint installs a copy of this collection into ANSIBLE_HOME once and never
	@# refreshes it: drop that copy so every run lints the checkout as it is now.
	rm -rf $(ANSIBLE_HOME)/collections/ansible_collections/webcert_siths
	ansible-lint -q

syntax-check: venv
	@for p in $(PLAYBOOKS); do \
	  echo "syntax-check $$p"; \
	  ansible-playbook --syntax-check "$$p" >/dev/null || exit 1; \
	done

catalogs: venv ## Message catalogs: extract, update locale/*/webcert.po, compile into i18n/bundle.py
	$(VENV)/bin/python tools/i18n_build.py

lint: ruff yamllint ansible-lint syntax-check ## ruff, yamllint, ansible-lint (production), syntax-check

unit: venv ## Unit tests (pure core, no network)
	pytest tests/unit

integration: venv system-deps ## Integration tests (real slapd, real ansible-playbook)
	pytest tests/integration $(wildcard tests/adversarial)

pytest: venv system-deps
	pytest

molecule: venv system-deps ## Molecule default scenario on the sandbox directory
	@if [ -d molecule/default ]; then molecule test -s default; fi

sanity: venv ## ansible-test sanity on the built collection (docs/testing.md)
	$(VENV)/bin/python tools/run_ansible_test.py sanity

units: venv ## ansible-test units (tests/unit/plugins) on the built collection
	$(VENV)/bin/python tools/run_ansible_test.py units

collection: venv ## Build the collection tarball into build/ from the files git knows
	$(VENV)/bin/python tools/collection_build.py --output-path build

test: venv system-deps lint sanity units pytest molecule ## Every check and test (what CI runs)
	@echo "make test: all checks passed"

demo: venv system-deps ## The main job end to end on the embedded sandbox directory
	$(VENV)/bin/python tools/demo.py

bench: venv system-deps ## Performance harness (ratios against baselines of the same run)
	$(VENV)/bin/python tools/bench/run.py

clean: ## Stop the demo sandbox and remove generated files
	-tools/hsa-sandbox stop --dir .sandbox/demo
	rm -rf .sandbox reports .cache .pytest_cache .ruff_cache build
