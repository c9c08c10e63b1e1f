"""Open supply at the cut-off and projected inventory on hand-computed cases."""

import math

import pandas as pd
import pytest

from sop_pipeline.supply.inventory import (
    PROJECTION_COLUMNS,
    SAFETY_STOCK_COLUMNS,
    open_supply_at_cutoff,
    project_inventory,
    safety_stock,
)

CYCLE = pd.Timestamp("2026-10-01")
OCT, NOV, DEC, JAN = (pd.Timestamp(m) for m in ("2026-10-01", "2026-11-01", "2026-12-01",
                                                 "2027-01-01"))


def _order(supply_type, order_id, status, due, ordered=None, received=None):
    return {
        "supply_type": supply_type, "order_id": order_id, "line_no": 1,
        "supplier_id": "SUP-1" if supply_type == "purchase" else None,
        "sku": "A", "location_id": "DC1", "quantity": 10.0,
        "order_date": ordered, "due_date": due, "received_date": received, "status": status,
    }


@pytest.fixture
def open_supply() -> pd.DataFrame:
    orders = pd.DataFrame(
        [
            _order("purchase", "P1", "open", "2026-10-20", "2026-09-01"),
            _order("purchase", "P2", "received", "2026-09-15", "2026-08-01", "2026-10-05"),
            _order("purchase", "P3", "received", "2026-09-15", "2026-08-01", "2026-09-20"),
            _order("purchase", "P4", "open", "2026-11-15", "2026-10-03"),
            _order("purchase", "P5", "cancelled", "2026-11-15", "2026-09-01"),
            _order("purchase", "P6", "open", "2026-12-05", "2026-09-10"),
            _order("purchase", "P7", "received", "2026-09-30", "2026-09-01", "2026-10-01"),
            _order("production", "M1", "released", "2026-11-10"),
            _order("production", "M2", "completed", "2026-11-20"),
            _order("production", "M3", "cancelled", "2026-11-20"),
            _order("production", "M4", "released", "2026-09-20"),
            _order("production", "M5", "completed", "2026-09-20"),
            _order("production", "M6", "planned", "2026-08-01"),
            _order("production", "M7", "completed", "2026-11-20", "2026-09-25"),
            _order("production", "M8", "completed", "2026-11-20", "2026-10-02"),
        ]
    )
    return open_supply_at_cutoff(orders, CYCLE).set_index("order_id")


def test_open_lines_follow_the_cutoff_rule(open_supply):
    # P3 received before, P4 ordered after, P5 cancelled; M3 cancelled, M5 completed late,
    # M8 created after the cut-off (M7 before it; orders without a date count as created)
    assert sorted(open_supply.index) == ["M1", "M2", "M4", "M6", "M7", "P1", "P2", "P6", "P7"]


def test_late_lines_are_expected_in_the_cycle_month(open_supply):
    expected_late = {"P2", "P7", "M4", "M6"}
    assert set(open_supply.index[open_supply["is_late"]]) == expected_late
    assert (open_supply.loc[sorted(expected_late), "receipt_month"] == CYCLE).all()
    assert open_supply.loc["P1", "receipt_month"] == OCT
    assert open_supply.loc["M1", "receipt_month"] == NOV
    assert open_supply.loc["P6", "receipt_month"] == DEC


@pytest.fixture
def projection() -> pd.DataFrame:
    demand = pd.DataFrame(
        {
            "sku": ["A", "A", "A", "A", "A"],
            "location_id": "DC1",
            "month": [OCT, OCT, NOV, DEC, pd.Timestamp("2026-09-01")],  # Sep: outside
            "qty": [3.0, 1.0, 8.0, 5.0, 50.0],
        }
    )
    opening = pd.DataFrame({"sku": ["A", "C"], "location_id": ["DC1", "DC2"],
                            "on_hand_qty": [10.0, 5.0]})
    receipts = pd.DataFrame(
        {
            "sku": ["A", "A", "A", "B"],
            "location_id": "DC1",
            "month": [NOV, JAN, pd.Timestamp("2027-02-01"), DEC],  # Feb: outside
            "qty": [3.0, 20.0, 100.0, 7.0],
        }
    )
    return project_inventory(demand, opening, receipts, [OCT, NOV, DEC, JAN])


