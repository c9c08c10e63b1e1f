"""Open supply at the cut-off and projected inventory on hand-computed cases."""

import pandas as pd
import pytest

from sop_pipeline.inventory import PROJECTION_COLUMNS, open_supply_at_cutoff, project_inventory

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
        ]
    )
    return open_supply_at_cutoff(orders, CYCLE).set_index("order_id")


def test_open_lines_follow_the_cutoff_rule(open_supply):
    # P3 received before, P4 ordered after, P5 cancelled; M3 cancelled, M5 completed late
    assert sorted(open_supply.index) == ["M1", "M2", "M4", "M6", "P1", "P2", "P6", "P7"]


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
    assert a["status"].tolist() == ["ok", "ok", "stockout", "ok"]


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
