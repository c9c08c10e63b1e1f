# Two commands on a fresh clone: `make demo` and `make test`. Everything installs from PyPI
# into .venv, pinned by pyproject.toml and constraints.txt.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Run history of `make demo` and `make ui`, kept between sessions (the tests use their own).
DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install demo test ui lint clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $@

# Generates the demo company on first use, runs the last 12 monthly cycles, prints a summary.
demo: install $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/sop run --last 12

test: install
	$(BIN)/python -m pytest

ui: install $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/dagster dev -w workspace.yaml

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) warehouse demo_data .dagster_home dbt_project/target dbt_project/logs
