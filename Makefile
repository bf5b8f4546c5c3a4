# serviceloop: `make run` (the product with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 2
export SERVICELOOP_DATA_DIR ?= $(CURDIR)/var

.PHONY: run test lint typecheck pytest pytest-postgres bench clean install install-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: $(VENV)/.installed
	$(BIN)/serviceloop run --port $(PORT)

test: $(VENV)/.installed-dev lint typecheck pytest pytest-postgres

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# Every finding fixed or explained by `# nosec BXXX  # reason` on its line (config: pyproject's [tool.bandit]).
	$(BIN)/bandit -c pyproject.toml -r serviceloop -q

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy serviceloop

pytest: $(VENV)/.installed-dev
	@echo "== test suite on SQLite"
	env -u SERVICELOOP_DATABASE_URL $(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q

# Runs only when SERVICELOOP_TEST_DATABASE_URL is set; an unreachable server fails the run.
pytest-postgres: $(VENV)/.installed-dev
	@if [ -n "$$SERVICELOOP_TEST_DATABASE_URL" ]; then \
		echo "== test suite on $$SERVICELOOP_TEST_DATABASE_URL"; \
		SERVICELOOP_DATABASE_URL="$$SERVICELOOP_TEST_DATABASE_URL" $(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q; \
	else echo "== SERVICELOOP_TEST_DATABASE_URL is not set: the PostgreSQL run is not asked for"; fi

bench: $(VENV)/.installed-dev
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
