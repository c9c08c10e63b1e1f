#!/usr/bin/env bash
# Installs a DuckDB 1.x Python client into .duckdb1/ (a side directory, not the venv), for the
# test that opens the published serving file the way a BI driver bundling DuckDB 1.x would.
# Usage: PYTHON=.venv/bin/python scripts/install_duckdb1.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
DUCKDB1_VERSION="1.5.6"  # newest 1.x release; must differ from the venv's duckdb 2.x
TARGET=.duckdb1

if [ -f "$TARGET/.installed-$DUCKDB1_VERSION" ]; then
    exit 0
fi
rm -rf "$TARGET"
"$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps --target "$TARGET" \
    "duckdb==$DUCKDB1_VERSION"
touch "$TARGET/.installed-$DUCKDB1_VERSION"
