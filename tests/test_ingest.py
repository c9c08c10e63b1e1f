"""The extract contract on load: each kind of bad input, its message, and what stays landed."""

from __future__ import annotations

import copy

import duckdb
import pytest

from sop_pipeline.ingest.landing import ContractError, land_extracts
from tests.extracts import MINIMAL, write_extracts


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        yield connection


def _broken(changes):
    tables = copy.deepcopy(MINIMAL)
    for (entity, row, column), value in changes.items():
        tables[entity][row][column] = value
    return tables


def test_valid_extracts_land_as_they_came_with_load_metadata(tmp_path, con):
    report = land_extracts(con, write_extracts(tmp_path / "x"))
    rows = con.execute(
        "SELECT order_id, quantity, _row_number, _file_hash, _source_file "
        "FROM raw.erp_sales_orders ORDER BY _row_number").fetchall()
    assert [r[:3] for r in rows[:2]] == [("SO0", "10", 1), ("SO1", "12", 2)]
    assert len(rows[0][3]) == 64 and rows[0][4].endswith("erp/sales_orders.csv")
    assert report.quarantined == 0
    assert "erp/work_centers" in report.absent_optional
    assert "absent optional inputs" in report.summary()
    # absent optional entities still exist as empty tables with the contract columns
    assert con.execute("SELECT count(*) FROM raw.erp_routings").fetchone()[0] == 0
    assert "hours_per_unit" in {r[0] for r in con.execute("DESCRIBE raw.erp_routings").fetchall()}


def test_headers_are_normalised_and_extra_columns_kept(tmp_path, con):
    tables = copy.deepcopy(MINIMAL)
    tables["erp/locations"] = [
        {" Location ID": r["location_id"], "Name": r["name"], "KIND": r["kind"], "Region": "EU"}
        for r in MINIMAL["erp/locations"]
    ]
    land_extracts(con, write_extracts(tmp_path / "x", tables))
    assert con.execute("SELECT location_id, kind, region FROM raw.erp_locations "
                       "ORDER BY 1").fetchall() == [("DC1", "dc", "EU"), ("PLT1", "plant", "EU")]


@pytest.mark.parametrize(
    ("changes", "rule", "column"),
    [
        ({("erp/sales_orders", 1, "order_date"): "2026-13-45"}, "unparsable_date", "order_date"),
        ({("erp/sales_orders", 2, "quantity"): "-3"}, "negative_value", "quantity"),
        ({("erp/sales_orders", 2, "quantity"): "lots"}, "unparsable_float", "quantity"),
        ({("erp/sales_orders", 2, "quantity"): "inf"}, "not_finite", "quantity"),
        ({("erp/items", 0, "unit_cost"): "NaN"}, "not_finite", "unit_cost"),
        ({("erp/sales_orders", 3, "sku"): "ZZZ"}, "unknown_sku", "sku"),
        ({("erp/sales_orders", 3, "location_id"): "NOWHERE"}, "unknown_location_id",
         "location_id"),
        ({("erp/sales_orders", 3, "order_id"): "SO0"}, "duplicate_key", None),
        ({("erp/items", 1, "make_or_buy"): "borrow"}, "invalid_value", "make_or_buy"),
        ({("erp/sales_orders", 0, "sku"): ""}, "missing_value", "sku"),
    ],
)
def test_row_level_breaks_are_quarantined_with_reason(tmp_path, con, changes, rule, column):
    folder = write_extracts(tmp_path / "x", _broken(changes))
    report = land_extracts(con, folder, max_quarantine_share=0.9)
    quarantined = con.execute(
        "SELECT entity, column_name, rule, reason, record, source_file FROM raw.quarantine"
    ).fetchall()
    assert [(q[1], q[2]) for q in quarantined if q[2] == rule] == [(column, rule)]
    entity = next(q[0] for q in quarantined if q[2] == rule)
    assert quarantined[0][4].startswith("{") and quarantined[0][5].endswith(".csv")
    # the row stays landed as it came, and the report names file, column, count and sample
    problem = next(p for e in report.entities for p in e.problems if rule in p)
    assert f"{entity}.csv" in problem and "Sample rows" in problem and "row " in problem
    assert f"column '{column or ''}" in problem or column is None
    assert "1 of " in problem
    table = entity.replace("/", "_")
    assert con.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0] == len(
        MINIMAL[entity])


