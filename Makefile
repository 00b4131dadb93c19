# Fluxo: `make run` sets up and starts the whole app; `make test` sets up and runs every test.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test setup venv frontend chromium gettext locale messages migrate demo lint bench bench-e2e bench-soak wrk clean

setup: venv frontend locale

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PY) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	@touch $@

frontend: static/build/.built

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

FRONTEND_SOURCES := $(shell find frontend/src frontend/index.html frontend/vite.config.ts frontend/tsconfig.json -type f 2>/dev/null)
static/build/.built: frontend/node_modules/.installed $(FRONTEND_SOURCES)
	cd frontend && npm run build
	@touch $@

# System Chromium for the browser tests (Playwright drives it through executable_path).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Chromium (Debian package) for the browser tests..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); }

# GNU gettext: makemessages (and the test that no string lacks its pt_BR translation) needs its
# xgettext, so the same toolchain compiles the catalogue; installed from Debian when missing.
gettext:
	@command -v msgfmt >/dev/null 2>&1 || { \
	  echo "Installing GNU gettext (Debian package) for the pt_BR catalogue..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null) || \
	  (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null); }

LOCALE_PO := locale/pt_BR/LC_MESSAGES/django.po
locale: $(LOCALE_PO:.po=.mo)

$(LOCALE_PO:.po=.mo): $(LOCALE_PO) | gettext venv
	$(BIN)/python manage.py compilemessages -l pt_BR --ignore=.venv --ignore=node_modules

# After marking new strings: refresh the catalogue, then translate its empty msgstr entries.
MAKEMESSAGES_IGNORE := --ignore=.venv --ignore=frontend --ignore=var --ignore=static --ignore=tests --ignore=bench
messages: venv gettext
	$(BIN)/python manage.py makemessages -l pt_BR --no-location --no-obsolete $(MAKEMESSAGES_IGNORE)

migrate: venv
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo

# Web, beat and two workers under config/supervisor.py: a process that dies is restarted, Ctrl-C
# stops them all; the login and the URLs are printed last, once the web answers.
run: setup migrate
	$(BIN)/python manage.py seed_demo --no-banner
	exec $(BIN)/python -m config.supervisor

test: setup chromium gettext
	$(BIN)/python -m tests.services_check
	$(BIN)/lint-imports --no-cache
	cd frontend && npm test --silent
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

# wrk drives the end-to-end benchmark's webhooks (Debian package, installed when missing).
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "Installing wrk (Debian package) for the end-to-end benchmark..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) || \
	  (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null); }

bench: venv wrk
	$(BIN)/python -m bench

# The production topology on this machine: webhooks in (wrk), replies out (fake Graph API).
bench-e2e: venv wrk
	$(BIN)/python -m bench.e2e

# The embedded default (SQLite, SQLite broker, beat, two workers under the supervisor) under traffic
# for SOAK_MINUTES (default 60): processes alive, restarts, events lost or duplicated, idle console lines.
SOAK_MINUTES ?= 60
bench-soak: venv
	$(BIN)/python -m bench.embedded_soak --minutes $(SOAK_MINUTES)

clean:
	rm -rf var static/build frontend/node_modules $(VENV)
