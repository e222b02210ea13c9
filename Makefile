# One command to run the service, one to test it. See README.md.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DEV := DJANGO_DEBUG=1
# The real stack: PostgreSQL and Redis on this machine (bin/ensure-services starts them).
REAL_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/recueil
REAL_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: install run demo test test-real lint browser ci clean bench

$(BIN)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	touch $@

install: $(BIN)/.installed

## make run: set up everything and serve on http://127.0.0.1:8000 (SQLite, eager Celery,
## e-mails printed in this terminal, demo data from the real FINESS excerpts).
run: install
	$(DEV) $(BIN)/python manage.py migrate --noinput
	$(DEV) $(BIN)/python manage.py load_demo
	$(DEV) $(BIN)/python manage.py runserver 127.0.0.1:8000

## Debian's Chromium for the Playwright tests (never a browser downloaded by a tool).
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "Installez Chromium : sudo apt-get install -y chromium" >&2; exit 1; fi; }

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(DEV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(DEV) $(BIN)/mypy

## make test: the whole suite on the embedded default (SQLite, eager Celery, SMTP sink).
test: install browser lint
	$(BIN)/pytest

## make test-real: the same suite on PostgreSQL + Redis + a real Celery worker + SMTP sink.
test-real: install browser
	bin/ensure-services
	DATABASE_URL=$(REAL_DATABASE_URL) REDIS_URL=$(REAL_REDIS_URL) $(BIN)/pytest

ci: test test-real

## make bench: every benchmark, on PostgreSQL (database recueil_bench, created if missing) and
## Redis; figures to compare with docs/performance.md. Takes several minutes.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/recueil_bench
bench: install
	bin/ensure-services
	psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname = 'recueil_bench'" | grep -q 1 \
	  || psql -h 127.0.0.1 -U postgres -qc "create database recueil_bench"
	set -e; for script in bench/bench_*.py; do \
	  echo "== $$script"; \
	  BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) DATABASE_URL=$(BENCH_DATABASE_URL) \
	    $(DEV) $(BIN)/python $$script; \
	done

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles test-artifacts celery-test-worker.log
