# MD Analytics: the two commands (`make run`, `make test`) and a few helpers.
# Needs only Python 3.11+ and git; everything else is installed into .venv.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := app.app:create_app

.PHONY: run test lint format docs test-postgres clean help

help:
	@echo "make run            install, migrate and serve on http://$(HOST):$(PORT) (SQLite, in-process jobs)"
	@echo "make test           install dev requirements and run the suite with coverage (fails under 90%)"
	@echo "make lint           ruff check, ruff format --check, mypy"
	@echo "make docs           build the Sphinx manual with warnings as errors"
	@echo "make test-postgres  the suite against a fresh PostgreSQL database (and Redis when running)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.prod: $(BIN)/python requirements/prod.txt requirements.txt
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.prod requirements/dev.txt
	$(BIN)/pip install --quiet -r requirements/dev.txt
	touch $@

run: $(VENV)/.prod
	$(BIN)/flask db upgrade
	@echo "MD Analytics on http://$(HOST):$(PORT)  (load sample data: $(BIN)/python manage.py demo)"
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: $(VENV)/.dev
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

PG_DB ?= md_analytics_test
test-postgres: $(VENV)/.dev
	psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE IF EXISTS $(PG_DB)" -c "CREATE DATABASE $(PG_DB)"
	DATABASE_URL=postgresql://postgres@127.0.0.1:5432/$(PG_DB) REDIS_URL=$${REDIS_URL-redis://127.0.0.1:6379/15} \
		$(BIN)/python -m pytest --cov=app --cov-branch --cov-report=term-missing:skip-covered -p no:cacheprovider $(ARGS)

clean:
	rm -rf $(VENV) .coverage htmlcov docs/_build .pytest_cache .ruff_cache .mypy_cache
