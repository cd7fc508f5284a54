# NQI Hub — the two commands that matter: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: demo setup test serve worker lint schema messages clean

## Set up, migrate, load the demo data and serve on http://127.0.0.1:8000
demo: setup
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py seed_metrology_demo
	$(BIN)/python manage.py seed_sampling_demo
	@echo "NQI Hub: http://$(HOST):$(PORT)/  (demo accounts: see README.md)"
	@# A task worker (background imports) and the daily jobs (due reminders, clean-up) run beside
	@# the web server and stop with it.
	@$(BIN)/python manage.py db_worker --interval 1 >$${NQI_VAR_DIR:-var}/worker.log 2>&1 & worker=$$!; \
	  $(BIN)/python manage.py run_daily >$${NQI_VAR_DIR:-var}/daily.log 2>&1 & daily=$$!; \
	  trap 'kill $$worker $$daily 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/gunicorn nqihub.wsgi --bind $(HOST):$(PORT) --workers 2 --threads 4 --access-logfile -

## The whole test suite (SQLite by default; set DATABASE_URL=postgres://… for PostgreSQL)
test: setup
	$(BIN)/pytest

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.txt -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

serve: setup
	$(BIN)/gunicorn nqihub.wsgi --bind $(HOST):$(PORT) --workers 2 --threads 4

## A task worker on its own (production runs these under systemd, see docs/deployment.md)
worker: setup
	$(BIN)/python manage.py db_worker

## Lint, the layer contract and the types of the kernel apps (configuration in pyproject.toml)
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

## Regenerate the committed OpenAPI schema after an API change
schema: setup
	$(BIN)/python manage.py spectacular --api-version v1 --lang en --file schema/openapi.yaml --validate

## Regenerate and compile the translations (needs gettext)
messages: setup
	$(BIN)/python manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=staticfiles --no-obsolete
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var staticfiles
