# serviceloop: `make run` (the product with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 2
export SERVICELOOP_DATA_DIR ?= $(CURDIR)/var

.PHONY: run test lint typecheck pytest pytest-postgres browser bench clean install install-dev

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

# Browser tests drive Debian's chromium: installed here when we can (root and apt), else the run stops
# with the command to run. SERVICELOOP_SKIP_BROWSER_TESTS=1 skips them on purpose (the summary says so).
CHROMIUM := $(or $(SERVICELOOP_TEST_CHROMIUM),/usr/bin/chromium)
browser:
	@if [ -x "$(CHROMIUM)" ] || [ -n "$$SERVICELOOP_SKIP_BROWSER_TESTS" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "== installing Debian's chromium for the browser tests"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }; \
	else \
		echo "The browser tests need Debian's chromium at $(CHROMIUM): run 'sudo apt-get install -y chromium'"; \
		echo "(or set SERVICELOOP_SKIP_BROWSER_TESTS=1 to skip them on purpose)."; exit 1; \
	fi

pytest: $(VENV)/.installed-dev browser
	@echo "== test suite on SQLite"
	env -u SERVICELOOP_DATABASE_URL $(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q

# Runs only when SERVICELOOP_TEST_DATABASE_URL is set; an unreachable server fails the run.
pytest-postgres: $(VENV)/.installed-dev browser
	@if [ -n "$$SERVICELOOP_TEST_DATABASE_URL" ]; then \
		echo "== test suite on $$SERVICELOOP_TEST_DATABASE_URL"; \
		SERVICELOOP_DATABASE_URL="$$SERVICELOOP_TEST_DATABASE_URL" $(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q; \
	else echo "== SERVICELOOP_TEST_DATABASE_URL is not set: the PostgreSQL run is not asked for"; fi

bench: $(VENV)/.installed-dev
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
