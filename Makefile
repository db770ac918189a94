# Two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
WORKERS ?= 2
# host:port as gunicorn binds it and as a URL spells it (an IPv6 address goes in brackets)
HOSTPORT = $(if $(findstring :,$(HOST)),[$(HOST)],$(HOST)):$(PORT)
# The app's instance folder (database, secret key), as survey.config finds it.
INSTANCE ?= $(or $(SURVEY_INSTANCE_PATH),instance)

.PHONY: run test lint bench-analysis bench-load clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[postgres]'
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[postgres,test]'
	touch $@

# Printed links and QR codes point at the address served here, unless SURVEY_BASE_URL is set
# (set it to the LAN or public address when HOST=0.0.0.0, so phones can reach it).
run: export SURVEY_BASE_URL ?= http://$(HOSTPORT)
# gunicorn >= 25.1 opens a control socket, by default one shared path for every instance:
# each `make run` gets its own, next to its database (older gunicorn has none).
run: $(VENV)/.installed
	$(BIN)/survey bootstrap
	mkdir -p '$(INSTANCE)'
	$(BIN)/gunicorn --workers $(WORKERS) --bind '$(HOSTPORT)' --access-logfile - \
	    $$($(BIN)/gunicorn --help | grep -q -- '--control-socket PATH' \
	       && echo "--control-socket $(INSTANCE)/gunicorn-$(PORT).ctl") \
	    wsgi:app

test: lint
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench-analysis: $(VENV)/.installed-test
	$(BIN)/python benchmarks/analysis.py

bench-load: $(VENV)/.installed-test
	$(BIN)/python benchmarks/load.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