@pytest.mark.parametrize("column", ["min_order_qty", "order_multiple"])
@pytest.mark.parametrize(("value", "rule"), [("0", "not_positive"), ("-5", "not_positive"),
                                             ("ten", "unparsable_float")])
def test_lot_sizes_must_be_numbers_above_zero(tmp_path, con, column, value, rule):
    tables = copy.deepcopy(MINIMAL)
    for row, given in zip(tables["erp/items"], (value, ""), strict=True):  # B: no lot size
        row.update({"min_order_qty": "", "order_multiple": "", column: given})
    report = land_extracts(con, write_extracts(tmp_path / "x", tables), max_quarantine_share=0.9)
    quarantined = con.execute("SELECT entity, column_name, rule, value FROM raw.quarantine "
                              "WHERE entity = 'erp/items'").fetchall()
    assert quarantined == [("erp/items", column, rule, value)]
    problem = next(p for e in report.entities for p in e.problems if rule in p)
    assert "erp/items.csv" in problem and f"column '{column}'" in problem
    assert "1 of 2 rows" in problem and "sku='A'" in problem
    assert con.execute("SELECT count(*) FROM raw.erp_items").fetchone()[0] == 2  # still landed


def test_unknown_sku_checks_against_valid_items_only(tmp_path, con):
    # item B is quarantined (bad cost), so orders of B are unknown-sku, not silently kept
    folder = write_extracts(tmp_path / "x", _broken({("erp/items", 1, "unit_cost"): "abc"}))
    land_extracts(con, folder, max_quarantine_share=0.9)
    rules = con.execute("SELECT entity, rule, count(*) FROM raw.quarantine GROUP BY ALL "
                        "ORDER BY 1").fetchall()
    assert rules == [("erp/items", "unparsable_float", 1), ("erp/sales_orders", "unknown_sku", 2),
                     ("stock/inventory", "unknown_sku", 1)]


def test_missing_required_column_fails_and_keeps_raw_as_it_was(tmp_path, con):
    land_extracts(con, write_extracts(tmp_path / "good"))
    tables = copy.deepcopy(MINIMAL)
    for row in tables["erp/items"]:
        row.pop("unit_cost")
    with pytest.raises(ContractError) as caught:
        land_extracts(con, write_extracts(tmp_path / "bad", tables))
    message = str(caught.value)
    assert "erp/items.csv" in message and "'unit_cost'" in message
    assert "2 rows" in message and "row 1: sku='A'" in message
    # raw still holds the good load; the rejected file is queryable in schema rejected
    assert con.execute("SELECT count(*) FROM raw.erp_items WHERE unit_cost IS NOT NULL"
                       ).fetchone()[0] == 2
    assert con.execute("SELECT count(*) FROM rejected.erp_items").fetchone()[0] == 2
    statuses = dict(con.execute("SELECT entity, status FROM raw.load_log WHERE load_id = "
                                "(SELECT load_id FROM raw.load_log ORDER BY loaded_at DESC "
                                "LIMIT 1)").fetchall())
    assert statuses["erp/items"] == "rejected" and statuses["erp/locations"] == "not_loaded"


def test_missing_required_file_names_the_file(tmp_path, con):
    tables = {k: v for k, v in MINIMAL.items() if k != "stock/inventory"}
    with pytest.raises(ContractError, match=r"stock/inventory: required file missing"):
        land_extracts(con, write_extracts(tmp_path / "x", tables))


def test_unreadable_file_fails_with_the_reader_error(tmp_path, con):
    folder = write_extracts(tmp_path / "x")
    (folder / "erp/items.parquet").unlink(missing_ok=True)
    (folder / "erp/items.csv").unlink()
    (folder / "erp/items.parquet").write_bytes(b"this is not parquet")
    with pytest.raises(ContractError, match=r"erp/items.parquet: unreadable file"):
        land_extracts(con, folder)


def test_mostly_broken_file_is_rejected_not_quarantined(tmp_path, con):
    tables = copy.deepcopy(MINIMAL)
    for row in tables["erp/sales_orders"]:
        row["order_date"] = "14/03/2026"  # a whole file in the wrong date format
    with pytest.raises(ContractError) as caught:
        land_extracts(con, write_extracts(tmp_path / "x", tables))
    message = str(caught.value)
    assert "5 of 5 rows (100%)" in message and "order_date" in message
    assert "14/03/2026" in message