def test_projection_rolls_closing_into_next_opening(projection):
    assert list(projection.columns) == PROJECTION_COLUMNS
    a = projection[projection["sku"] == "A"].set_index("month")
    assert a["opening_qty"].tolist() == [10.0, 6.0, 1.0, -4.0]
    assert a["receipts_qty"].tolist() == [0.0, 3.0, 0.0, 20.0]
    assert a["demand_qty"].tolist() == [4.0, 8.0, 5.0, 0.0]
    assert a["closing_qty"].tolist() == [6.0, 1.0, -4.0, 16.0]
    # Jan: 16 in stock and no demand ahead in the horizon
    assert a["status"].tolist() == ["healthy", "healthy", "stockout", "excess"]


def test_projection_covers_the_union_of_inputs(projection):
    assert len(projection) == 3 * 4
    b = projection[projection["sku"] == "B"]  # receipts only
    assert b["closing_qty"].tolist() == [0.0, 0.0, 7.0, 7.0]
    c = projection[projection["sku"] == "C"]  # opening stock only
    assert c["closing_qty"].tolist() == [5.0, 5.0, 5.0, 5.0]
    assert (c["location_id"] == "DC2").all()


def test_projection_without_months_is_empty():
    frame = pd.DataFrame({"sku": ["A"], "location_id": ["DC1"], "month": [OCT], "qty": [1.0]})
    opening = pd.DataFrame({"sku": ["A"], "location_id": ["DC1"], "on_hand_qty": [1.0]})
    projection = project_inventory(frame, opening, frame, [])
    assert projection.empty
    assert list(projection.columns) == PROJECTION_COLUMNS


def test_without_kind_all_receipts_are_scheduled(projection):
    a = projection[projection["sku"] == "A"]
    assert a["scheduled_receipts_qty"].tolist() == [0.0, 3.0, 0.0, 20.0]
    assert (a["planned_receipts_qty"] == 0).all()
    assert (projection["safety_stock_qty"] == 0).all()  # no safety frame given


# --- safety stock ----------------------------------------------------------------------------

Z_95 = 1.6448536  # NormalDist().inv_cdf(0.95)


def test_safety_stock_formula_by_hand():
    series = pd.DataFrame(
        {
            "sku": ["A", "B", "C", "D", "E"],
            "location_id": "DC1",
            "rmse": [10.0, math.nan, math.nan, 10.0, 10.0],
            "lead_time_days": [61.0, 30.4375, 30.4375, 0.0, 1.0],
            "demand_std": [99.0, 4.0, math.nan, 10.0, 10.0],
        }
    )
    stock = safety_stock(series).set_index("sku")
    assert list(stock.reset_index().columns) == SAFETY_STOCK_COLUMNS
    # A: 61 days = 2.004 months; B: no backtest, falls back to demand_std 4 over 1 month
    assert stock.loc["A", "safety_stock_qty"] == pytest.approx(Z_95 * 10 * math.sqrt(2.004), 1e-4)
    assert stock.loc["A", "safety_stock_qty"] == pytest.approx(23.286, abs=1e-3)
    assert stock.loc["B", "safety_stock_qty"] == pytest.approx(Z_95 * 4)
    assert stock.loc["C", "safety_stock_qty"] == 0.0  # neither rmse nor demand_std
    assert stock.loc["D", "safety_stock_qty"] == 0.0  # no lead time, no exposure
    # E: 1 day is less than a tenth of a month, so a tenth counts
    assert stock.loc["E", "lead_time_months"] == 0.1
    assert stock.loc["E", "safety_stock_qty"] == pytest.approx(Z_95 * 10 * math.sqrt(0.1))
    assert stock["sigma_source"].tolist() == [
        "backtest_rmse", "demand_std", "none", "backtest_rmse", "backtest_rmse"]


def test_safety_stock_without_fallback_column_and_other_service_level():
    series = pd.DataFrame({"sku": ["A", "B"], "location_id": "DC1", "rmse": [20.0, math.nan],
                           "lead_time_days": [30.4375, 30.4375]})
    stock = safety_stock(series, service_level=0.5)  # z(0.5) = 0
    assert stock["safety_stock_qty"].tolist() == [0.0, 0.0]
    stock = safety_stock(series, service_level=0.99)
    assert stock["safety_stock_qty"].tolist() == pytest.approx([2.3263479 * 20, 0.0])
    with pytest.raises(ValueError, match="service_level"):
        safety_stock(series, service_level=1.0)


