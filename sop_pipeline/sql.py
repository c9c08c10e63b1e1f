"""Quoting for the SQL text DuckDB cannot take as a parameter: identifiers (a column an extract
sent, a table) and literals in DDL, ATTACH and table functions (a path such as `l'usine/…`).

Values a query compares with go in as parameters (`?`); what cannot goes through these two.
"""

from __future__ import annotations


def ident(name: str) -> str:
    """`name` as a quoted SQL identifier, inner double quotes doubled (`a"b` -> `"a""b"`)."""
    return '"' + str(name).replace('"', '""') + '"'


def literal(value: object) -> str:
    """`value` as a SQL string literal: `/data/l'usine` -> `'/data/l''usine'`."""
    return "'" + str(value).replace("'", "''") + "'"
