"""The copies `publish` swaps in: checking the tables (names, presence, types storage format
STORAGE_VERSION holds), their comments, and writing the serving file (tables and their
`latest_<table>` views) and the Parquet files."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import duckdb

from sop_pipeline.sql import ident, literal
from sop_pipeline.tables import BASELINE, OUTPUT_TABLES

# Oldest storage format holding every type below; DuckDB writes anything older as this one.
STORAGE_VERSION = "v0.10.0"

# Column types the v0.10.0 storage format holds (lists of them too). Newer types (BIGNUM,
# VARIANT, ...) would be written all the same but break DuckDB 1.x readers: refuse them.
_READABLE_TYPES = frozenset({
    "BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
    "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "DATE", "TIME",
    "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE",
    "TIME WITH TIME ZONE", "INTERVAL", "VARCHAR", "BLOB", "UUID",
})
# A view per table with a cycle_month column: its newest cycle's rows, so that a dashboard
# need not filter on the latest cycle itself.
LATEST_PREFIX = "latest_"
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ATTACH_ALIAS = "_sop_serving_new"


class PublishError(RuntimeError):
    """Publishing refused or failed; the previous publication is left in place."""


def check_tables(
    con: duckdb.DuckDBPyConnection, source_db: str, names: list[str]
) -> dict[str, dict[str, str]]:
    """Column name -> type of each table; PublishError for a bad name, missing table or type."""
    if not names:
        raise PublishError("no tables to publish")
    bad = [name for name in names if not _TABLE_NAME.match(name)]
    if bad:
        raise PublishError(f"not a plain table name: {', '.join(map(repr, bad))}")
    found = con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? AND schema_name = 'main' AND list_contains(?, table_name) "
        "ORDER BY table_name, column_index",
        [source_db, names],
    ).fetchall()
    columns: dict[str, dict[str, str]] = {}
    for table, column, data_type in found:
        columns.setdefault(table, {})[column] = data_type
    missing = [name for name in names if name not in columns]
    if missing:
        raise PublishError(
            f"cannot publish: table(s) {', '.join(missing)} not found in {source_db}.main; "
            "the previous publication is left in place"
        )
    unreadable = [
        f"{table}.{column} {data_type}"
        for table, types in columns.items()
        for column, data_type in types.items()
        if not _readable(data_type)
    ]
    if unreadable:
        raise PublishError(
            f"column type(s) not held by storage format {STORAGE_VERSION} (DuckDB 1.x readers): "
            + ", ".join(unreadable)
        )
    return columns


def serving_comments(
    con: duckdb.DuckDBPyConnection,
    source_db: str,
    names: list[str],
    overrides: dict[str, tuple[str, dict[str, str]]],
) -> dict[str, tuple[str | None, dict[str, str]]]:
    """Table comment and column comments per table: overrides, else source, else declared."""
    source_tables = dict(con.execute(
        "SELECT table_name, comment FROM duckdb_tables() WHERE database_name = ? "
        "AND schema_name = 'main' AND comment IS NOT NULL AND comment <> ''",
        [source_db],
    ).fetchall())
    source_columns: dict[str, dict[str, str]] = {}
    for table, column, comment in con.execute(
        "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE database_name = ? "
        "AND schema_name = 'main' AND comment IS NOT NULL AND comment <> ''",
        [source_db],
    ).fetchall():
        source_columns.setdefault(table, {})[column] = comment

    result = {}
    for name in names:
        declared = OUTPUT_TABLES.get(name)
        table_comment = source_tables.get(name)
        column_comments: dict[str, str] = {}
        if declared is not None:
            table_comment = table_comment or (
                f"{declared.description} Grain: {', '.join(declared.grain)}."
            )
            column_comments = {column: text for column, _, text in declared.columns}
        column_comments |= source_columns.get(name, {})
        if name in overrides:
            table_comment = overrides[name][0] or table_comment
            column_comments |= overrides[name][1]
        result[name] = (table_comment, column_comments)
    return result


def latest_views(columns: dict[str, dict[str, str]]) -> dict[str, str]:
    """View name -> table: `latest_<table>` for every table (name -> its columns) with a
    cycle_month column; PublishError where a view's name is that of a published table."""
    views = {
        f"{LATEST_PREFIX}{name}": name for name, types in columns.items() if "cycle_month" in types
    }
    clashes = sorted(set(views) & set(columns))
    if clashes:
        raise PublishError(f"table name(s) {', '.join(clashes)} clash with the latest-cycle "
                           f"view of {', '.join(views[name] for name in clashes)}")
    return views


def write_serving_file(
    con: duckdb.DuckDBPyConnection,
    relations: dict[str, str],
    comments: dict[str, tuple[str | None, dict[str, str]]],
    path: Path,
    views: dict[str, str],
) -> None:
    """A complete serving file at `path`: tables, `views` (name -> table) of their latest
    cycle, comments, checkpointed, closed, fsynced."""
    source_db = con.execute("SELECT current_database()").fetchone()[0]
    con.execute(
        f"ATTACH {literal(path)} AS {_ATTACH_ALIAS} (STORAGE_VERSION '{STORAGE_VERSION}')"
    )
    try:
        con.execute("BEGIN TRANSACTION")  # one commit, not one per statement
        try:
            _create_serving_tables(con, relations, comments)
            con.execute(f"USE {_ATTACH_ALIAS}")  # the views bind to the serving file's tables
            _create_latest_views(con, views, comments)
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise
        finally:
            con.execute(f"USE {ident(source_db)}")  # USE is not undone by a rollback
        con.execute(f"CHECKPOINT {_ATTACH_ALIAS}")
    finally:
        con.execute(f"DETACH {_ATTACH_ALIAS}")
    if Path(f"{path}.wal").exists():
        raise PublishError(f"serving file {path} left a WAL after CHECKPOINT")
    _fsync(path)