def test_parquet_extracts_load_too(tmp_path, con):
    folder = write_extracts(tmp_path / "x")
    items = folder / "erp/items.csv"
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{items}')) TO '{folder}/erp/items.parquet'")
    items.unlink()
    report = land_extracts(con, folder)
    assert report.entities[0].source_file.endswith("items.parquet")
    assert con.execute("SELECT count(*) FROM raw.erp_items").fetchone()[0] == 2


def test_mixed_line_endings_are_read_and_ragged_rows_rejected(tmp_path, con):
    folder = write_extracts(tmp_path / "x")
    path = folder / "erp/items.csv"
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n", 1))  # header ends in \n only
    land_extracts(con, folder)
    assert con.execute("SELECT count(*) FROM raw.erp_items").fetchone()[0] == 2
    with path.open("a") as fh:
        fh.write("C,Item C,F1,EA,1,2,make,5,extra\r\n")
    # a ragged row fails the load (DuckDB's sniffer may read it as the header): never dropped
    with pytest.raises(ContractError, match=r"erp/items.csv: "):
        land_extracts(con, folder)


def _plan_tables():
    tables = copy.deepcopy(MINIMAL)
    tables["erp/work_centers"] = [dict(work_center_id="WC1", name="Assembly", location_id="PLT1",
                                       available_hours_per_month="100")]
    tables["plan/scenarios"] = [  # no supplier_id nor description column: both optional
        dict(scenario="promo", lever="demand_pct", family="F1", sku="", work_center_id="",
             start_month="2026-05-01", end_month="2026-06-01", value="0.15"),
        dict(scenario="shift", lever="capacity_pct", family="", sku="", work_center_id="WC1",
             start_month="", end_month="", value="0.25"),
        dict(scenario="shift", lever="Demand", family="", sku="ZZZ", work_center_id="",
             start_month="", end_month="", value="0.1"),
        dict(scenario="shift", lever="capacity_hours", family="", sku="", work_center_id="WC9",
             start_month="", end_month="", value="8"),
    ]
    tables["plan/decisions"] = [
        dict(cycle_month="2026-04-01", decision_id="D-1", title="Extra shift",
             adopted_scenario="shift", owner="ops", due_month="2026-06-01", status="open",
             rationale=""),
        dict(cycle_month="2026-04-01", decision_id="D-1", title="Again", adopted_scenario="",
             owner="ops", due_month="", status="open", rationale=""),
        dict(cycle_month="2026-05-01", decision_id="D-1", title="Extra shift",
             adopted_scenario="", owner="ops", due_month="2026-06-01", status="postponed",
             rationale=""),
    ]
    return tables


def test_scenarios_and_decisions_are_used_whole_or_refused(tmp_path, con):
    with pytest.raises(ContractError) as caught:
        land_extracts(con, write_extracts(tmp_path / "x", _plan_tables()),
                      max_quarantine_share=0.9)
    message = str(caught.value)
    for fragment in ("plan/scenarios is used whole or refused", "2 of 4 rows break row rules",
                     "column 'work_center_id': 1 of 4 rows refused (unknown_work_center_id)",
                     "WC9", "column 'lever'", "plan/decisions is used whole or refused",
                     "column 'status': 1 of 3 rows refused (invalid_value)", "postponed"):
        assert fragment in message
    assert con.execute("SELECT count(*) FROM rejected.plan_scenarios").fetchone()[0] == 4
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw' "
                       "AND table_name = 'plan_scenarios'").fetchone()[0] == 0
    # the files fixed, they land whole, optional columns added
    tables = _plan_tables()
    tables["plan/scenarios"] = tables["plan/scenarios"][:2]
    tables["plan/decisions"] = tables["plan/decisions"][:1]
    report = land_extracts(con, write_extracts(tmp_path / "fixed", tables))
    assert not {"plan/scenarios", "plan/decisions"} & set(report.absent_optional)
    columns = {r[0] for r in con.execute("DESCRIBE raw.plan_scenarios").fetchall()}
    assert {"supplier_id", "description"} <= columns  # optional columns added, empty
    assert con.execute("SELECT count(*) FROM raw.quarantine").fetchone()[0] == 0
