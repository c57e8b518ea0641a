# The two set-up commands of the README: `make demo` and `make test`. Both work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install assets screenshots messages demo test test-sqlite test-postgres lint bench mutation clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# for the tests: the browser test drives Debian's Chromium (Playwright never downloads a browser), with a CJK
# font for its screenshots; the only system-wide install, and only for tests
install: $(BIN)/.installed assets
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei) \
		|| echo "chromium not installed: the browser test will be skipped"; fi

# Browser libraries (htmx, ECharts) from the npm registry at the versions pinned in web-assets/package-lock.json,
# copied beside the app's static files and served by Django: no CDN on the health private network (ADR 017).
VENDOR := src/gongwei/web/static/vendor
assets: $(VENDOR)/htmx.min.js $(VENDOR)/echarts.min.js

$(VENDOR)/htmx.min.js $(VENDOR)/echarts.min.js &: web-assets/package.json web-assets/package-lock.json
	@command -v npm >/dev/null || { echo "需要 npm（Node.js）安装 htmx 与 ECharts：apt-get install --no-install-recommends npm"; exit 1; }
	npm ci --prefix web-assets --no-audit --no-fund --silent
	mkdir -p $(VENDOR)
	cp web-assets/node_modules/htmx.org/dist/htmx.min.js web-assets/node_modules/echarts/dist/echarts.min.js $(VENDOR)/
	touch $(VENDOR)/htmx.min.js $(VENDOR)/echarts.min.js

# Screenshots of the main pages at 1366×768, each as the role that uses it, into docs/screenshots (one Playwright
# walk over a demo region: tests/test_screenshots.py; docs/web.md lists them). Look at them before committing.
screenshots: install
	rm -f docs/screenshots/*.png
	GONGWEI_SCREENSHOT_DIR=docs/screenshots $(BIN)/pytest -q -p no:cacheprovider tests/test_screenshots.py

# The English catalogue of the web pages (ADR 022): collect every {% translate %} / gettext string (msgids are
# the Chinese text) into src/gongwei/locale/en/LC_MESSAGES/django.po, then compile the .mo. Translate each new
# empty msgstr, run it again and commit both files (tests/test_web_i18n.py fails on an empty or stale entry).
messages: $(BIN)/.installed
	cd src/gongwei && DJANGO_SETTINGS_MODULE=gongwei.settings $(abspath $(BIN))/django-admin makemessages \
		-l en --no-location --no-obsolete --no-fuzzy-matching --ignore 'static/*'
	cd src/gongwei && DJANGO_SETTINGS_MODULE=gongwei.settings $(abspath $(BIN))/django-admin compilemessages -l en

# the demo installs nothing system-wide: the project's venv and the pinned browser libraries inside the project;
# it builds the demo database and logins, then serves the site with the background-job worker (Ctrl+C stops both)
demo: $(BIN)/.installed assets
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
