"""The working DuckDB file: where it is, reads of the planning tables, cycle-scoped writes.

Reads never create a table: a planning table that no cycle has written yet reads as an empty
relation of its declared columns. Only `replace_cycle_rows` creates (and migrates) tables.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd

from sop_pipeline.tables import BASELINE, OUTPUT_TABLES, OutputTable

DB_NAME = "sop.duckdb"


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
    con.execute(f"COMMENT ON TABLE main.{table.name} IS {_quote(_table_comment(table))}")
    for name, _, description in table.columns:
        con.execute(f"COMMENT ON COLUMN main.{table.name}.{name} IS {_quote(description)}")


def replace_cycle_rows(
    con: duckdb.DuckDBPyConnection, name: str, cycle_month: pd.Timestamp, rows: pd.DataFrame,
    what_ifs: bool = False,
) -> int:
    """Replace exactly one cycle's rows of a planning table, in one transaction. In a table
    of scenarios, the rows replaced are the baseline's (rows without a scenario column are
    the baseline), or with what_ifs every other scenario's (rows carry their scenario)."""
    table = OUTPUT_TABLES[name]
    ensure_output_table(con, table)
    cycle_date = pd.Timestamp(cycle_month).date()
    scope = ""
    if table.plans_scenarios:
        if "scenario" not in rows.columns:
            rows = rows.assign(scenario=BASELINE)
        scope = f" AND scenario {'<>' if what_ifs else '='} '{BASELINE}'"
    frame = rows.assign(cycle_month=cycle_date)[table.column_names]
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM main.{name} WHERE cycle_month = ?{scope}", [cycle_date])
        con.register("_incoming", frame)
        con.execute(f"INSERT INTO main.{name} BY NAME SELECT * FROM _incoming")
        con.unregister("_incoming")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return len(frame)


def _table_comment(table: OutputTable) -> str:
    return f"{table.description} Grain: {', '.join(table.grain)}."


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
