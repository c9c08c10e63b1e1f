# Two commands on a fresh clone: `make demo` and `make test`. Everything installs from PyPI
# into .venv, pinned by pyproject.toml and constraints.txt.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Run history of `make demo` and `make ui`, kept between sessions (the tests use their own).
DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install prepare browser java demo test ui lint clean
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

install: $(STAMP)

# .duckdb1: a DuckDB 1.x client beside the venv, for the test that opens the BI serving file
# the way a BI driver bundling an older DuckDB does.
$(STAMP): pyproject.toml constraints.txt scripts/install_duckdb1.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,spark,dask]'
	PYTHON=$(BIN)/python bash scripts/install_duckdb1.sh
	touch $(STAMP)

# The dbt manifest the Dagster code location reads when it loads: `dbt parse`, when the
# manifest is missing or older than a model (assets/project.py).
prepare: install
	$(BIN)/python -m assets.project

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $@

# Headless Chromium (Debian/Ubuntu package) for the S&OP pack's rendering test and screenshots;
# without it that test skips (CI=true makes it fail).
browser:
	command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  { $(SUDO) apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium; }

# Java 17 (Debian/Ubuntu package) for the Spark engine; without it the Spark tests skip
# (CI=true makes them fail).
java:
	command -v java >/dev/null || \
	  { $(SUDO) apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q openjdk-17-jre-headless; }

# Generates the demo company on first use, runs the last 12 monthly cycles, prints a summary.
demo: prepare $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/sop run --last 12

test: prepare
	$(BIN)/python -m pytest

ui: prepare $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/dagster dev -w workspace.yaml

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .duckdb1 warehouse demo_data .dagster_home dbt_project/target dbt_project/logs
