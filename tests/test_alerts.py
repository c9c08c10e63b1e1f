"""Alerts of a cycle on hand-built inventory, capacity and late orders."""

import math

import pandas as pd
import pytest

from sop_pipeline.alerts import ALERT_COLUMNS, build_alerts

CYCLE = pd.Timestamp("2026-10-01")
MONTHS = pd.to_datetime(["2026-10-01", "2026-11-01", "2026-12-01", "2027-01-01"])


@pytest.fixture
def alerts() -> pd.DataFrame:
    inventory = pd.DataFrame(
        {
            "sku": ["A"] * 4 + ["B"] * 4 + ["C"] * 4,
            "location_id": ["DC1"] * 4 + ["DC2"] * 4 + ["DC1"] * 4,
            "month": list(MONTHS) * 3,
            "closing_qty": [5, -3, -10, -12, 2, 1, 0, -7, 4, 3, 2, 1],
        }
    )
    capacity = pd.DataFrame(
        {
            "work_center_id": ["WC1", "WC1", "WC2", "WC3", "WC4"],
            "month": [MONTHS[0], MONTHS[1], MONTHS[0], MONTHS[0], MONTHS[0]],
            "required_hours": [130.0, 110.0, 100.0, 0.0, 8.0],
            "available_hours": [100.0, 100.0, 100.0, 0.0, 0.0],
            "utilisation": [1.3, 1.1, 1.0, math.nan, math.nan],
            "overload_hours": [30.0, 10.0, 0.0, 0.0, 8.0],
        }
    )
    late_orders = pd.DataFrame(
        {
            "supply_type": ["purchase", "purchase", "purchase", "production"],
            "order_id": ["PO-1", "PO-2", "PO-3", "MO-1"],
            "line_no": [1, 2, 1, 1],
            "supplier_id": ["SUP-7", "SUP-8", "SUP-9", None],
            "sku": ["A", "B", "C", "A"],
            "location_id": "DC1",
            "quantity": [500.0, 20.0, 5.0, 10.0],
            "due_date": pd.to_datetime(["2026-08-15", "2026-09-21", "2026-10-15", "2026-09-01"]),
            "is_late": [True, True, False, True],
        }
    )
    return build_alerts(CYCLE, inventory, capacity, late_orders)


def test_alerts_sorted_by_severity_then_kind(alerts):
    assert list(alerts.columns) == ALERT_COLUMNS
    assert list(zip(alerts["severity"], alerts["kind"], alerts["entity"], strict=True)) == [
        ("high", "capacity_overload", "WC1"),
        ("high", "capacity_overload", "WC4"),
        ("high", "late_purchase_order", "PO-1/1"),
        ("high", "projected_stockout", "A@DC1"),
        ("medium", "capacity_overload", "WC1"),
        ("medium", "late_purchase_order", "PO-2/2"),
        ("medium", "projected_stockout", "B@DC2"),
    ]


def test_stockout_alert_at_first_negative_month(alerts):
    stockouts = alerts[alerts["kind"] == "projected_stockout"].set_index("entity")
    assert stockouts.loc["A@DC1", "month"] == MONTHS[1]  # not Dec or Jan again
    assert stockouts.loc["A@DC1", "value"] == 3.0
    assert stockouts.loc["B@DC2", "month"] == MONTHS[3]  # 4th month: medium
    assert stockouts.loc["B@DC2", "value"] == 7.0
    message = stockouts.loc["A@DC1", "message"]
    assert "A at DC1" in message and "Nov 2026" in message and "short by 3 units" in message


def test_overload_alerts_carry_utilisation(alerts):
    overloads = alerts[alerts["kind"] == "capacity_overload"]
    wc1 = overloads[overloads["entity"] == "WC1"].set_index("month")
    assert wc1["value"].to_dict() == {MONTHS[0]: 1.3, MONTHS[1]: 1.1}
    assert (overloads["threshold"] == 1.0).all()
    assert "130% in Oct 2026: 130 h required vs 100 h available (30 h over)" in (
        wc1.loc[MONTHS[0], "message"]
    )
    wc4 = overloads[overloads["entity"] == "WC4"].iloc[0]  # load on a centre with no hours
    assert math.isnan(wc4["value"])
    assert "no available hours" in wc4["message"]


def test_late_purchase_alert_counts_days_at_cutoff(alerts):
    late = alerts[alerts["kind"] == "late_purchase_order"].set_index("entity")
    assert late.loc["PO-1/1", "value"] == 47.0  # 15 Aug to 1 Oct
    assert late.loc["PO-2/2", "value"] == 10.0
    assert (late["month"] == CYCLE).all()
    message = late.loc["PO-1/1", "message"]
    assert "PO-1" in message and "SUP-7" in message and "47 days late" in message


def test_no_inputs_give_empty_alerts():
    empty = pd.DataFrame()
    alerts = build_alerts(CYCLE, empty, empty, empty)
    assert alerts.empty
    assert list(alerts.columns) == ALERT_COLUMNS
