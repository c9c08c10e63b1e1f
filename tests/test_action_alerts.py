"""Action messages on hand-made plans, projections and open order lines: release now,
expedite, push out, cancel."""

import re

import pandas as pd
import pytest

from sop_pipeline.checks import QTY_TOLERANCE
from sop_pipeline.cycle import first_receipt_months, month_start, release_dates
from sop_pipeline.review.actions import ACTION_KINDS
from sop_pipeline.review.alerts import ALERT_COLUMNS, ALERT_KINDS, build_alerts

CYCLE = pd.Timestamp("2026-10-01")
MONTHS = list(pd.date_range(CYCLE, periods=4, freq="MS"))
ITEMS = pd.DataFrame({"sku": ["A", "B", "C", "M"], "lead_time_days": [45, 30, 30, 10],
                      "unit_cost": [10.0, 2.0, 1.0, 50.0],
                      "unit_price": [25.0, 5.0, 2.0, 120.0]})
EMPTY = pd.DataFrame()


def _plan(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    """supply_plan rows from (sku, location, month, planned qty); M is made, the rest bought."""
    plan = pd.DataFrame(rows, columns=["sku", "location_id", "month", "qty"])
    make = plan["sku"] == "M"
    return plan.assign(
        month=pd.to_datetime(plan["month"]), make_or_buy=make.map({True: "make", False: "buy"}),
        planned_production_qty=plan["qty"].where(make, 0.0),
        planned_purchase_qty=plan["qty"].where(~make, 0.0)).drop(columns="qty")


def _series(sku: str, closing: list[float], unmet: list[float] | None = None,
            safety: float = 0.0) -> pd.DataFrame:
    """Projection rows of sku@DC1 over MONTHS."""
    return pd.DataFrame({"sku": sku, "location_id": "DC1", "month": MONTHS,
                         "closing_qty": closing, "unmet_qty": unmet or [0.0] * len(closing),
                         "safety_stock_qty": safety})


def _line(order_id: str, sku: str, quantity: float, due: str, supply_type: str = "purchase",
          location_id: str = "DC1") -> dict[str, object]:
    due_date = pd.Timestamp(due)
    return {"supply_type": supply_type, "order_id": order_id, "line_no": 1,
            "supplier_id": "SUP-01" if supply_type == "purchase" else None, "sku": sku,
            "location_id": location_id, "quantity": quantity, "due_date": due_date,
            "receipt_month": max(month_start(due_date), CYCLE),
            "is_late": due_date < CYCLE}


def _actions(inventory=EMPTY, lines=(), plan=None) -> pd.DataFrame:
    alerts = build_alerts(CYCLE, inventory, EMPTY, pd.DataFrame(list(lines)), items=ITEMS,
                          plan=plan)
    assert list(alerts.columns) == ALERT_COLUMNS
    return alerts[alerts["kind"].isin(ACTION_KINDS)]


def test_action_kinds_are_alert_kinds():
    assert set(ACTION_KINDS) == {"release_now", "expedite", "push_out", "cancel"}
    assert set(ACTION_KINDS) <= set(ALERT_KINDS)


# --- release now ------------------------------------------------------------------------------


def test_release_now_when_need_date_minus_lead_time_is_before_next_month():
    plan = _plan([
        ("A", "DC1", "2026-12-01", 80.0),   # 45 days before Dec 1: Oct 17, in October: medium
        ("A", "DC1", "2027-01-01", 80.0),   # Nov 17: next month's job
        ("B", "DC1", "2026-11-01", 50.0),   # 30 days before Nov 1: Oct 2, this week: high
        ("M", "PLT1", "2026-10-01", 4.0),   # no lead time left: Sep 21 is not a release date
        ("M", "PLT1", "2026-11-01", 6.0),   # Oct 22: medium
        ("M", "PLT1", "2026-12-01", 6.0),   # Nov 21: no
        ("C", "DC1", "2026-11-01", 0.0),    # nothing planned
        ("C", "DC1", "2026-12-01", QTY_TOLERANCE / 2),  # solver noise
    ])
    alerts = _actions(plan=plan)
    assert set(alerts["kind"]) == {"release_now"}
    got = {(r.entity, r.month.strftime("%Y-%m")): (r.severity, r.value, r.value_at_risk)
           for r in alerts.itertuples()}
    assert got == {
        ("A@DC1", "2026-12"): ("medium", 16.0, 800.0),
        ("B@DC1", "2026-11"): ("high", 1.0, 100.0),
        ("M@PLT1", "2026-10"): ("high", -10.0, 200.0),  # a plan the check refuses (below)
        ("M@PLT1", "2026-11"): ("medium", 21.0, 300.0),
    }
    assert (alerts["threshold"] == 31.0).all()  # days in October
    due = alerts[alerts["entity"] == "A@DC1"].iloc[0]
    assert due["message"] == (
        "Release the planned purchase of 80 units of A for DC1, needed in Dec 2026: release it "
        "by 2026-10-17 (need date 2026-12-01 minus the 45-day lead time); order value 800 EUR.")
    made = alerts[(alerts["entity"] == "M@PLT1") & (alerts["severity"] == "medium")].iloc[0]
    assert made["message"].startswith("Release the planned production of 6 units of M for PLT1")
    assert "release it by 2026-10-22" in made["message"]


def test_no_planned_release_falls_before_the_cut_off():
    """The receipt month is needed on its first day: 45 days from Oct 1 is Nov 15, so the
    first planned receipt comes in December, released Oct 17, never before the cut-off."""
    cutoff = pd.Timestamp("2026-10-01")
    lead = pd.Series([0.0, 10.0, 31.0, 45.0, 30.5, None])
    first = first_receipt_months(cutoff, lead)
    assert first.dt.strftime("%Y-%m").tolist() == [
        "2026-10", "2026-11", "2026-11", "2026-12", "2026-11", "2026-10"]
    released = release_dates(first, lead)
    assert released.dt.strftime("%Y-%m-%d").tolist() == [
        "2026-10-01", "2026-10-22", "2026-10-01", "2026-10-17", "2026-10-01", "2026-10-01"]
    assert (released >= cutoff).all()
    # and a month earlier would have been released before the cut-off
    earlier = release_dates(first - pd.offsets.MonthBegin(1), lead)
    assert (earlier[lead.fillna(0.0) > 0] < cutoff).all()


def test_no_release_without_a_plan():
    assert _actions(plan=None).empty
    assert _actions(plan=_plan([])).empty


# --- expedite ---------------------------------------------------------------------------------


def test_expedite_a_line_arriving_after_the_stockout():
    inventory = _series("A", closing=[2.0, 0.0, 0.0, 20.0], unmet=[0.0, 5.0, 3.0, 0.0])
    lines = [_line("PO-1", "A", 30.0, "2026-12-20"), _line("PO-2", "A", 4.0, "2027-01-10"),
             _line("PO-3", "A", 9.0, "2026-10-05")]  # arrives before any loss: nothing to do
    alerts = _actions(inventory, lines).set_index("entity")
    assert set(alerts["kind"]) == {"expedite"}
    assert sorted(alerts.index) == ["PO-1/1", "PO-2/1"]
    first, second = alerts.loc["PO-1/1"], alerts.loc["PO-2/1"]
    # PO-1 (Dec) claims the 5 units lost in Nov; PO-2 (Jan) the 3 lost in Dec
    assert (first["month"], first["value"], first["value_at_risk"]) == (MONTHS[1], 5.0, 125.0)
    assert (second["month"], second["value"], second["value_at_risk"]) == (MONTHS[2], 3.0, 75.0)
    assert (alerts["severity"] == "high").all()  # needed within the first 3 months
    assert first["message"] == (
        "Expedite purchase order PO-1 line 1 (30 units of A for DC1, due 2026-12-20) to "
        "arrive by 2026-11-01: without it the plan loses 5 units of demand from Nov 2026 (125 "
        "EUR of sales).")


def test_expedite_claims_no_more_than_the_line_brings():
    inventory = _series("A", closing=[0.0, 0.0, 0.0, 0.0], unmet=[10.0, 10.0, 0.0, 0.0])
    alerts = _actions(inventory, [_line("MO-7", "A", 4.0, "2026-12-02", "production")])
    row = alerts.iloc[0]
    assert (row["kind"], row["entity"], row["value"]) == ("expedite", "MO-7", 4.0)
    assert "production order MO-7 (4 units of A for DC1, due 2026-12-02)" in row["message"]
    one = _actions(inventory, [_line("MO-8", "A", 1.0, "2026-12-02", "production")]).iloc[0]
    assert "(1 unit of A for DC1" in one["message"] and "the plan loses 1 unit of demand" in (
        one["message"])


# --- push out and cancel ----------------------------------------------------------------------


def test_latest_line_cancelled_then_earlier_one_pushed_out():
    # demand 10 a month, safety stock 10; both lines are in the closing stock below
    inventory = _series("B", closing=[50.0, 40.0, 30.0, 20.0], safety=10.0)
    lines = [_line("PO-3", "B", 15.0, "2026-11-05"), _line("PO-4", "B", 10.0, "2026-12-03")]
    alerts = _actions(inventory, lines).set_index("entity")
    cancel, push = alerts.loc["PO-4/1"], alerts.loc["PO-3/1"]
    # without PO-4 stock ends Dec 20, Jan 10: never below 10 to the horizon's end
    assert (cancel["kind"], cancel["severity"], cancel["month"]) == ("cancel", "medium", MONTHS[2])
    assert (cancel["value"], cancel["threshold"], cancel["value_at_risk"]) == (2.0, 2.0, 20.0)
    assert cancel["message"] == (
        "Cancel purchase order PO-4 line 1 (10 units of B for DC1, due 2026-12-03): stock "
        "stays at or above safety stock without it to the horizon's end (Jan 2027); 20 EUR of "
        "stock not needed.")
    # without PO-4, and then without PO-3: Nov 25, Dec 5 < 10, so PO-3 is needed in December
    assert (push["kind"], push["severity"], push["month"]) == ("push_out", "low", MONTHS[1])
    assert (push["value"], push["threshold"], push["value_at_risk"]) == (1.0, 1.0, 30.0)
    assert push["message"] == (
        "Push out purchase order PO-3 line 1 (15 units of B for DC1, due 2026-11-05) to "
        "2026-12-01: stock stays at or above safety stock without it until Dec 2026, the first "
        "month it is needed; 30 EUR tied up 1 month early.")


def test_a_line_needed_in_its_month_stays():
    inventory = _series("C", closing=[12.0, 12.0, 12.0, 12.0], safety=10.0)
    assert _actions(inventory, [_line("PO-5", "C", 5.0, "2026-10-20")]).empty


def test_stock_exactly_at_safety_stock_within_the_tolerance_is_enough():
    inventory = _series("C", closing=[15.0 - QTY_TOLERANCE / 2] * 4, safety=10.0)
    alerts = _actions(inventory, [_line("PO-6", "C", 5.0, "2026-10-20")])
    assert list(alerts["kind"]) == ["cancel"]


def test_an_expedited_line_is_not_also_pushed_out():
    inventory = _series("A", closing=[0.0, 100.0, 100.0, 90.0], unmet=[6.0, 0.0, 0.0, 0.0])
    alerts = _actions(inventory, [_line("PO-8", "A", 30.0, "2026-11-15")])
    assert list(alerts["kind"]) == ["expedite"]


def test_lines_without_a_projection_or_beyond_the_horizon_raise_nothing():
    inventory = _series("B", closing=[50.0, 40.0, 30.0, 20.0], safety=10.0)
    lines = [_line("PO-9", "B", 5.0, "2027-06-01"), _line("PO-10", "A", 5.0, "2026-11-01")]
    assert _actions(inventory, lines).empty


# --- the cycle's alerts -----------------------------------------------------------------------


@pytest.fixture
def every_action() -> pd.DataFrame:
    inventory = pd.concat([
        _series("A", closing=[2.0, 0.0, 0.0, 20.0], unmet=[0.0, 5.0, 3.0, 0.0]),
        _series("B", closing=[50.0, 40.0, 30.0, 20.0], safety=10.0)], ignore_index=True)
    lines = [_line("PO-1", "A", 30.0, "2026-12-20"), _line("PO-3", "B", 15.0, "2026-11-05"),
             _line("PO-4", "B", 10.0, "2026-12-03")]
    plan = _plan([("A", "DC1", "2026-11-01", 120.0)])
    return _actions(inventory, lines, plan)


def test_every_action_message_names_its_order_or_sku_location_quantity_and_date(every_action):
    assert set(every_action["kind"]) == set(ACTION_KINDS)
    for row in every_action.itertuples():
        named = row.entity.split("@")[0].split("/")[0]
        assert named in row.message, row.message
        assert re.search(r"\d units? of ", row.message) and "EUR" in row.message, row.message
        assert pd.Series([row.message]).str.contains(r"\d{4}-\d{2}-\d{2}").all(), row.message


def test_actions_are_ordered_by_severity_then_value_at_risk(every_action):
    assert list(zip(every_action["kind"], every_action["severity"], strict=True)) == [
        ("release_now", "high"),  # 1,200 EUR
        ("expedite", "high"),     # 125 EUR
        ("cancel", "medium"),
        ("push_out", "low"),
    ]