# --- receipts by kind, safety stock, days of cover and status --------------------------------


def _rated(closing_target, demand, safety_qty, excess_cover_days=180.0):
    """One series over Oct..Jan with a stock that closes Oct at `closing_target`."""
    months = [OCT, NOV, DEC, JAN]
    demand_frame = pd.DataFrame({"sku": "A", "location_id": "DC1", "month": months,
                                 "qty": demand})
    opening = pd.DataFrame({"sku": ["A"], "location_id": ["DC1"],
                            "on_hand_qty": [closing_target + demand[0]]})
    receipts = demand_frame.iloc[0:0]
    safety = pd.DataFrame({"sku": ["A"], "location_id": ["DC1"],
                           "safety_stock_qty": [safety_qty]})
    projection = project_inventory(demand_frame, opening, receipts, months, safety,
                                   excess_cover_days=excess_cover_days)
    return projection.iloc[0]


def test_days_of_cover_by_hand():
    # Oct closes at 100; demand ahead Oct, Nov, Dec = 30, 60, 0 -> 30 a month = 30/30.4375 a day
    oct_row = _rated(100.0, [30.0, 60.0, 0.0, 90.0], 0.0)
    assert oct_row["days_of_cover"] == pytest.approx(100 * 30.4375 / 30)
    assert oct_row["days_of_cover"] == pytest.approx(101.458, abs=1e-3)


def test_days_of_cover_at_the_horizon_end_uses_the_months_left():
    demand = pd.DataFrame({"sku": "A", "location_id": "DC1", "month": [OCT, NOV, DEC, JAN],
                           "qty": [0.0, 0.0, 10.0, 20.0]})
    opening = pd.DataFrame({"sku": ["A"], "location_id": ["DC1"], "on_hand_qty": [100.0]})
    projection = project_inventory(demand, opening, demand.iloc[0:0], [OCT, NOV, DEC, JAN])
    cover = projection["days_of_cover"].tolist()
    assert cover[0] == pytest.approx(100 / (10 / 3 / 30.4375))  # Oct, Nov, Dec
    assert cover[2] == pytest.approx(90 / (15 / 30.4375))  # Dec and Jan only
    assert cover[3] == pytest.approx(70 / (20 / 30.4375))  # Jan alone


@pytest.mark.parametrize(
    ("closing", "demand", "safety_qty", "status"),
    [
        (-0.5, [10.0] * 4, 0.0, "stockout"),
        (-0.005, [10.0] * 4, 0.0, "healthy"),  # a shortage within the tolerance is none
        (0.0, [10.0] * 4, 5.0, "below_safety_stock"),  # 0 <= closing < safety
        (4.98, [10.0] * 4, 5.0, "below_safety_stock"),  # under by more than the tolerance
        (4.995, [10.0] * 4, 5.0, "healthy"),  # within QTY_TOLERANCE (0.01) of it: noise
        (5.0, [10.0] * 4, 5.0, "healthy"),  # at the safety stock: not below
        (0.0, [10.0] * 4, 0.0, "healthy"),  # no stock, no safety stock: nothing to flag
        (0.0, [0.0] * 4, 0.0, "healthy"),  # nothing in stock, nothing ahead
        (3.0, [0.0] * 4, 0.0, "excess"),  # stock with no demand ahead
        (3.0, [0.0] * 4, 5.0, "below_safety_stock"),  # below safety wins over excess
    ],
)
def test_status_at_each_boundary(closing, demand, safety_qty, status):
    assert _rated(closing, demand, safety_qty)["status"] == status


def test_excess_starts_strictly_above_the_cover_limit():
    # demand 30.4375 a month = 1 a day, so cover in days = closing qty
    demand = [30.4375] * 4
    at_limit = _rated(180.0, demand, 0.0)
    assert at_limit["days_of_cover"] == pytest.approx(180.0)
    assert at_limit["status"] == "healthy"
    assert _rated(181.0, demand, 0.0)["status"] == "excess"
    assert _rated(100.0, demand, 0.0, excess_cover_days=90.0)["status"] == "excess"


