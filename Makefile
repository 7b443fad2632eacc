# The two commands of the project: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app dispatch
HOST ?= 127.0.0.1
PORT ?= 5000
# The address drivers' links and SMS callbacks are built on when PUBLIC_BASE_URL is not
# configured (instance/config.py or DISPATCH_PUBLIC_BASE_URL): where `make run` listens; on every
# interface, this machine's first address (a phone on the same network can open it).
PUBLIC_HOST ?= $(if $(filter 0.0.0.0 ::,$(HOST)),$(or $(firstword $(shell hostname -I 2>/dev/null)),127.0.0.1),$(HOST))
MO := dispatch/translations/zh_Hans_CN/LC_MESSAGES/messages.mo
# The demo's travel day on a fresh database: a week ahead, so that its SMS and drivers' links
# work (and retention does not empty it); DEMO_DAY=2026-03-01 replays the spring 2026 dates.
DEMO_DAY ?= $(shell date -d '+7 days' +%F)

# The suite on every core (pytest-xdist), at most four: each worker starts its own Chromium
# and PostgreSQL server. PYTEST_ARGS= runs it in one process.
PYTEST_ARGS ?= --numprocesses auto --maxprocesses 4

.PHONY: run test lint translations extract-messages bench clean

run: $(VENV)/.installed-run $(MO)
	$(FLASK) db upgrade
	$(FLASK) demo load --if-empty --day $(DEMO_DAY)
	$(FLASK) users create admin --role admin --if-missing < /dev/null
	DISPATCH_SCHEDULER_ENABLED=$${DISPATCH_SCHEDULER_ENABLED:-true} \
	$(FLASK) serve --host $(HOST) --port $(PORT) --public-url http://$(PUBLIC_HOST):$(PORT)

test: $(VENV)/.installed-dev $(MO)
	$(BIN)/ruff check dispatch tests bench tools
	$(BIN)/ruff format --check dispatch tests bench tools wsgi.py
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check dispatch tests bench tools
	$(BIN)/ruff format --check dispatch tests bench tools wsgi.py

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt requirements-bench.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-run

translations: $(MO)

dispatch/translations/%/LC_MESSAGES/messages.mo: dispatch/translations/%/LC_MESSAGES/messages.po | $(VENV)/.installed-run
	$(BIN)/pybabel compile --use-fuzzy -d dispatch/translations -l $* -i $< -o $@

# Refresh the catalogues after adding strings: extract, then merge into each .po.
extract-messages: $(VENV)/.installed-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 --no-location --sort-output -o dispatch/translations/messages.pot dispatch
	$(BIN)/pybabel update -i dispatch/translations/messages.pot -d dispatch/translations --no-fuzzy-matching

bench: $(VENV)/.installed-dev
	$(BIN)/pip install --quiet -r requirements-bench.txt
	$(BIN)/python bench/planner.py
	$(BIN)/python bench/import_bench.py
	$(BIN)/python bench/board.py
	$(BIN)/python bench/notify.py
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) $(MO)
