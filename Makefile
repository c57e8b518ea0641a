# The two set-up commands of the README: `make demo` and `make test`. Both work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test test-sqlite test-postgres lint bench mutation clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# for the tests: the browser test drives Debian's Chromium (Playwright never downloads a browser), with a CJK
# font for its screenshots; the only system-wide install, and only for tests
install: $(BIN)/.installed
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei) \
		|| echo "chromium not installed: the browser test will be skipped"; fi

# the demo installs nothing system-wide: the project's venv only (no browser, no fonts)
demo: $(BIN)/.installed
	$(BIN)/gongwei demo

lint: install
	$(BIN)/ruff check src tests

test-sqlite: install
	GONGWEI_TEST_DB=sqlite $(BIN)/pytest -q -p no:cacheprovider

test-postgres: install
	GONGWEI_TEST_DB=postgres $(BIN)/pytest -q -p no:cacheprovider

test: lint test-sqlite test-postgres

# Mutation testing of the rules named in [tool.mutmut] (pyproject.toml); minutes, not for CI. docs/testing.md.
mutation: install
	$(BIN)/pip install --quiet -e '.[dev,mutation]'
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

bench: install
	$(BIN)/python -m gongwei.synth.bench

clean:
	rm -rf $(VENV) data .pytest_cache
