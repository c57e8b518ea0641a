# The two set-up commands of the README: `make demo` and `make test`. Both work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test test-sqlite test-postgres lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/gongwei demo

lint: install
	$(BIN)/ruff check src tests

test-sqlite: install
	GONGWEI_TEST_DB=sqlite $(BIN)/pytest -q -p no:cacheprovider

test-postgres: install
	GONGWEI_TEST_DB=postgres $(BIN)/pytest -q -p no:cacheprovider

test: lint test-sqlite test-postgres

bench: install
	$(BIN)/python -m gongwei.synth.bench

clean:
	rm -rf $(VENV) data .pytest_cache
