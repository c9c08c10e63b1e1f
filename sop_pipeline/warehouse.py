"""The working DuckDB file: where it is, reads of the planning tables, cycle-scoped writes.

Reads never create a table: a planning table that no cycle has written yet reads as an empty
relation of its declared columns. Only `replace_cycle_rows` creates (and migrates) tables.

A write made for a run (`run_id`) first keeps the rows it replaces in schema `cycle_journal`
(once per run, table and part of the cycle). `commit_run` forgets them when the run has
passed every check; `rollback_run` puts them back when it has not, so a failed cycle leaves
nothing of its own in the working file (sop_pipeline.runs decides which, at the run's end).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd

from sop_pipeline.sql import literal
from sop_pipeline.tables import BASELINE, OUTPUT_TABLES, OutputTable

DB_NAME = "sop.duckdb"
JOURNAL = "cycle_journal"  # schema of the rows a run's writes replaced, until it ends
_RUN_COLUMN = "_journal_run"


def default_warehouse_dir() -> Path:
    """`$SOP_WAREHOUSE_DIR`, else `./warehouse`."""
    return Path(os.environ.get("SOP_WAREHOUSE_DIR", "warehouse")).resolve()


def database_path(warehouse_dir: Path | str) -> Path:
    return Path(warehouse_dir) / DB_NAME


def connect(warehouse_dir: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path = database_path(warehouse_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), read_only=read_only)


def query(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None
          ) -> pd.DataFrame:
    """Run a read; DATE and TIMESTAMP columns come back as pandas Timestamps."""
    result = con.execute(sql, params or [])
    dates = [name for name, type_code, *_ in result.description
             if str(type_code) in ("DATE", "TIMESTAMP")]
    frame = result.df()
    for column in dates:
        frame[column] = pd.to_datetime(frame[column])
    return frame


def output_relation(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """SQL naming planning table `name`, or an empty relation of its declared columns if no
    cycle has written it yet."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?",
        [name],
    ).fetchone()[0]
    if exists:
        return f"main.{name}"
    columns = ", ".join(f"CAST(NULL AS {sql_type}) AS {column}"
                        for column, sql_type, _ in OUTPUT_TABLES[name].columns)
    return f"(SELECT {columns} LIMIT 0) AS {name}"


def cycle_rows(con: duckdb.DuckDBPyConnection, name: str, cycle_month: pd.Timestamp,
               scenario: str = BASELINE) -> pd.DataFrame:
    """One cycle's rows of planning table `name`, without the cycle_month column; of one
    scenario (the baseline unless told), without the scenario column, in a table of them."""
    params: list = [pd.Timestamp(cycle_month).date()]
    exclude, where = "cycle_month", ""
    if OUTPUT_TABLES[name].plans_scenarios:
        exclude, where = "cycle_month, scenario", " AND scenario = ?"
        params.append(scenario)
    return query(con, f"SELECT * EXCLUDE ({exclude}) FROM {output_relation(con, name)} "
                      f"WHERE cycle_month = ?{where}", params)


def adopted_scenario(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp) -> str:
    """The scenario the cycle adopted as its plan (plan_version), else the baseline."""
    adopted = query(con, f"SELECT scenario FROM {output_relation(con, 'plan_version')} "
                         "WHERE cycle_month = ?", [pd.Timestamp(cycle_month).date()])
    return str(adopted["scenario"].iloc[0]) if len(adopted) else BASELINE


def ensure_output_table(con: duckdb.DuckDBPyConnection, table: OutputTable) -> None:
    """Create a planning table with its documented columns and comments, if missing.

    A table from an earlier version gains the columns added since (empty for old cycles).
    """
    columns = ", ".join(f"{name} {sql_type}" for name, sql_type, _ in table.columns)
    con.execute(f"CREATE TABLE IF NOT EXISTS main.{table.name} ({columns})")
    for name, sql_type, _ in table.columns:
        # rows of a version without scenarios were the baseline
        default = f" DEFAULT '{BASELINE}'" if name == "scenario" else ""
        con.execute(f"ALTER TABLE main.{table.name} ADD COLUMN IF NOT EXISTS {name} {sql_type}"
                    f"{default}")
    con.execute(f"COMMENT ON TABLE main.{table.name} IS {literal(_table_comment(table))}")
    for name, _, description in table.columns:
        con.execute(f"COMMENT ON COLUMN main.{table.name}.{name} IS {literal(description)}")


