"""The demo-company generator: deterministic, in the contract, and with something to plan."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from sop_pipeline.demo import generate_company
from sop_pipeline.ingest.contract import BY_NAME, ENTITIES

SMALL = dict(skus=12, locations=2, years=3, end_month="2026-09")
END_DATE = "2026-09-30"
MANUFACTURING = ("erp/work_centers", "erp/routings", "erp/production_orders")


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    root = tmp_path_factory.mktemp("company")
    return root, generate_company(root, **SMALL)


def _read(root: Path, name: str) -> pd.DataFrame:
    """A CSV extract as text, empty cells as empty strings (what a loader sees)."""
    return pd.read_csv(root / f"{name}.csv", dtype=str, keep_default_na=False)


def _monthly_demand(root: Path) -> pd.DataFrame:
    """Booked (not cancelled) quantity per sku, location and month."""
    orders = _read(root, "erp/sales_orders")
    orders = orders[orders["status"] != "cancelled"]
    return (orders.assign(month=orders["order_date"].str[:7],
                          quantity=orders["quantity"].astype(float))
            .groupby(["sku", "location_id", "month"], as_index=False)["quantity"].sum())


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.*"))}


def test_same_seed_gives_identical_files_and_another_seed_differs(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate_company(first, **SMALL)
    generate_company(second, **SMALL)
    generate_company(other, seed=8, **SMALL)
    assert _files(first) == _files(second)
    assert _files(first).keys() == _files(other).keys()
    assert _files(first)["erp/sales_orders.csv"] != _files(other)["erp/sales_orders.csv"]


def test_every_file_has_exactly_the_contract_columns(company: tuple[Path, dict[str, int]]) -> None:
    root, counts = company
    assert set(counts) == {e.name for e in ENTITIES}
    for entity in ENTITIES:
        with (root / f"{entity.name}.csv").open(newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == [c.name for c in entity.columns], entity.name
        assert len(rows) - 1 == counts[entity.name] > 0, entity.name


def test_values_have_contract_formats(company: tuple[Path, dict[str, int]]) -> None:
    root, _ = company
    patterns = {"date": r"\d{4}-\d{2}-\d{2}", "timestamp": r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}",
                "int": r"\d+", "float": r"-?\d+(\.\d+)?"}
    for entity in ENTITIES:
        frame = _read(root, entity.name)
        for column in entity.columns:
            values = frame[column.name]
            if not column.nullable:
                assert (values != "").all(), (entity.name, column.name)
            present = values[values != ""]
            if column.kind in patterns:
                assert present.str.fullmatch(patterns[column.kind]).all(), (entity, column.name)
            if column.allowed:
                assert present.isin(column.allowed).all(), (entity.name, column.name)
    orders = _read(root, "erp/sales_orders")
    assert (orders["quantity"].astype(float) >= 1).all()
    assert (orders["requested_date"] >= orders["order_date"]).all()
    items = _read(root, "erp/items")
    assert (items["unit_price"].astype(float) > items["unit_cost"].astype(float)).all()


def test_keys_are_unique(company: tuple[Path, dict[str, int]]) -> None:
    root, _ = company
    for entity in ENTITIES:
        frame = _read(root, entity.name)
        assert not frame.duplicated(list(entity.key)).any(), entity.name


def test_references_hold(company: tuple[Path, dict[str, int]]) -> None:
    root, _ = company
    for entity in ENTITIES:
        frame = _read(root, entity.name)
        for column, (ref_entity, ref_column) in entity.references.items():
            known = set(_read(root, ref_entity)[ref_column])
            values = set(frame[column]) - {""}
            assert values <= known, (entity.name, column, values - known)
    accounts = set(_read(root, "crm/accounts")["account_id"])
    assert set(_read(root, "erp/sales_orders")["account_id"]) <= accounts
    assert set(_read(root, "crm/deals")["account_id"]) <= accounts
    overrides = _read(root, "plan/overrides")
    assert ((overrides["sku"] == "") != (overrides["family"] == "")).all()
    assert (overrides["month"] > END_DATE).sum() == 3  # ahead of the latest cycle
    past = overrides[overrides["month"] <= END_DATE]  # made by earlier meetings: FVA by author
    assert len(past) == 4 and set(past["author"]) == {"j.doe", "a.martin"}
    events = _read(root, "plan/events")
    assert (events["start_month"] > END_DATE).sum() >= 1  # events ahead to plan for
    past = events[events["end_month"] <= END_DATE]
    assert len(past) >= 2 and (past["family"] != "").all()  # yearly promos Prophet learns from


def test_nothing_is_dated_after_end_month(company: tuple[Path, dict[str, int]]) -> None:
    root, _ = company
    orders = _read(root, "erp/sales_orders")
    assert orders["order_date"].max() <= END_DATE
    assert orders["order_date"].max() >= "2026-09-25"  # the last month is complete
    assert orders["order_date"].min() >= "2023-10-01"  # three years of history
    assert _read(root, "stock/inventory")["snapshot_date"].max() == END_DATE
    assert _read(root, "erp/purchase_orders")["order_date"].max() <= END_DATE
    deals = _read(root, "crm/deals")
    assert deals["updated_at"].max() <= f"{END_DATE} 23:59:59"
    open_deals = deals[deals["status"] == "open"]
    assert (open_deals["expected_close_date"] > END_DATE).all()


def test_purchase_orders_include_late_open_and_received_late(
    company: tuple[Path, dict[str, int]],
) -> None:
    root, _ = company
    po = _read(root, "erp/purchase_orders")
    open_po = po[po["status"] == "open"]
    assert (open_po["received_date"] == "").all()
    assert (open_po["due_date"] <= END_DATE).any()  # late, not received
    assert (open_po["due_date"] > END_DATE).any()  # on its way
    received = po[po["status"] == "received"]
    assert (received["received_date"] > received["due_date"]).any()
    assert (received["received_date"] <= END_DATE).all()


def test_intermittent_series_exist(company: tuple[Path, dict[str, int]]) -> None:
    root, _ = company
    demand = _monthly_demand(root)
    months = pd.period_range("2023-10", "2026-09", freq="M").astype(str)
    first = demand.groupby(["sku", "location_id"])["month"].min()
    selling = demand.groupby(["sku", "location_id"]).size()
    possible = first.map(lambda m: int((months >= m).sum()))
    zero_share = 1 - selling / possible
    assert (zero_share > 0.4).any()
    assert (zero_share < 0.1).any()  # and regular ones


def test_demand_peaks_in_spring_and_summer(company: tuple[Path, dict[str, int]]) -> None:
    root, _ = company
    demand = _monthly_demand(root)
    by_month = demand.groupby("month")["quantity"].sum()
    calendar = by_month.groupby(by_month.index.str[5:]).mean()
    peak = calendar.loc[["04", "05", "06", "07", "08"]].mean()
    trough = calendar.loc[["11", "12", "01", "02"]].mean()
    assert peak > 1.2 * trough


def test_a_work_centre_is_overloaded_in_peak_months(company: tuple[Path, dict[str, int]]) -> None:
    root, _ = company
    demand = _monthly_demand(root).groupby(["sku", "month"], as_index=False)["quantity"].sum()
    routings = _read(root, "erp/routings").astype({"hours_per_unit": float})
    centres = _read(root, "erp/work_centers").astype({"available_hours_per_month": float})
    items = _read(root, "erp/items").set_index("sku")
    assert (items.loc[routings["sku"], "make_or_buy"] == "make").all()
    assert set(items.index[items["make_or_buy"] == "make"]) == set(routings["sku"])
    required = (demand.merge(routings, on="sku")
                .assign(hours=lambda f: f["quantity"] * f["hours_per_unit"])
                .groupby(["work_center_id", "month"], as_index=False)["hours"].sum()
                .merge(centres, on="work_center_id"))
    last_year = required[required["month"] >= "2025-10"]
    over = last_year[last_year["hours"] > last_year["available_hours_per_month"]]
    assembly_peaks = over.loc[over["work_center_id"] == "WC-ASSY", "month"].str[5:]
    assert set(assembly_peaks) & {"04", "05", "06", "07", "08", "09"}
    utilisation = (last_year.groupby("work_center_id")["hours"].sum()
                   / (12 * centres.set_index("work_center_id")["available_hours_per_month"]))
    assert utilisation.between(0.75, 1.0).all()  # 80-90 % set, the assembly a bit tighter


def test_stock_runs_low_somewhere_and_is_excess_elsewhere(
    company: tuple[Path, dict[str, int]],
) -> None:
    root, _ = company
    stock = _read(root, "stock/inventory")
    last = stock[stock["snapshot_date"] == END_DATE].astype({"on_hand_qty": float})
    recent = _monthly_demand(root)
    recent = (recent[recent["month"] >= "2026-07"]
              .groupby(["sku", "location_id"])["quantity"].sum() / 3)
    cover = last.set_index(["sku", "location_id"])["on_hand_qty"] / recent
    assert (cover.dropna() < 0.2).any()
    assert (cover.dropna() > 4).any()


def test_budget_covers_two_calendar_years_per_family(company: tuple[Path, dict[str, int]]) -> None:
    root, _ = company
    budget = _read(root, "erp/budget")
    families = set(_read(root, "erp/items")["family"])
    assert set(budget["family"]) == families
    assert budget["month"].min() == "2026-01-01"
    assert budget["month"].max() == "2027-12-01"
    assert len(budget) == 24 * len(families)


def test_distributor_has_no_manufacturing_and_buys_everything(tmp_path: Path) -> None:
    counts = generate_company(tmp_path, work_centers=False, **SMALL)
    assert not set(MANUFACTURING) & set(counts)
    for name in MANUFACTURING:
        assert not (tmp_path / f"{name}.csv").exists()
    assert set(_read(tmp_path, "erp/items")["make_or_buy"]) == {"buy"}


def test_parquet_variant_has_typed_columns_and_same_rows(
    tmp_path: Path, company: tuple[Path, dict[str, int]],
) -> None:
    _, csv_counts = company
    counts = generate_company(tmp_path, fmt="parquet", **SMALL)
    assert counts == csv_counts
    for entity in ENTITIES:
        table = pq.read_table(tmp_path / f"{entity.name}.parquet")
        assert table.num_rows == counts[entity.name]
        assert table.column_names == [c.name for c in entity.columns]
    orders = pq.read_table(tmp_path / "erp/sales_orders.parquet")
    assert str(orders.schema.field("order_date").type) == "date32[day]"
    assert not list(tmp_path.rglob("*.csv"))


def test_regenerating_in_another_format_leaves_one_file_per_entity(tmp_path: Path) -> None:
    generate_company(tmp_path, **SMALL)
    generate_company(tmp_path, fmt="parquet", work_centers=False, **SMALL)
    assert not list(tmp_path.rglob("*.csv"))
    assert not (tmp_path / "erp/routings.parquet").exists()


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format"):
        generate_company(tmp_path, fmt="xlsx")
    with pytest.raises(ValueError, match="YYYY-MM"):
        generate_company(tmp_path, end_month="Sept 2026")
    with pytest.raises(ValueError):
        generate_company(tmp_path, skus=0)


def test_tiny_company_still_fits_the_contract(tmp_path: Path) -> None:
    counts = generate_company(tmp_path, skus=1, locations=1, years=1, end_month="2026-01")
    assert counts["erp/items"] == 1
    assert counts["erp/locations"] == 1
    items = _read(tmp_path, "erp/items")
    assert re.fullmatch(r"[A-Z]{3}-\d{4}", items["sku"][0])
    assert BY_NAME["erp/sales_orders"].name in counts
