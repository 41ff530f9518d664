# Chat Assist: `make run` for the demo, `make test` for the whole suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve worker events-worker test lint format demo-data bench clean messages messages-check messages-compile

## The app with demo data on SQLite at http://127.0.0.1:8000/admin/, and the waiting-queue
## worker beside it (so waiting sessions drain by themselves); Ctrl-C stops both
run: $(VENV)/.installed .env messages-compile
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --manager --url http://$(HOST):$(PORT)/admin/
	$(PY) manage.py assign_waiting --loop --interval 2 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

## Production-like: DEBUG off, hashed static files through whitenoise, gunicorn (Ctrl-C stops)
serve: $(VENV)/.installed .env messages-compile
	$(PY) manage.py migrate --noinput
	DEBUG=false $(PY) manage.py collectstatic --noinput --verbosity 0
	DEBUG=false GUNICORN_BIND=$${GUNICORN_BIND:-$(HOST):$(PORT)} $(VENV)/bin/gunicorn

## The waiting-queue worker in the foreground (Ctrl-C stops it between two sessions)
worker: $(VENV)/.installed .env
	$(PY) manage.py assign_waiting --loop

## The outbound events worker in the foreground (Ctrl-C stops it after the batch in hand)
events-worker: $(VENV)/.installed .env
	$(PY) manage.py deliver_events --loop

## The benchmark (docs/BENCHMARKS.md): webhook over HTTP vs pgbench, on the PostgreSQL of
## DATABASE_URL (default postgres://postgres@127.0.0.1:5432/chatassist_bench, recreated)
bench: $(VENV)/.installed
	$(PY) bench/run.py $(BENCH_ARGS)

## The whole suite (lint, types, no missing migration, then tests; on PostgreSQL too when
## DATABASE_URL points at one)
test: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemigrations --check --dry-run
	$(MAKE) --no-print-directory messages-check
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## Translations (README "Languages"): update the catalogues from the source, check them
## (every source string present and translated, nothing fuzzy) and compile them to .mo files.
## The .mo files are built, never committed (.gitignore), so they cannot go stale.
MESSAGES_IGNORE := --ignore='.venv/*' --ignore='tests/*' --ignore='bench/*' --ignore='staticfiles/*'
messages: $(VENV)/.installed
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemessages -l zh_Hant -l zh_Hans -l ja \
		--no-location --no-obsolete $(MESSAGES_IGNORE)
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemessages -d djangojs \
		-l zh_Hant -l zh_Hans -l ja --no-location --no-obsolete $(MESSAGES_IGNORE)

messages-check: $(VENV)/.installed messages-compile
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py messages_check

messages-compile: $(VENV)/.installed
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py compilemessages --ignore='.venv' --verbosity 0

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

# A development .env with fresh random secrets, written once (never committed).
.env: | $(VENV)/bin/python
	$(PY) -c "import secrets, base64; print('DEBUG=true'); print('LOG_FORMAT=plain'); \
	print('SECRET_KEY=' + secrets.token_urlsafe(50)); \
	print('WEBHOOK_SECRET=whsec_' + base64.b64encode(secrets.token_bytes(24)).decode())" > $@
	@echo "Wrote .env with a new SECRET_KEY and WEBHOOK_SECRET (DEBUG on, plain logs: for development)."

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles .pytest_cache .ruff_cache *.egg-info
