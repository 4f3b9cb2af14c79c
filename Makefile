# MD Analytics: the two commands (`make run`, `make test`) and a few helpers.
# Needs only Python 3.11+ and git; everything else is installed into .venv.
# The front-end targets (frontend-check, lint-js) also need Node 20+ and npm.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := app.app:create_app

.PHONY: run test lint format docs test-postgres e2e e2e-prod chromium pdf-deps frontend-check lint-js bench clean help

help:
	@echo "make run            install, migrate and serve on http://$(HOST):$(PORT) (SQLite, in-process jobs)"
	@echo "make test           install dev requirements and run the suite with coverage (fails under 90%)"
	@echo "make lint           ruff check, ruff format --check, mypy"
	@echo "make frontend-check npm ci, rebuild frontend/, fail if app/static/dist differs from git"
	@echo "make lint-js        ESLint over frontend/ and app/static/js (npm ci first if frontend/node_modules is missing)"
	@echo "make docs           build the Sphinx manual with warnings as errors"
	@echo "make pdf-deps       Pango and the Noto fonts the PDF reports need (apt-get, as root)"
	@echo "make test-postgres  the suite against a fresh PostgreSQL database (and Redis when running)"
	@echo "make e2e            browser tests (Playwright + Chromium) against gunicorn, SQLite, job thread"
	@echo "make e2e-prod       browser tests against honcho (Procfile web + worker), ProdConfig, PostgreSQL, Redis"
	@echo "make bench          every benchmark and the load test (5-6 min idle): project vs raw reference, ratio"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.prod: $(BIN)/python requirements/prod.txt requirements.txt
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.prod requirements/dev.txt
	$(BIN)/pip install --quiet -r requirements/dev.txt
	touch $@

$(VENV)/.bench: $(VENV)/.dev requirements/bench.txt
	$(BIN)/pip install --quiet -r requirements/bench.txt
	touch $@

run: $(VENV)/.prod
	$(BIN)/flask db upgrade
	@echo "MD Analytics on http://$(HOST):$(PORT)  (load sample data: $(BIN)/python manage.py demo)"
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: $(VENV)/.dev
	@$(MAKE) --no-print-directory pdf-deps || echo "PDF reports: Pango or the fonts are missing; their tests are skipped."
	$(BIN)/python -m pytest --cov=app --cov-branch --cov-report=term-missing:skip-covered -p no:cacheprovider $(ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

docs: $(VENV)/.dev
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

# Front end (frontend/, Node 20+): `frontend-check` always installs from the lockfile and
# rebuilds; `lint-js` installs only when frontend/node_modules is missing.
NPM ?= npm
frontend-check:
	cd frontend && $(NPM) ci --no-audit --no-fund && $(NPM) run check

lint-js:
	[ -d frontend/node_modules ] || (cd frontend && $(NPM) ci --no-audit --no-fund)
	cd frontend && $(NPM) run lint

PG_DB ?= md_analytics_test
test-postgres: $(VENV)/.dev
	@$(MAKE) --no-print-directory pdf-deps || echo "PDF reports: Pango or the fonts are missing; their tests are skipped."
	psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE IF EXISTS $(PG_DB)" -c "CREATE DATABASE $(PG_DB)"
	DATABASE_URL=postgresql://postgres@127.0.0.1:5432/$(PG_DB) REDIS_URL=$${REDIS_URL-redis://127.0.0.1:6379/15} \
		$(BIN)/python -m pytest --cov=app --cov-branch --cov-report=term-missing:skip-covered -p no:cacheprovider $(ARGS)

# PDF reports: WeasyPrint needs Pango, and fonts for every script the data holds. Debian's
# fonts-noto-core (42 MB installed: Latin with Vietnamese, Greek, Cyrillic, Thai, Arabic,
# Hebrew, Devanagari...) and fonts-noto-cjk (91 MB: Chinese, Japanese, Korean). As root they
# are installed with apt-get when missing; elsewhere the command to run is printed.
PDF_PACKAGES ?= libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-core fonts-noto-cjk
pdf-deps:
	@if ! command -v dpkg >/dev/null; then \
		echo "Not Debian: install Pango and the Noto fonts (core and CJK) for the PDF reports."; \
	else \
		missing=$$(for p in $(PDF_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
		if [ -n "$$missing" ]; then \
			if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
				apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
			else \
				echo "The PDF reports need: sudo apt-get install $$missing"; exit 1; \
			fi; \
		fi; \
	fi

# Browser tests. Chromium is Debian's package (Playwright's own download is not used);
# as root it is installed with apt-get when missing.
CHROMIUM ?= /usr/bin/chromium
E2E_TIMEOUT ?= 900
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else \
			echo "$(CHROMIUM) is missing: install Debian's chromium (sudo apt-get install chromium) or set CHROMIUM=/path/to/chromium"; \
			exit 1; \
		fi; \
	fi

e2e: $(VENV)/.dev chromium
	E2E_CHROMIUM=$(CHROMIUM) timeout -k 30 $(E2E_TIMEOUT) $(BIN)/python -m pytest -m e2e -p no:cacheprovider tests/e2e $(ARGS)

# The production-like pass: honcho starts the Procfile's web and worker with ProdConfig on a
# fresh PostgreSQL database and Redis database 14 (the release step runs first).
E2E_DATABASE_ADMIN_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
E2E_REDIS_URL ?= redis://127.0.0.1:6379/14
e2e-prod: $(VENV)/.dev chromium
	E2E_MODE=prod E2E_CHROMIUM=$(CHROMIUM) E2E_DATABASE_ADMIN_URL=$(E2E_DATABASE_ADMIN_URL) E2E_REDIS_URL=$(E2E_REDIS_URL) \
		timeout -k 30 $(E2E_TIMEOUT) $(BIN)/python -m pytest -m e2e -p no:cacheprovider tests/e2e $(ARGS)

# Benchmarks (benchmarks/run_all.py): every script with modest sizes, each figure next to a
# raw reference from the same run. PostgreSQL, Redis and Chromium are used when there; a
# script that needs one that is missing is skipped with the reason. ARGS="--only loadtest".
bench: $(VENV)/.bench
	$(BIN)/python benchmarks/run_all.py $(ARGS)

clean:
	rm -rf $(VENV) .coverage htmlcov docs/_build .pytest_cache .ruff_cache .mypy_cache
