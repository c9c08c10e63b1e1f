"""Reads of the planning tables never create them; writes replace one cycle's rows."""

import duckdb
import pandas as pd

from sop_pipeline.tables import OUTPUT_TABLES
from sop_pipeline.warehouse import cycle_rows, query, replace_cycle_rows

CYCLE = pd.Timestamp("2026-10-01")


def _tables(con) -> set[str]:
    return {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


def test_a_table_no_cycle_wrote_reads_as_empty_with_its_columns_and_is_not_created():
    con = duckdb.connect()
    rows = cycle_rows(con, "supply_plan", CYCLE)
    assert rows.empty
    assert list(rows.columns) == OUTPUT_TABLES["supply_plan"].stage_columns
    assert _tables(con) == set()


def test_cycle_rows_read_back_one_cycle_with_months_as_timestamps():
    con = duckdb.connect()
    rows = pd.DataFrame({column: [None] for column in OUTPUT_TABLES["capacity_plan"].stage_columns})
    rows = rows.assign(work_center_id="WC1", month=pd.Timestamp("2026-11-01"), required_hours=10.0)
    for cycle in (CYCLE, CYCLE + pd.offsets.MonthBegin(1)):
        replace_cycle_rows(con, "capacity_plan", cycle, rows)
    read = cycle_rows(con, "capacity_plan", CYCLE)
    assert len(read) == 1
    assert read.loc[0, "month"] == pd.Timestamp("2026-11-01")
    assert pd.api.types.is_datetime64_any_dtype(read["month"])
    assert read.loc[0, "required_hours"] == 10.0


def test_query_returns_dates_as_timestamps():
    frame = query(duckdb.connect(), "SELECT DATE '2026-10-31' AS snapshot_date, 1 AS n")
    assert pd.api.types.is_datetime64_any_dtype(frame["snapshot_date"])
