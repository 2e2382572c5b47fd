# hotline: `make run` serves the seeded service on SQLite; `make test` runs the suite on SQLite and PostgreSQL.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export HOTLINE_DATABASE_URL ?= sqlite+aiosqlite:///./hotline.db

.PHONY: help install migrate seed run worker test lint typecheck check bench clean

help:
	@echo "make run [PORT=8000]  create the venv, install, migrate, seed and serve on SQLite"
	@echo "make test             the whole suite on SQLite and PostgreSQL"
	@echo "make check            ruff, mypy --strict and the tests"
	@echo "make worker           the periodic jobs in a process of their own"
	@echo "make bench            the intake benchmark (see docs/benchmarks.md)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/alembic upgrade heads

seed: migrate
	$(BIN)/python -m app.seed

run: seed
	$(BIN)/uvicorn app.main:create_app --factory --host $(HOST) --port $(PORT)

worker: migrate
	$(BIN)/python -m app.workers

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy app

check: lint typecheck test

bench: install
	$(BIN)/python -m bench.intake

clean:
	rm -rf $(VENV) hotline.db hotline.db-shm hotline.db-wal .pytest_cache .mypy_cache .ruff_cache