def test_stockout_and_no_stock_have_zero_cover():
    assert _rated(-5.0, [10.0] * 4, 0.0)["days_of_cover"] == 0.0
    assert math.isnan(_rated(3.0, [0.0] * 4, 0.0)["days_of_cover"])


def test_scheduled_and_planned_receipts():
    demand = pd.DataFrame({"sku": "A", "location_id": "DC1", "month": [OCT, NOV],
                           "qty": [10.0, 10.0]})
    opening = pd.DataFrame({"sku": ["A"], "location_id": ["DC1"], "on_hand_qty": [5.0]})
    receipts = pd.DataFrame(
        {
            "sku": "A",
            "location_id": "DC1",
            "month": [OCT, OCT, NOV, NOV],
            "qty": [4.0, 6.0, 1.0, 2.0],
            "kind": ["scheduled", "planned", "planned", None],  # None: scheduled
        }
    )
    safety = pd.DataFrame({"sku": ["A"], "location_id": ["DC1"], "safety_stock_qty": [2.0]})
    projection = project_inventory(demand, opening, receipts, [OCT, NOV], safety)
    assert projection["scheduled_receipts_qty"].tolist() == [4.0, 2.0]
    assert projection["planned_receipts_qty"].tolist() == [6.0, 1.0]
    assert projection["receipts_qty"].tolist() == [10.0, 3.0]
    assert projection["opening_qty"].tolist() == [5.0, 5.0]
    assert projection["closing_qty"].tolist() == [5.0, -2.0]
    assert projection["safety_stock_qty"].tolist() == [2.0, 2.0]
    assert projection["status"].tolist() == ["healthy", "stockout"]


def test_unknown_receipt_kind_is_an_error():
    receipts = pd.DataFrame({"sku": ["A"], "location_id": ["DC1"], "month": [OCT],
                             "qty": [1.0], "kind": ["firm"]})
    with pytest.raises(ValueError, match="firm"):
        project_inventory(receipts, receipts.iloc[0:0].assign(on_hand_qty=0.0), receipts, [OCT])


def test_closing_identity_is_exact_with_fractions():
    months = [OCT, NOV, DEC, JAN]
    demand = pd.DataFrame({"sku": "A", "location_id": "DC1", "month": months,
                           "qty": [0.1, 0.7, 1 / 3, 2.2]})
    opening = pd.DataFrame({"sku": ["A"], "location_id": ["DC1"], "on_hand_qty": [0.3]})
    receipts = demand.assign(qty=[0.2, 1 / 7, 0.9, 0.05], kind=["planned", "scheduled"] * 2)
    projection = project_inventory(demand, opening, receipts, months)
    balance = (projection["opening_qty"] + projection["receipts_qty"]
               - projection["demand_qty"] - projection["closing_qty"])
    assert (balance == 0).all()
    assert (projection["opening_qty"].iloc[1:].to_numpy()
            == projection["closing_qty"].iloc[:-1].to_numpy()).all()


def test_unmet_demand_is_lost_as_in_the_supply_plan():
    demand = pd.DataFrame({"sku": "A", "location_id": "DC1", "month": [OCT, NOV, DEC],
                           "qty": [10.0, 10.0, 10.0]})
    opening = pd.DataFrame({"sku": ["A"], "location_id": ["DC1"], "on_hand_qty": [4.0]})
    receipts = pd.DataFrame({"sku": ["A", "A"], "location_id": "DC1", "month": [NOV, DEC],
                             "qty": [12.0, 10.0], "kind": "planned"})
    unmet = pd.DataFrame({"sku": ["A"], "location_id": ["DC1"], "month": [OCT], "qty": [6.0]})
    rows = project_inventory(demand, opening, receipts, [OCT, NOV, DEC], unmet=unmet)
    # Oct: 4 on hand, 10 wanted, 6 lost -> 0; Nov: 0 + 12 - 10 = 2; Dec: 2 + 10 - 10 = 2
    assert list(rows["closing_qty"]) == [0.0, 2.0, 2.0]
    assert list(rows["unmet_qty"]) == [6.0, 0.0, 0.0]
    assert list(rows["status"]) == ["stockout", "healthy", "healthy"]