def replace_cycle_rows(
    con: duckdb.DuckDBPyConnection, name: str, cycle_month: pd.Timestamp, rows: pd.DataFrame,
    what_ifs: bool = False, run_id: str | None = None,
) -> int:
    """Replace exactly one cycle's rows of a planning table, in one transaction. In a table
    of scenarios, the rows replaced are the baseline's (rows without a scenario column are
    the baseline), or with what_ifs every other scenario's (rows carry their scenario).
    With a run_id, the rows replaced are journaled first, for the run's rollback."""
    table = OUTPUT_TABLES[name]
    ensure_output_table(con, table)
    cycle_date = pd.Timestamp(cycle_month).date()
    if table.plans_scenarios and "scenario" not in rows.columns:
        rows = rows.assign(scenario=BASELINE)
    part = _part(table, what_ifs)
    frame = rows.assign(cycle_month=cycle_date)[table.column_names]
    con.execute("BEGIN TRANSACTION")
    try:
        if run_id is not None:
            _journal(con, name, cycle_date, part, run_id)
        con.execute(f"DELETE FROM main.{name} WHERE cycle_month = ?{_PARTS[part]}",
                    [cycle_date])
        con.register("_incoming", frame)
        con.execute(f"INSERT INTO main.{name} BY NAME SELECT * FROM _incoming")
        con.unregister("_incoming")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return len(frame)


# The part of a cycle's rows one write replaces: all of them, or in a table of scenarios the
# baseline's or the what-ifs'.
_PARTS = {"all": "", "baseline": f" AND scenario = '{BASELINE}'",
          "what_ifs": f" AND scenario <> '{BASELINE}'"}


def _part(table: OutputTable, what_ifs: bool) -> str:
    if not table.plans_scenarios:
        return "all"
    return "what_ifs" if what_ifs else "baseline"


def open_runs(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The runs whose journaled rows are neither committed nor rolled back."""
    if not _journal_exists(con):
        return []
    return [row[0] for row in con.execute(
        f"SELECT DISTINCT run_id FROM {JOURNAL}.entries ORDER BY 1").fetchall()]


def commit_run(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Keep what the run wrote: forget the rows it replaced. Returns the parts forgotten."""
    return _end_run(con, run_id, restore=False)


def rollback_run(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Undo what the run wrote: each part of a cycle it replaced gets its earlier rows back
    (none, for a cycle it wrote first), in one transaction. Returns the parts restored."""
    return _end_run(con, run_id, restore=True)


def _end_run(con: duckdb.DuckDBPyConnection, run_id: str, restore: bool) -> int:
    if not _journal_exists(con):
        return 0
    entries = con.execute(
        f"SELECT table_name, cycle_month, part FROM {JOURNAL}.entries WHERE run_id = ?",
        [run_id]).fetchall()
    con.execute("BEGIN TRANSACTION")
    try:
        for name, cycle_date, part in entries:
            where = f"cycle_month = ?{_PARTS[part]}"
            if restore:
                con.execute(f"DELETE FROM main.{name} WHERE {where}", [cycle_date])
                con.execute(
                    f"INSERT INTO main.{name} BY NAME SELECT * EXCLUDE ({_RUN_COLUMN}) "
                    f"FROM {JOURNAL}.{name} WHERE {_RUN_COLUMN} = ? AND {where}",
                    [run_id, cycle_date])
            con.execute(f"DELETE FROM {JOURNAL}.{name} WHERE {_RUN_COLUMN} = ? AND {where}",
                        [run_id, cycle_date])
        con.execute(f"DELETE FROM {JOURNAL}.entries WHERE run_id = ?", [run_id])
        for name in {entry[0] for entry in entries}:  # dropped once empty: a later version's
            if not con.execute(f"SELECT count(*) FROM {JOURNAL}.{name}").fetchone()[0]:
                con.execute(f"DROP TABLE {JOURNAL}.{name}")  # columns may differ
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return len(entries)


def _journal(con: duckdb.DuckDBPyConnection, name: str, cycle_date, part: str,
             run_id: str) -> None:
    """Keep the rows this write replaces, the first time the run replaces them."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {JOURNAL}")
    con.execute(f"CREATE TABLE IF NOT EXISTS {JOURNAL}.entries (run_id VARCHAR, "
                "table_name VARCHAR, cycle_month DATE, part VARCHAR, journaled_at TIMESTAMP)")
    if con.execute(f"SELECT count(*) FROM {JOURNAL}.entries WHERE run_id = ? AND "
                   "table_name = ? AND cycle_month = ? AND part = ?",
                   [run_id, name, cycle_date, part]).fetchone()[0]:
        return
    con.execute(f"CREATE TABLE IF NOT EXISTS {JOURNAL}.{name} AS SELECT *, "
                f"NULL::VARCHAR AS {_RUN_COLUMN} FROM main.{name} LIMIT 0")
    con.execute(f"INSERT INTO {JOURNAL}.{name} BY NAME SELECT *, ? AS {_RUN_COLUMN} "
                f"FROM main.{name} WHERE cycle_month = ?{_PARTS[part]}", [run_id, cycle_date])
    con.execute(f"INSERT INTO {JOURNAL}.entries VALUES (?, ?, ?, ?, now()::TIMESTAMP)",
                [run_id, name, cycle_date, part])


def _journal_exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = 'entries'",
        [JOURNAL]).fetchone()[0])


def _table_comment(table: OutputTable) -> str:
    return f"{table.description} Grain: {', '.join(table.grain)}."