def write_parquet(
    con: duckdb.DuckDBPyConnection, relations: dict[str, str], directory: Path
) -> None:
    """One Parquet file per table (name -> its published rows) in a new directory, fsynced."""
    directory.mkdir()
    for name, relation in relations.items():
        path = directory / f"{name}.parquet"
        con.execute(
            f"COPY (SELECT * FROM {relation}) TO {literal(path)} "
            "(FORMAT parquet, COMPRESSION zstd)"
        )
        _fsync(path)
    fsync_dir(directory)


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (new files, renames) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def source_table(source_db: str, name: str) -> str:
    """Table `name` of the main schema of database `source_db`, quoted for SQL."""
    return f"{ident(source_db)}.main.{ident(name)}"


def _readable(data_type: str) -> bool:
    base = re.sub(r"(\[\d*\])+$", "", data_type)  # lists and arrays of a readable type
    return re.sub(r"\(.*\)$", "", base) in _READABLE_TYPES  # DECIMAL(18,3)


def published_rows(con: duckdb.DuckDBPyConnection, source_db: str, name: str) -> str:
    """The rows of table `name` a publication holds, as SQL: every row; of a table of plan
    scenarios, each cycle's adopted plan only (plan_version; the baseline where the cycle
    adopted none, or before plan_version exists). The what-ifs are compared in scenario_kpis
    and kept, row by row, in the working file."""
    table = source_table(source_db, name)
    if name not in OUTPUT_TABLES or not OUTPUT_TABLES[name].plans_scenarios:
        return table
    adopted = literal(BASELINE)
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND "
                   "schema_name = 'main' AND table_name = 'plan_version'",
                   [source_db]).fetchone()[0]:
        adopted = (f"coalesce((SELECT v.scenario FROM {source_table(source_db, 'plan_version')}"
                   f" AS v WHERE v.cycle_month = t.cycle_month), {adopted})")
    return f"(SELECT t.* FROM {table} AS t WHERE t.scenario = {adopted})"


def _create_serving_tables(
    con: duckdb.DuckDBPyConnection,
    relations: dict[str, str],
    comments: dict[str, tuple[str | None, dict[str, str]]],
) -> None:
    """Copy each table (name -> its published rows) with its comments into the attached
    serving file."""
    for name, relation in relations.items():
        target = f"{_ATTACH_ALIAS}.main.{ident(name)}"
        con.execute(f"CREATE TABLE {target} AS SELECT * FROM {relation}")
        table_comment, column_comments = comments[name]
        if table_comment:
            con.execute(f"COMMENT ON TABLE {target} IS {literal(table_comment)}")
        existing = {row[0] for row in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = ? "
            "AND table_name = ?", [_ATTACH_ALIAS, name]).fetchall()}
        for column, text in column_comments.items():
            if column in existing:
                con.execute(
                    f"COMMENT ON COLUMN {target}.{ident(column)} IS {literal(text)}"
                )


def _create_latest_views(
    con: duckdb.DuckDBPyConnection,
    views: dict[str, str],
    comments: dict[str, tuple[str | None, dict[str, str]]],
) -> None:
    """Create each view (name -> table) of the table's newest cycle in the serving file, the
    connection's default database (USE), with the table's column comments.

    The views name their tables unqualified and are created with the serving file as the
    default database, so they read the serving file's own tables only: opened directly, the
    file answers them in every DuckDB that reads it; ATTACHed under another name, DuckDB 1.2
    and later resolve them in the file itself (0.10 to 1.1 need `USE <alias>` first).
    """
    for view, table in views.items():
        target = f"{_ATTACH_ALIAS}.main.{ident(view)}"
        con.execute(
            f"CREATE VIEW {target} AS SELECT * FROM {ident(table)} "
            f"WHERE cycle_month = (SELECT max(cycle_month) FROM {ident(table)})"
        )
        table_comment, column_comments = comments[table]
        con.execute(f"COMMENT ON VIEW {target} IS {literal(_view_comment(table, table_comment))}")
        existing = {row[0] for row in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = ? "
            "AND table_name = ?", [_ATTACH_ALIAS, view]).fetchall()}
        for column, text in column_comments.items():
            if column in existing:
                con.execute(f"COMMENT ON COLUMN {target}.{ident(column)} IS {literal(text)}")


def _view_comment(table: str, table_comment: str | None) -> str:
    declared = OUTPUT_TABLES.get(table)
    if declared is not None and declared.plans_scenarios:
        head = (f"The latest adopted plan: the rows of {table} of its newest cycle_month, "
                "which hold that cycle's adopted plan (plan_version; the baseline where no "
                "decision adopted one).")
    else:
        head = f"The rows of {table} of its newest cycle_month."
    return f"{head} {table_comment}" if table_comment else head


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
