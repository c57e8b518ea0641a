# The two set-up commands of the README: `make demo` and `make test`. Both work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install assets screenshots messages bulletin-samples demo test test-sqlite test-postgres lint bench mutation clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# for the tests: the browser test drives Debian's Chromium (Playwright never downloads a browser), with a CJK
# font for its screenshots and the bulletins' charts; the bulletin test converts DOCX to PDF with LibreOffice and
# renders its first page with pdftoppm (poppler-utils); the catalogue test collects the pages' strings with
# xgettext (gettext). The only system-wide install, and only for tests
SYSTEM_PACKAGES := chromium fonts-wqy-microhei libreoffice-writer-nogui poppler-utils gettext
install: $(BIN)/.installed assets
	@if command -v apt-get >/dev/null 2>&1 && { [ ! -x /usr/bin/chromium ] || ! command -v soffice >/dev/null \
			|| ! command -v pdftoppm >/dev/null || ! command -v xgettext >/dev/null || [ ! -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; }; then \
		(apt-get update -qq && apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES)) \
		|| echo "$(SYSTEM_PACKAGES) not installed: the browser and bulletin PDF tests will be skipped"; fi

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
# each journey that takes screenshots: its test file and its -k name (append one line each)
SCREENSHOT_TESTS := tests/test_screenshots.py tests/test_registration.py tests/test_encounters.py
SCREENSHOT_TESTS += tests/test_evaluation_web.py tests/test_self_service.py tests/test_contracts.py
SCREENSHOT_TESTS += tests/test_bulletins_web.py
SCREENSHOT_TESTS += tests/test_examinations.py tests/test_smi_followups.py
SCREENSHOT_TESTS += tests/test_maternal_child.py
SCREENSHOT_TESTS += tests/test_supervision_web.py
SCREENSHOT_TESTS += tests/test_surveys_web.py tests/test_coverage.py
SCREENSHOT_TESTS += tests/test_funds_web.py
SCREENSHOT_TESTS += tests/test_evaluation_schemes.py
SCREENSHOT_TESTS += tests/test_verification_web.py
SCREENSHOT_K := screenshots_of_the_main_pages or registers_a_resident or stale_edit_in_the_browser
SCREENSHOT_K += or enters_an_uncontrolled or evaluator_journey or reads_their_record or signs_and_records
SCREENSHOT_K += or preview_at_1366
SCREENSHOT_K += or enters_an_exam_with_an_arm_gap or enters_an_smi_visit
SCREENSHOT_K += or enters_a_child_check_and_a_vaccination
SCREENSHOT_K += or creates_items_and_closes_one
SCREENSHOT_K += or survey_journey_in_a_browser or coverage_upload_in_a_browser
SCREENSHOT_K += or enters_a_manual_score_and_publishes or enters_a_disbursement_in_a_browser
SCREENSHOT_K += or adapts_a_scheme_in_a_browser
screenshots: install
	rm -f docs/screenshots/*.png
	GONGWEI_SCREENSHOT_DIR=docs/screenshots $(BIN)/pytest -q -p no:cacheprovider $(SCREENSHOT_TESTS) -k "$(SCREENSHOT_K)"

# The English catalogue of the web pages (ADR 022): collect every {% translate %} / gettext string (msgids are
# the Chinese text) into src/gongwei/locale/en/LC_MESSAGES/django.po, then compile the .mo. Translate each new
# empty msgstr, run it again and commit both files (tests/test_web_i18n.py fails on an empty or stale entry).
messages: $(BIN)/.installed
	cd src/gongwei && DJANGO_SETTINGS_MODULE=gongwei.settings $(abspath $(BIN))/django-admin makemessages \
		-l en --no-location --no-obsolete --ignore 'static/*'
	cd src/gongwei && DJANGO_SETTINGS_MODULE=gongwei.settings $(abspath $(BIN))/django-admin compilemessages -l en

# The first page of the quarterly bulletin of the test region into docs/bulletins (the bulletin test writes it)
bulletin-samples: install
	GONGWEI_SCREENSHOT_DIR=docs/bulletins $(BIN)/pytest -q -p no:cacheprovider tests/test_bulletins.py -k docx
	GONGWEI_SCREENSHOT_DIR=docs/bulletins $(BIN)/pytest -q -p no:cacheprovider tests/test_bulletins_types.py -k "rectification_report_figures or work_report_section or annual_evaluation_bulletin"

# the demo installs nothing system-wide: the project's venv and the pinned browser libraries inside the project;
# it builds the demo database and logins, then serves the site with the background-job worker (Ctrl+C stops both)
demo: $(BIN)/.installed assets
	$(BIN)/gongwei demo

lint: install
	$(BIN)/ruff check src tests

# One test process per core (pytest-xdist; a file's tests stay together in one process, as they were written);
# PYTEST_WORKERS=0 runs them in this process
PYTEST_WORKERS ?= 2
test-sqlite: install
	GONGWEI_TEST_DB=sqlite $(BIN)/pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadfile

test-postgres: install
	GONGWEI_TEST_DB=postgres $(BIN)/pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadfile

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
