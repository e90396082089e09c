# Transformers Academy — the two commands: `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
COURSE := content/transformers-architecture
HOST   ?= 127.0.0.1
PORT   ?= 8000
# manage.py, wsgi.py and the Celery app default to production settings; the development commands say so here.
DEV    := DJANGO_SETTINGS_MODULE=config.settings.dev
# System packages the suite and the certificates need: zbar (QR decoding in tests), poppler (PDF -> PNG),
# fonts that cover Latin/Greek/Cyrillic/Arabic and CJK names, Chromium and an emoji font (the lessons' callout
# icons) for the browser tests, wrk (the load generator of `make bench`).
APT_PACKAGES := libzbar0 poppler-utils fonts-dejavu-core fonts-wqy-zenhei chromium fonts-noto-color-emoji wrk fonts-stix

.PHONY: help install system-deps setup run worker web test test-fast lint bench gpu-check clean superuser

help:
	@echo "make run    - set everything up and start the web server + a Celery worker (embedded defaults)"
	@echo "make test   - set everything up and run the whole test suite"
	@echo "make bench  - run the benchmarks under perf/"
	@echo "make gpu-check - every experiment at its CUDA defaults: time, peak GPU memory vs estimate (needs a GPU)"
	@echo "make lint   - ruff (CI runs it before the tests)"
	@echo "make test-fast - the quick subset (tests not marked slow): no browser, real worker, real course or memory measurement"

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	@echo "Installing Python packages into $(VENV) ..."
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt 2>&1 | { grep -v "is ignored: it is neither" || true; }
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP) system-deps

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing system packages:$$missing"; \
	    (apt-get install -y -q --no-install-recommends $$missing >/dev/null 2>&1 || \
	     (apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $$missing >/dev/null)); \
	  else echo "Please install these system packages:$$missing"; fi; \
	fi

setup: install
	@$(DEV) $(PY) manage.py migrate --no-input -v 0
	@$(DEV) $(PY) manage.py load_course $(COURSE)

run: setup
	@$(DEV) HOST=$(HOST) PORT=$(PORT) PY=$(PY) scripts/dev.sh

superuser: setup
	$(DEV) $(PY) manage.py createsuperuser

test: setup
	@if [ -z "$$TEST_DATABASE_URL" ] && { [ "$$CI" = "true" ] || $(PY) scripts/service_up.py postgres; }; then \
	  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"; fi; \
	echo "Test database: $${TEST_DATABASE_URL:-SQLite (PostgreSQL not reachable)}"; \
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

# The quick subset for development, on the same database as `make test`: every test not marked slow (what makes a
# test slow is in tests/support/slow.py: browser, real workers and services, the real course, memory measurements).
test-fast:
	@$(MAKE) --no-print-directory test PYTEST_ARGS='-m "not slow" -q -x $(PYTEST_ARGS)'

bench: setup
	$(PY) -m perf.run_all

gpu-check: install
	$(PY) -m perf.gpu_check

clean:
	rm -rf .var staticfiles .pytest_cache
