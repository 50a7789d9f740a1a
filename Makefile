# Kehu — the one entry point. `make run` and `make test` are the two set-up commands (interfaces.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
KEHU := $(BIN)/kehu
PYTEST_ARGS ?=

.PHONY: run test test-sqlite test-postgres lint format bench browser-deps messages clean help

help:
	@echo "make run   — install into $(VENV), migrate, load demo data on an empty database, serve on :$${KEHU_PORT:-8000}"
	@echo "make test  — install test dependencies (+ Chromium when possible) and run the suite (SQLite, then PostgreSQL if KEHU_TEST_DATABASE_URL is set)"
	@echo "make lint  — ruff, mypy, import-linter, makemigrations --check"
	@echo "make bench — benchmarks, results written to docs/benchmarks.md"

$(VENV)/.python-ok:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Kehu needs Python >= 3.11 (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@touch $@

$(VENV)/.installed-base: $(VENV)/.python-ok requirements/base.txt pyproject.toml
	$(PY) -m pip install --quiet -r requirements/base.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed-base requirements/test.txt
	$(PY) -m pip install --quiet -r requirements/test.txt
	@touch $@

# Bytecode compiled up front, as a pip-installed package has it: the server's workers and the scheduler's
# jobs then start without compiling each module (also when PYTHONDONTWRITEBYTECODE is set).
run: $(VENV)/.installed-base
	$(PY) -m compileall -q kehu config
	$(KEHU) migrate
	$(KEHU) demo --if-empty
	$(KEHU) serve

# Browser tests need Debian's chromium and CJK fonts, the mail tests Debian's dovecot (IMAP); install them
# when we are allowed to (root or sudo).
browser-deps:
	@if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi 'Noto.*CJK' && [ -x /usr/sbin/dovecot ]; then \
	  echo "chromium, CJK fonts and dovecot present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk dovecot-core dovecot-imapd >/dev/null; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then \
	  (sudo apt-get update -qq || true) && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk dovecot-core dovecot-imapd >/dev/null; \
	else \
	  echo "cannot install chromium/dovecot here; browser and IMAP tests will be skipped unless KEHU_REQUIRE_BROWSER=1 (or CI) is set"; \
	fi

test: $(VENV)/.installed-test browser-deps
	$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$$KEHU_TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; \
	 else echo "KEHU_TEST_DATABASE_URL not set: PostgreSQL run skipped"; fi

test-sqlite: $(VENV)/.installed-test
	@echo "== test suite on SQLite =="
	env -u KEHU_TEST_DATABASE_URL $(BIN)/pytest -n 2 $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed-test
	@echo "== test suite on PostgreSQL ($$KEHU_TEST_DATABASE_URL) =="
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy kehu config
	DJANGO_SETTINGS_MODULE=config.settings.test $(KEHU) makemigrations --check --dry-run

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Chinese is the source language (msgids are Chinese); English comes from locale/en.
messages: $(VENV)/.installed-base
	$(KEHU) makemessages -l en --no-obsolete --ignore '.venv/*' --ignore 'var/*' --ignore 'static/vendor/*' --ignore '*/tests/*' --ignore 'tests/*' --ignore 'bench/*'
	$(KEHU) compilemessages -l en --ignore '.venv/*'


# wrk drives the load; without it bench falls back to its slower Python load generator.
bench: $(VENV)/.installed-test
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || \
	  echo "wrk not installed: using the Python load generator"
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) var/staticfiles
