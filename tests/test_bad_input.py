"""Ordinary oddities of real extracts and planner files (issue 23): each is read, quarantined
with a stated rule, or refused naming file, column, rows and a sample; a refusal leaves `raw`
as it was, and the next good load works."""

from __future__ import annotations

import copy
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from sop_pipeline.demo import generate_company
from sop_pipeline.ingest.landing import ContractError, land_extracts, order_dates
from sop_pipeline.report.checks import published_counts
from sop_pipeline.report.publish import publish, read_manifest
from sop_pipeline.report.text import load_summary
from sop_pipeline.sql import ident, literal
from tests.extracts import MINIMAL, write_extracts

OVERRIDE = dict(month="2026-05-01", sku="A", family="", location_id="PLT1", quantity="500",
                pct_change="", reason="Tender won", author="j.doe")
EVENT = dict(name="Spring promo", start_month="2026-05-01", end_month="2026-06-01", sku="",
             family="F1", uplift_pct="0.2")


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        yield connection


def _tables(**changes: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    """MINIMAL with a good override and event, and `changes` ({'plan/overrides': rows})."""
    tables = copy.deepcopy(MINIMAL)
    tables["plan/overrides"] = [dict(OVERRIDE)]
    tables["plan/events"] = [dict(EVENT)]
    tables.update({name.replace("__", "/"): rows for name, rows in changes.items()})
    return tables


def _raw(con, table: str) -> list[tuple]:
    return con.execute(f"SELECT * EXCLUDE (_loaded_at) FROM raw.{table} ORDER BY _row_number"
                       ).fetchall()


def _refused(con, folder: Path) -> str:
    """The message of a load that must fail; `raw` must be as it was before it."""
    before = {t: _raw(con, t) for t in ("erp_items", "erp_sales_orders", "plan_overrides",
                                        "plan_events")}
    with pytest.raises(ContractError) as caught:
        land_extracts(con, folder)
    assert {t: _raw(con, t) for t in before} == before
    return str(caught.value)


# --- 1. nothing this month -------------------------------------------------------------------


@pytest.mark.parametrize("content", ["header", "blank"])
def test_an_optional_file_with_no_rows_is_nothing_this_month(tmp_path, con, content):
    land_extracts(con, write_extracts(tmp_path / "before", _tables()))
    assert len(_raw(con, "plan_overrides")) == 1
    folder = write_extracts(tmp_path / "x", _tables())
    path = folder / "plan/overrides.csv"
    path.write_text(",".join(OVERRIDE) + "\n" if content == "header" else "")
    report = land_extracts(con, folder)
    overrides = next(e for e in report.entities if e.entity == "plan/overrides")
    assert (overrides.status, overrides.rows, overrides.quarantined) == ("loaded", 0, 0)
    assert _raw(con, "plan_overrides") == []  # last month's override is not kept
    columns = {r[0] for r in con.execute("DESCRIBE raw.plan_overrides").fetchall()}
    assert {"month", "sku", "quantity", "pct_change", "_source_file"} <= columns


def test_a_required_file_with_no_rows_is_still_refused(tmp_path, con):
    land_extracts(con, write_extracts(tmp_path / "before", _tables()))
    folder = write_extracts(tmp_path / "x", _tables())
    (folder / "stock/inventory.csv").write_text("snapshot_date,sku,location_id,on_hand_qty\n")
    message = _refused(con, folder)
    assert "stock/inventory.csv: required file has no rows" in message


# --- 2. one header normalisation -------------------------------------------------------------


def test_a_header_the_contract_accepts_is_accepted_by_every_reader(tmp_path, con):
    tables = _tables()
    tables["erp/sales_orders"] = [{("Order Date" if k == "order_date" else f" {k.upper()} "): v
                                   for k, v in row.items()} for row in MINIMAL["erp/sales_orders"]]
    folder = write_extracts(tmp_path / "x", tables)
    assert [str(d) for d in order_dates(folder)] == ["2026-01-10", "2026-03-14"]
    land_extracts(con, folder)
    assert con.execute("SELECT max(order_date) FROM raw.erp_sales_orders").fetchone() == (
        "2026-03-14",)


# --- 3. quotes in paths and names ------------------------------------------------------------


def test_quotes_in_folders_and_column_names_are_read_and_published(tmp_path):
    root = tmp_path / "l'usine"
    tables = _tables()
    tables["erp/items"] = [{**row, 'it\'s "odd"': "x", "l'entrepot": "y"}
                           for row in MINIMAL["erp/items"]]
    folder = write_extracts(root / "x", tables)
    assert order_dates(folder)[1].isoformat() == "2026-03-14"
    warehouse = root / "wh"
    warehouse.mkdir()
    with duckdb.connect(str(warehouse / "sop.duckdb")) as con:
        report = land_extracts(con, folder)
        assert report.quarantined == 0
        assert con.execute("SELECT it_s_odd, l_entrepot, _source_file FROM raw.erp_items "
                           "LIMIT 1").fetchone() == ("x", "y", str(folder / "erp/items.csv"))
        con.execute("CREATE TABLE main.orders AS SELECT * FROM raw.erp_sales_orders")
        publish(con, warehouse, ["orders"])
    manifest = read_manifest(warehouse)
    serving, parquet = published_counts(warehouse, manifest)
    assert serving["orders"] == parquet["orders"] == 5


def test_the_quoting_helpers_round_trip_through_duckdb():
    name, value = 'it\'s "odd"', "l'usine/\"x\""
    with duckdb.connect() as con:
        result = con.execute(f"SELECT {literal(value)} AS {ident(name)}")
        assert [c[0] for c in result.description] == [name]
        assert result.fetchall() == [(value,)]


# --- 4. encodings ----------------------------------------------------------------------------


@pytest.mark.parametrize(("entity", "encoding", "looks"), [
    ("erp/items", "cp1252", "Windows-1252 / Latin-1"),
    ("erp/sales_orders", "latin-1", "Windows-1252 / Latin-1"),
    ("erp/items", "utf-16", "UTF-16"),
])
def test_a_file_not_in_utf8_is_refused_naming_its_line_and_encoding(tmp_path, con, entity,
                                                                   encoding, looks):
    land_extracts(con, write_extracts(tmp_path / "before", _tables()))
    tables = _tables()
    tables[entity] = copy.deepcopy(tables[entity])
    column = "description" if entity == "erp/items" else "account_id"
    tables[entity][1][column] = "Vélo électrique"
    folder = write_extracts(tmp_path / "x", tables)
    path = folder / f"{entity}.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode(encoding))
    message = _refused(con, folder)
    assert f"{entity}.csv" in message and looks in message and "Save it as UTF-8" in message
    if encoding != "utf-16":
        assert "line 3 has byte 0xE9" in message and "Vélo électrique" in message
    if entity == "erp/sales_orders":  # `sop run` and the sensor read it first: same message
        with pytest.raises(ContractError, match="line 3 has byte 0xE9"):
            order_dates(folder)
    land_extracts(con, write_extracts(tmp_path / "fixed", _tables()))  # saved as UTF-8


# --- 5. dates far out of range ---------------------------------------------------------------


def test_dates_far_out_of_range_are_quarantined_naming_file_column_and_row(tmp_path, con):
    tables = _tables()
    tables["erp/sales_orders"][4]["order_date"] = "2062-03-14"  # 2026 typed as 2062
    tables["stock/inventory"][1]["snapshot_date"] = "1899-12-30"  # a spreadsheet's day 0
    tables["erp/purchase_orders"] = [
        dict(po_id="PO1", line_no="1", supplier_id="S1", sku="B", location_id="DC1",
             quantity="10", order_date="2026-03-01", due_date=due, received_date="",
             status="open") for due in ("2026-04-01", "9999-12-31")]
    tables["erp/purchase_orders"][1]["po_id"] = "PO2"
    report = land_extracts(con, write_extracts(tmp_path / "x", tables),
                           max_quarantine_share=0.9)
    rows = con.execute("SELECT entity, row_number, column_name, value FROM raw.quarantine "
                       "WHERE rule = 'date_out_of_range' ORDER BY 1").fetchall()
    assert rows == [("erp/purchase_orders", 2, "due_date", "9999-12-31"),
                    ("erp/sales_orders", 5, "order_date", "2062-03-14"),
                    ("stock/inventory", 2, "snapshot_date", "1899-12-30")]
    problem = next(p for e in report.entities for p in e.problems if "due_date" in p)
    assert "erp/purchase_orders.csv: column 'due_date': 1 of 2 rows quarantined " \
           "(date_out_of_range)" in problem and "row 2: po_id='PO2'" in problem
    reason = con.execute("SELECT reason FROM raw.quarantine WHERE value = '9999-12-31'"
                         ).fetchone()[0]
    assert reason.startswith("not from 1900-01-01 to 2056-")  # 30 years after the median
    # the latest month `sop run` plans from leaves the out-of-range order out as well
    assert order_dates(tmp_path / "x")[1].isoformat() == "2026-03-12"


# --- 6. an absurd order quantity -------------------------------------------------------------


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("company") / "x"
    generate_company(folder, skus=6, locations=2, years=3, seed=3, end_month="2026-09")
    return folder


def _orders_with(folder: Path, changes: dict[int, str]) -> Path:
    """A copy of the company with some sales order lines' quantity replaced."""
    copy_dir = folder.parent / f"copy{len(list(folder.parent.iterdir()))}"
    for path in folder.rglob("*.csv"):
        target = copy_dir / path.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    orders = pd.read_csv(copy_dir / "erp/sales_orders.csv", dtype=str, keep_default_na=False)
    for position, quantity in changes.items():
        orders.loc[position, "quantity"] = quantity
    orders.to_csv(copy_dir / "erp/sales_orders.csv", index=False)
    return copy_dir


def test_an_absurd_order_quantity_is_quarantined_and_named_in_the_summary(company, tmp_path):
    orders = pd.read_csv(company / "erp/sales_orders.csv")
    sku = orders["sku"].iloc[500]
    later = orders.index[(orders["sku"] == sku) & (orders.index > 700)][0]
    folder = _orders_with(company, {500: "1e15", later: "1e15"})  # twice the same typo
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        report = land_extracts(con, folder)
        rows = con.execute("SELECT row_number, reason FROM raw.quarantine "
                           "WHERE rule = 'implausible_quantity' ORDER BY 1").fetchall()
        assert [r[0] for r in rows] == [501, later + 1]  # data rows count from 1
        assert "more than 1,000 x " in rows[0][1] and rows[0][1].endswith(": 1e15")
        problem = next(p for e in report.entities for p in e.problems
                       if "implausible_quantity" in p)
        assert "erp/sales_orders.csv: column 'quantity': 2 of" in problem
        assert f"row 501: order_id='{orders['order_id'].iloc[500]}'" in problem
        assert "2 implausible_quantity in erp/sales_orders" in load_summary(con)
        assert con.execute("SELECT max(quantity::DOUBLE) FROM raw.erp_sales_orders "
                           "WHERE _row_number NOT IN (SELECT row_number FROM raw.quarantine)"
                           ).fetchone()[0] < 1e6
        land_extracts(con, company)  # the fixed file lands clean
        assert con.execute("SELECT count(*) FROM raw.quarantine").fetchone()[0] == 0


def test_a_young_skus_first_big_order_is_not_implausible(company, tmp_path):
    orders = pd.read_csv(company / "erp/sales_orders.csv")
    median = orders["quantity"][orders["quantity"] > 0].median()
    first = orders.index[orders["sku"] == orders["sku"].iloc[0]][0]
    folder = _orders_with(company, {first: str(500 * median)})  # a launch order, no history
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        assert land_extracts(con, folder).quarantined == 0


@pytest.mark.parametrize("seed", [7, 1, 2])
def test_the_demo_company_breaks_no_plausibility_rule(tmp_path, seed):
    generate_company(tmp_path / "x", seed=seed)  # default sizes, this month's history
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        assert land_extracts(con, tmp_path / "x").quarantined == 0


# --- 7. planner files used whole or refused --------------------------------------------------


@pytest.mark.parametrize(("entity", "column", "value", "rule"), [
    ("plan/overrides", "month", "01/2027", "unparsable_date"),
    ("plan/overrides", "pct_change", "10", "out_of_bounds"),  # 10 meant as 10 %
    ("plan/events", "uplift_pct", "-5", "out_of_bounds"),
    ("plan/events", "start_month", "2099-01-01", "date_out_of_range"),
])
def test_a_planner_file_with_a_bad_row_is_refused_whole(tmp_path, con, entity, column, value,
                                                        rule):
    land_extracts(con, write_extracts(tmp_path / "before", _tables()))
    good = dict(OVERRIDE if entity == "plan/overrides" else EVENT)
    bad = {**good, column: value, **({"quantity": ""} if column == "pct_change" else {}),
           **({"name": "Launch"} if entity == "plan/events" else {"location_id": "DC1"})}
    folder = write_extracts(tmp_path / "x", _tables(**{entity.replace("/", "__"): [good, bad]}))
    message = _refused(con, folder)
    assert f"{entity}.csv: 1 of 2 rows break row rules, and {entity} is used whole" in message
    assert f"column '{column}': 1 of 2 rows refused ({rule})" in message
    assert "row 2: " in message and repr(value) in message
    if rule == "out_of_bounds":
        bound = "from -1 to 3" if column == "pct_change" else "from -0.95 to 5"
        assert bound in message
    assert con.execute(f"SELECT count(*) FROM rejected.{entity.replace('/', '_')}"
                       ).fetchone()[0] == 2
    land_extracts(con, write_extracts(tmp_path / "fixed", _tables()))  # the next good load
    assert len(_raw(con, entity.replace("/", "_"))) == 1


# --- 8. plausibility bounds on master numbers ------------------------------------------------


@pytest.mark.parametrize(("entity", "column", "value", "bound"), [
    ("erp/items", "lead_time_days", "1000", "at most 730"),
    ("erp/items", "order_multiple", "1e12", "at most 10,000,000"),
    ("erp/items", "min_order_qty", "20000000", "at most 10,000,000"),
    ("erp/items", "unit_price", "5e12", "at most 1,000,000,000"),
    ("erp/items", "unit_cost", "2e9", "at most 1,000,000,000"),
    ("erp/routings", "hours_per_unit", "5000", "at most 1,000"),
    ("crm/deals", "probability", "40", "at most 1"),  # 40 meant as 40 %
])
def test_a_master_number_beyond_its_bound_is_quarantined(tmp_path, con, entity, column, value,
                                                         bound):
    tables = _tables()
    tables["erp/work_centers"] = [dict(work_center_id="WC1", name="Assembly",
                                       location_id="PLT1", available_hours_per_month="100")]
    tables["erp/routings"] = [dict(sku="A", work_center_id="WC1", hours_per_unit="0.5")]
    tables["crm/deals"] = [dict(deal_id="D1", account_id="", sku="A", quantity="50",
                                amount="250", stage="proposal", probability="0.4",
                                expected_close_date="2026-06-15", status="open",
                                updated_at="2026-03-20 10:00:00")]
    for row in tables["erp/items"]:
        row.setdefault("min_order_qty", "")
        row.setdefault("order_multiple", "")
    tables[entity][0][column] = value
    report = land_extracts(con, write_extracts(tmp_path / "x", tables), max_quarantine_share=1)
    assert con.execute("SELECT entity, column_name, value FROM raw.quarantine "
                       "WHERE rule = 'out_of_bounds'").fetchall() == [(entity, column, value)]
    problem = next(p for e in report.entities for p in e.problems if "out_of_bounds" in p)
    rows = len(tables[entity])
    assert f"{entity}.csv: column '{column}': 1 of {rows} rows quarantined" in problem
    assert "row 1: " in problem and repr(value) in problem
    reason = con.execute("SELECT reason FROM raw.quarantine WHERE rule = 'out_of_bounds'"
                         ).fetchone()[0]
    assert reason == f"not {bound} (plausibility bound): {value}"


# --- all at once, through `sop run` ----------------------------------------------------------


def test_sop_run_plans_from_an_ordinary_real_extract_under_a_quoted_folder(tmp_path, capsys):
    """Under `l'usine`: a header-only plan/overrides, sales orders headed `Order Date`, an
    extra column with quotes, a purchase line due in 9999 and one order line of 1e15 units.
    The default `sop run` plans the latest month, holds the two lines back and names them."""
    root = tmp_path / "l'usine"
    extracts, warehouse = root / "extracts", root / "warehouse"
    generate_company(extracts, skus=6, locations=2, years=3, seed=3, end_month="2026-09")
    (extracts / "plan/overrides.csv").write_text(",".join(OVERRIDE) + "\n")
    orders = pd.read_csv(extracts / "erp/sales_orders.csv", dtype=str, keep_default_na=False)
    orders.loc[len(orders) // 2, "quantity"] = "1e15"
    orders.rename(columns={"order_date": "Order Date"}).assign(**{'it\'s "odd"': "x"}).to_csv(
        extracts / "erp/sales_orders.csv", index=False)
    purchases = pd.read_csv(extracts / "erp/purchase_orders.csv", dtype=str,
                            keep_default_na=False)
    purchases.loc[len(purchases) // 2, "due_date"] = "9999-12-31"
    purchases.to_csv(extracts / "erp/purchase_orders.csv", index=False)

    from sop_pipeline.cli import main

    code = main(["run", "--extracts", str(extracts), "--warehouse", str(warehouse)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "1 implausible_quantity in erp/sales_orders" in out
    assert "1 date_out_of_range in erp/purchase_orders" in out
    with duckdb.connect(str(warehouse / "sop.duckdb"), read_only=True) as con:
        cycles, top = con.execute("SELECT min(cycle_month), max(consensus_qty) "
                                  "FROM main.consensus_demand").fetchone()
        assert str(cycles) == "2026-10-01" and top < 1e5
        assert con.execute("SELECT count(*) FROM raw.plan_overrides").fetchone()[0] == 0
    manifest = read_manifest(warehouse)
    serving, parquet = published_counts(warehouse, manifest)
    assert serving["consensus_demand"] == parquet["consensus_demand"] > 0
