"""Alerts of a cycle on hand-built inventory, capacity, purchase lines and accuracy."""

import math

import pandas as pd
import pytest

from sop_pipeline.review.alerts import ALERT_COLUMNS, alert_counts, build_alerts
from sop_pipeline.supply.inventory import project_inventory

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
    assert message.endswith("the plan expects it in Oct 2026: confirm the date with the supplier.")


def test_no_inputs_give_empty_alerts():
    empty = pd.DataFrame()
    alerts = build_alerts(CYCLE, empty, empty, empty)
    assert alerts.empty
    assert list(alerts.columns) == ALERT_COLUMNS


EMPTY = pd.DataFrame()


def _only(alerts: pd.DataFrame, kind: str) -> pd.DataFrame:
    assert set(alerts["kind"]) == {kind}
    return alerts.set_index("entity")


# --- below safety stock and excess stock, from a real projection -----------------------------


def _projection(closing_by_sku: dict[str, float], demand_per_month: float, safety_qty: float,
                excess_cover_days: float = 180.0):
    """Series over Oct..Jan with flat demand; each sku's Oct closing is given."""
    skus = list(closing_by_sku)
    demand = pd.DataFrame({"sku": skus, "location_id": "DC1"}).merge(
        pd.DataFrame({"month": MONTHS}), how="cross").assign(qty=demand_per_month)
    opening = pd.DataFrame({"sku": skus, "location_id": "DC1",
                            "on_hand_qty": [c + demand_per_month for c in closing_by_sku.values()]})
    safety = pd.DataFrame({"sku": skus, "location_id": "DC1", "safety_stock_qty": safety_qty})
    return project_inventory(demand, opening, demand.iloc[0:0], MONTHS, safety,
                             excess_cover_days=excess_cover_days)


def test_below_safety_stock_alert_at_first_month_below():
    # demand 10 a month, safety stock 15: closing Oct..Jan = c, c-10, c-20, c-30
    inventory = _projection({"A": 44.5, "B": 45.0, "C": 34.0, "D": 20.0}, 10.0, 15.0)
    alerts = build_alerts(CYCLE, inventory, EMPTY, EMPTY)
    # D is below its safety stock in Nov but runs out in Jan: a stockout alert instead
    assert alerts.set_index("entity").loc["D@DC1", "kind"] == "projected_stockout"
    alerts = _only(alerts[alerts["kind"] != "projected_stockout"], "below_safety_stock")
    # B ends Jan at 15 = its safety stock: no alert
    assert sorted(alerts.index) == ["A@DC1", "C@DC1"]
    a, c = alerts.loc["A@DC1"], alerts.loc["C@DC1"]
    assert (a["month"], a["severity"], a["value"], a["threshold"]) == (MONTHS[3], "low", 14.5, 15)
    assert (c["month"], c["severity"], c["value"], c["threshold"]) == (MONTHS[2], "medium", 14, 15)
    assert c["message"] == ("C at DC1 is projected to fall below its safety stock in Dec 2026: "
                            "closing stock 14 vs safety stock 15 units (1 under).")


def test_stockout_takes_precedence_over_below_safety_stock():
    inventory = _projection({"D": 20.0}, 10.0, 15.0)  # Oct 20, Nov 10 (below), Dec 0, Jan -10
    alerts = build_alerts(CYCLE, inventory, EMPTY, EMPTY)
    assert alerts["kind"].tolist() == ["projected_stockout"]


def test_excess_stock_alert_above_the_cover_limit():
    # demand 30.4375 a month = 1 a day: cover in days = closing qty
    inventory = pd.concat([
        _projection({"A": 181.0, "B": 180.0}, 30.4375, 0.0),
        _projection({"C": 12.0}, 0.0, 0.0),  # stock, no demand ahead
    ], ignore_index=True)
    alerts = _only(build_alerts(CYCLE, inventory, EMPTY, EMPTY), "excess_stock")
    assert sorted(alerts.index) == ["A@DC1", "C@DC1"]  # B: exactly 180 days is not excess
    a = alerts.loc["A@DC1"]
    assert (a["month"], a["severity"], a["threshold"]) == (MONTHS[0], "low", 180.0)
    assert a["value"] == pytest.approx(181.0)
    assert a["message"] == ("A at DC1 holds excess stock from Oct 2026: 181 days of cover "
                            "(181 units) vs at most 180 days.")
    c = alerts.loc["C@DC1"]
    assert math.isnan(c["value"])
    assert c["message"] == ("C at DC1 holds excess stock from Oct 2026: 12 units with no demand "
                            "in the next 3 months.")


def test_excess_cover_days_is_a_parameter():
    # 100 days of cover: healthy at the default 180, excess at 90
    assert build_alerts(CYCLE, _projection({"A": 100.0}, 30.4375, 0.0), EMPTY, EMPTY).empty
    inventory = _projection({"A": 100.0}, 30.4375, 0.0, excess_cover_days=90)
    alerts = build_alerts(CYCLE, inventory, EMPTY, EMPTY, excess_cover_days=90)
    assert alerts["kind"].tolist() == ["excess_stock"] and alerts["threshold"].tolist() == [90.0]


# --- capacity ---------------------------------------------------------------------------------


def test_overload_message_names_the_centre_and_its_top_skus():
    capacity = pd.DataFrame(
        {
            "work_center_id": ["WC1", "WC2"],
            "name": ["Final assembly", "Paint"],
            "month": [MONTHS[0], MONTHS[0]],
            "required_hours": [130.0, 105.0],
            "available_hours": [100.0, 100.0],
            "utilisation": [1.3, 1.05],
            "overload_hours": [30.0, 5.0],
            "top_skus": ["BIKE-1, BIKE-2", None],
        }
    )
    alerts = _only(build_alerts(CYCLE, EMPTY, capacity, EMPTY), "capacity_overload")
    assert alerts.loc["WC1", "message"] == (
        "Work centre WC1 (Final assembly) is loaded at 130% in Oct 2026: 130 h required vs "
        "100 h available (30 h over). Most of the load comes from BIKE-1, BIKE-2.")
    assert alerts.loc["WC2", "message"].endswith("(5 h over).")


# --- purchase lines received late -------------------------------------------------------------


def _line(order_id, due, received, ordered="2026-07-01", supplier="SUP-1", sku="A",
          supply_type="purchase"):
    return {"supply_type": supply_type, "order_id": order_id, "line_no": 1,
            "supplier_id": supplier, "sku": sku, "location_id": "DC1", "quantity": 20.0,
            "order_date": ordered, "due_date": due, "received_date": received}


def test_lines_received_late_in_the_month_before_the_cutoff():
    received = pd.DataFrame(
        [
            _line("PO-1", "2026-09-01", "2026-09-15"),  # 14 days: medium
            _line("PO-2", "2026-08-15", "2026-09-30"),  # 46 days: high
            _line("PO-3", "2026-09-01", "2026-09-02"),  # 1 day: low
            _line("PO-4", "2026-09-10", "2026-09-10"),  # on time
            _line("PO-5", "2026-09-01", "2026-10-01"),  # received at the cut-off: not yet
            _line("PO-6", "2026-08-01", "2026-08-31"),  # received before the month
            _line("PO-7", "2026-08-01", None),  # not received
            _line("MO-1", "2026-09-01", "2026-09-20", supply_type="production"),
        ]
    )
    alerts = _only(build_alerts(CYCLE, EMPTY, EMPTY, EMPTY, received_orders=received),
                   "late_purchase_order")
    assert alerts["severity"].to_dict() == {"PO-2/1": "high", "PO-1/1": "medium",
                                            "PO-3/1": "low"}
    assert alerts["value"].to_dict() == {"PO-2/1": 46.0, "PO-1/1": 14.0, "PO-3/1": 1.0}
    assert (alerts["month"] == pd.Timestamp("2026-09-01")).all()
    assert alerts.loc["PO-1/1", "message"] == (
        "Purchase order PO-1 line 1 from supplier SUP-1 (20 units of A for DC1) was due "
        "2026-09-01 and received 2026-09-15, 14 days late.")


def test_late_receipt_severity_boundaries():
    received = pd.DataFrame([_line("PO-1", "2026-09-01", "2026-09-08"),  # 7 days: low
                             _line("PO-2", "2026-09-01", "2026-09-09"),  # 8 days: medium
                             _line("PO-3", "2026-08-01", "2026-08-31"),
                             _line("PO-4", "2026-08-01", "2026-09-01")])  # 31 days: high
    alerts = build_alerts(CYCLE, EMPTY, EMPTY, EMPTY, received_orders=received)
    assert alerts.set_index("entity")["severity"].to_dict() == {
        "PO-4/1": "high", "PO-2/1": "medium", "PO-1/1": "low"}


# --- supplier lead time -----------------------------------------------------------------------

ITEMS = pd.DataFrame({"sku": ["A", "B", "C"], "lead_time_days": [30.0, 20.0, math.nan]})


def _delivered(supplier, sku, days, received="2026-06-01"):
    """Lines received on `received` after `days` days, due on receipt (never late)."""
    received_on = pd.Timestamp(received)
    return [_line(f"{supplier}-{i}", received_on, received_on, received_on - pd.Timedelta(days=d),
                  supplier, sku) for i, d in enumerate(days)]


def test_supplier_lead_time_alert_on_the_median_of_received_lines():
    received = pd.DataFrame(
        _delivered("SUP-1", "A", [40, 34, 35])  # median 35 > 33: medium
        + _delivered("SUP-2", "A", [33, 33, 33])  # exactly 10 % longer: no alert
        + _delivered("SUP-3", "A", [60, 60])  # two lines only
        + _delivered("SUP-4", "B", [31, 31, 29])  # median 31 > 1.5 x 20: high
        + _delivered("SUP-5", "C", [90, 90, 90])  # no item lead time
        + _delivered("SUP-6", "A", [90, 90, 90], received="2025-09-30")  # over 12 months ago
        + _delivered("SUP-7", "A", [90, 90, 90], received="2026-10-01")  # after the cut-off
    )
    alerts = _only(build_alerts(CYCLE, EMPTY, EMPTY, EMPTY, received_orders=received,
                                items=ITEMS), "supplier_lead_time")
    assert sorted(alerts.index) == ["SUP-1/A", "SUP-4/B"]
    sup1, sup4 = alerts.loc["SUP-1/A"], alerts.loc["SUP-4/B"]
    assert (sup1["severity"], sup1["value"], sup1["threshold"]) == ("medium", 35.0, 30.0)
    assert (sup4["severity"], sup4["value"], sup4["threshold"]) == ("high", 31.0, 20.0)
    assert (alerts["month"] == CYCLE).all()
    assert sup1["message"] == (
        "Supplier SUP-1 takes 35 days to deliver A (median of 3 lines received in the 12 months "
        "before the cut-off), 17% longer than the 30-day lead time planning uses: update the "
        "item lead time or talk to the supplier.")


def test_supplier_lead_time_high_boundary():
    received = pd.DataFrame(_delivered("SUP-1", "A", [45, 45, 45])  # exactly 1.5 x
                            + _delivered("SUP-2", "A", [46, 46, 46]))
    alerts = build_alerts(CYCLE, EMPTY, EMPTY, EMPTY, received_orders=received, items=ITEMS)
    assert alerts.set_index("entity")["severity"].to_dict() == {"SUP-2/A": "high",
                                                                "SUP-1/A": "medium"}


def test_supplier_lead_time_needs_items():
    received = pd.DataFrame(_delivered("SUP-1", "A", [90, 90, 90]))
    assert build_alerts(CYCLE, EMPTY, EMPTY, EMPTY, received_orders=received).empty
    assert build_alerts(CYCLE, EMPTY, EMPTY, EMPTY, items=ITEMS).empty


# --- forecast bias ----------------------------------------------------------------------------


def test_biased_forecast_alert_on_the_selected_model():
    accuracy = pd.DataFrame(
        {
            "sku": ["A", "B", "C", "D", "E", "E", "F"],
            "location_id": "DC1",
            "model": ["auto_ets", "prophet", "auto_ets", "auto_ets", "auto_ets", "prophet",
                      "auto_ets"],
            "bias": [0.25, -0.45, 0.2, -0.19, 0.1, 0.9, math.nan],
            "is_selected": [True, True, True, True, True, False, True],
        }
    )
    alerts = _only(build_alerts(CYCLE, EMPTY, EMPTY, EMPTY, accuracy=accuracy),
                   "biased_forecast")
    assert sorted(alerts.index) == ["A@DC1", "B@DC1"]  # C at 0.2 exactly: no; E: not selected
    a, b = alerts.loc["A@DC1"], alerts.loc["B@DC1"]
    assert (a["severity"], a["value"], a["threshold"]) == ("medium", 0.25, 0.2)
    assert (b["severity"], b["value"], b["threshold"]) == ("high", -0.45, -0.2)
    assert (alerts["month"] == CYCLE).all()
    assert a["message"] == (
        "The selected forecast (auto_ets) of A at DC1 is over-forecasting by 25% of actual "
        "demand in its backtest (bias +0.25, limit ±0.20): review the model or override it.")
    assert "B at DC1 is under-forecasting by 45%" in b["message"]


# --- counts -----------------------------------------------------------------------------------


def test_alert_counts_by_kind_and_severity(alerts):
    assert alert_counts(alerts) == {
        "capacity_overload/high": 2,
        "capacity_overload/medium": 1,
        "late_purchase_order/high": 1,
        "late_purchase_order/medium": 1,
        "projected_stockout/high": 1,
        "projected_stockout/medium": 1,
    }
    assert alert_counts(build_alerts(CYCLE, EMPTY, EMPTY, EMPTY)) == {}


def test_unmet_demand_is_a_projected_stockout():
    inventory = pd.DataFrame({"sku": ["A", "A"], "location_id": "DC1", "month": MONTHS[:2],
                              "closing_qty": [0.0, 3.0], "unmet_qty": [4.5, 0.0],
                              "safety_stock_qty": 0.0, "days_of_cover": [0.0, 30.0],
                              "status": ["stockout", "healthy"]})
    empty = pd.DataFrame(columns=["work_center_id", "month", "required_hours",
                                  "available_hours", "utilisation", "overload_hours"])
    late = pd.DataFrame(columns=["supply_type", "order_id", "line_no", "supplier_id", "sku",
                                 "location_id", "quantity", "due_date", "is_late"])
    alerts = build_alerts(CYCLE, inventory, empty, late)
    stockout = alerts[alerts["kind"] == "projected_stockout"].iloc[0]
    assert (stockout["entity"], stockout["value"], stockout["month"]) == ("A@DC1", 4.5, MONTHS[0])
    assert "short by 4.5 units" in stockout["message"]


def test_a_stockout_from_unmet_demand_gets_no_below_safety_alert_too():
    inventory = pd.DataFrame({"sku": ["A", "A"], "location_id": "DC1", "month": MONTHS[:2],
                              "closing_qty": [0.0, 1.0], "unmet_qty": [4.5, 0.0],
                              "safety_stock_qty": 3.0, "days_of_cover": [0.0, 10.0],
                              "status": ["stockout", "below_safety_stock"]})
    empty = pd.DataFrame(columns=["work_center_id", "month", "required_hours",
                                  "available_hours", "utilisation", "overload_hours"])
    late = pd.DataFrame(columns=["supply_type", "order_id", "line_no", "supplier_id", "sku",
                                 "location_id", "quantity", "due_date", "is_late"])
    kinds = list(build_alerts(CYCLE, inventory, empty, late)["kind"])
    assert kinds == ["projected_stockout"]


# --- value at risk and the order it gives -----------------------------------------------------

PRICED = pd.DataFrame({"sku": ["A", "B", "C"], "lead_time_days": [30.0, 20.0, 10.0],
                       "unit_cost": [10.0, 4.0, 1.0], "unit_price": [25.0, 9.0, 3.0]})


def test_value_at_risk_of_the_stock_alerts():
    # demand 30.4375 a month = 1 a day, safety stock 15
    inventory = pd.concat([
        _projection({"A": 20.0}, 30.4375, 15.0),   # Nov -10.4: stockout
        _projection({"B": 100.0}, 30.4375, 15.0),  # Jan 8.7: below safety stock
        _projection({"C": 360.0}, 30.4375, 15.0),  # 360 days of cover: excess
    ], ignore_index=True)
    alerts = build_alerts(CYCLE, inventory, EMPTY, EMPTY, items=PRICED).set_index("kind")
    stockout = alerts.loc["projected_stockout"]  # Nov -10.4 ... Jan -71.3: short by 71.3
    assert stockout["value"] == pytest.approx(30.4375 - 20.0)  # in Nov
    assert stockout["value_at_risk"] == pytest.approx((3 * 30.4375 - 20.0) * 25.0)
    assert stockout["message"].endswith(
        "short by 10.4 units, 71.3 units over the horizon (1,783 EUR of sales).")
    below = alerts.loc["below_safety_stock"]
    assert below["value_at_risk"] == pytest.approx((15.0 - below["value"]) * 4.0)
    # 360 days of cover against 180: half the stock is beyond the limit, at unit cost
    assert alerts.loc["excess_stock", "value_at_risk"] == pytest.approx(180.0 * 1.0)


def test_value_at_risk_of_capacity_and_order_alerts():
    capacity = pd.DataFrame({"work_center_id": ["WC1", "WC2"], "month": [MONTHS[0]] * 2,
                             "required_hours": [130.0, 120.0], "available_hours": [100.0] * 2,
                             "utilisation": [1.3, 1.2], "overload_hours": [30.0, 20.0],
                             "required_value": [13_000.0, None]})
    open_orders = pd.DataFrame({
        "supply_type": "purchase", "order_id": ["PO-1", "PO-2"], "line_no": 1,
        "supplier_id": "SUP-1", "sku": "A", "location_id": "DC1", "quantity": [50.0, 7.0],
        "due_date": pd.to_datetime(["2026-09-15", "2026-10-20"]), "is_late": [True, False]})
    received = pd.DataFrame([*_delivered("SUP-1", "A", [40, 40, 40]),
                             _line("PO-3", "2026-09-01", "2026-09-15")])
    alerts = build_alerts(CYCLE, EMPTY, capacity, open_orders, received_orders=received,
                          items=PRICED).set_index("entity")
    assert alerts.loc["WC1", "value_at_risk"] == pytest.approx(30 / 130 * 13_000)
    assert math.isnan(alerts.loc["WC2", "value_at_risk"])  # no sales value given
    assert alerts.loc["PO-1/1", "value_at_risk"] == 500.0  # open qty x unit_cost
    assert alerts.loc["PO-3/1", "value_at_risk"] == 0.0  # received late: nothing open
    assert alerts.loc["SUP-1/A", "value_at_risk"] == 570.0  # the supplier's open lines


def test_alerts_of_a_severity_are_ordered_by_value_at_risk_unpriced_last():
    inventory = pd.concat([_projection({sku: 20.0}, 30.4375, 0.0) for sku in "ABCD"],
                          ignore_index=True)  # four stockouts in Nov, all high; D unpriced
    alerts = build_alerts(CYCLE, inventory, EMPTY, EMPTY, items=PRICED)
    assert list(alerts["entity"]) == ["A@DC1", "B@DC1", "C@DC1", "D@DC1"]
    assert list(alerts["value_at_risk"].round(1))[:3] == [1782.8, 641.8, 213.9]
    assert math.isnan(alerts["value_at_risk"].iloc[3])
    cheap_first = PRICED.assign(unit_price=[1.0, 2.0, 3.0])
    assert list(build_alerts(CYCLE, inventory, EMPTY, EMPTY, items=cheap_first)["entity"]) == [
        "C@DC1", "B@DC1", "A@DC1", "D@DC1"]


def test_possibly_obsolete_stock_is_valued_at_cost():
    inventory = _projection({"A": 0.0}, 0.0, 0.0).assign(opening_qty=12.0)
    accuracy = pd.DataFrame({"sku": ["A"], "location_id": "DC1", "model": "window_average",
                             "bias": math.nan, "is_selected": True, "possibly_obsolete": True})
    alerts = build_alerts(CYCLE, inventory, EMPTY, EMPTY, accuracy=accuracy, items=PRICED)
    obsolete = alerts[alerts["kind"] == "possibly_obsolete"].iloc[0]
    assert (obsolete["value"], obsolete["value_at_risk"]) == (12.0, 120.0)


# --- intermittent series are judged on the scaled bias ----------------------------------------


def test_intermittent_series_are_judged_on_the_scaled_bias():
    accuracy = pd.DataFrame({
        "sku": ["A", "B", "C", "A"], "location_id": ["DC1", "DC1", "DC1", "DC2"],
        "model": ["intermittent_mean", "intermittent_mean", "ensemble_median", "auto_ets"],
        "demand_class": ["intermittent", "lumpy", "smooth", "erratic"],
        "bias": [19.13, 3.0, 0.3, 0.1], "scaled_bias": [0.1, -0.5, 0.05, 0.9],
        "bias_consistent": True, "is_selected": True})
    inventory = pd.DataFrame({"sku": ["B", "C"], "location_id": "DC1", "month": MONTHS[0],
                              "closing_qty": 100.0, "demand_qty": [40.0, 200.0]})
    alerts = _only(build_alerts(CYCLE, inventory, EMPTY, EMPTY, accuracy=accuracy,
                                items=PRICED), "biased_forecast")
    # A@DC1: +1,913 % bias but 10 % of its demand rate; A@DC2 is regular: its bias is 0.1
    assert sorted(alerts.index) == ["B@DC1", "C@DC1"]
    b, c = alerts.loc["B@DC1"], alerts.loc["C@DC1"]
    assert (b["severity"], b["value"], b["threshold"]) == ("high", -0.5, -0.2)
    assert b["value_at_risk"] == pytest.approx(0.5 * 40.0 * 9.0)  # under: sales at price
    assert (c["severity"], c["value"], c["threshold"]) == ("medium", 0.3, 0.2)
    assert c["value_at_risk"] == pytest.approx(0.3 * 200.0 * 1.0)  # over: stock at cost
    assert b["message"] == (
        "The selected forecast (intermittent_mean) of B at DC1 is under-forecasting by 50% of "
        "its mean monthly demand in its backtest (scaled bias -0.50, limit ±0.20; lumpy demand "
        "is judged against its demand rate, not its backtest's few sales): review the model or "
        "override it.")
    assert "(bias +0.30, limit ±0.20)" in c["message"]


# --- a lot or a lead time no planned order can serve ------------------------------------------


def _planned(sku_items: list[dict], capacity_hours: float = 500.0):
    """(supply plan, items) of the skus at L1 over Oct..Dec 2026, 10 units on hand each, sold
    40, 50 and 60; make skus take 0.5 h a unit at W1."""
    from tests.test_supply_plan import capacity_rows, demand_rows, plan, routing, stock

    skus = [row["sku"] for row in sku_items]
    result = plan(pd.concat([demand_rows(sku, [40, 50, 60]) for sku in skus]), sku_items,
                  capacity_rows([capacity_hours] * 3),
                  opening=stock([(sku, "L1", 10.0) for sku in skus]),
                  routings=routing([(row["sku"], "W1", 0.5) for row in sku_items
                                    if row["make_or_buy"] == "make"]))
    assert result.problems == ()
    return result.plan, pd.DataFrame(sku_items)


def _unplannable(plan: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    alerts = build_alerts(CYCLE, EMPTY, EMPTY, EMPTY, items=items, plan=plan)
    return alerts[alerts["kind"] == "unplannable_sku"].set_index("entity")


def test_a_lot_far_above_the_horizons_demand_is_named_with_the_sales_it_loses():
    from tests.test_supply_plan import item

    # one lot of 1e12 units cannot be made in any month: the plan loses every sale it can't
    # serve from stock (30 + 50 + 60), silently until this alert; B's lot of 10 is plannable
    plan, items = _planned([item("A") | {"order_multiple": 1e12},
                            item("B") | {"order_multiple": 10.0}])
    assert plan.loc[plan["sku"] == "A", "unmet_qty"].sum() == 140.0
    alerts = _unplannable(plan, items)
    assert list(alerts.index) == ["A@L1"]
    alert = alerts.loc["A@L1"]
    assert (alert["severity"], alert["month"], alert["value"], alert["threshold"]) == (
        "high", pd.Timestamp("2026-10-01"), 140.0, 0.0)
    assert alert["value_at_risk"] == 140.0 * 20.0
    assert alert["message"] == (
        "A at L1 loses 140 units of sales no planned order can save from Oct 2026 (2,800 EUR): "
        "its smallest order, 1,000,000,000,000 units (order_multiple 1,000,000,000,000), is "
        "above its 150 units of demand over the horizon, and 140 units are lost in months an "
        "order could reach. Check the item's lot.")


def test_a_lead_time_past_the_months_short_is_named_with_the_sales_it_loses():
    from tests.test_supply_plan import item

    # Oct 1 + 61 days: the first receipt arrives on Dec 1, after 30 + 50 units are lost;
    # 400 days reach beyond the horizon: every sale beyond the stock is lost
    plan, items = _planned([item("B", "buy", lead_time_days=61),
                            item("C", "buy", lead_time_days=400),
                            item("D", "buy", lead_time_days=0)])
    alerts = _unplannable(plan, items)
    assert sorted(alerts.index) == ["B@L1", "C@L1"]  # D's receipts arrive in October
    assert alerts.loc["B@L1", "value"] == 80.0 and alerts.loc["C@L1", "value"] == 140.0
    assert alerts.loc["B@L1", "message"] == (
        "B at L1 loses 80 units of sales no planned order can save from Oct 2026 (1,600 EUR): "
        "its lead time of 61 days brings the first planned receipt in Dec 2026, too late for "
        "80 units. Expedite an open order or shorten the lead time.")
    assert ("its lead time of 400 days brings the first planned receipt after the horizon's "
            "end (Dec 2026), too late for 140 units") in alerts.loc["C@L1", "message"]


def test_sales_lost_to_capacity_are_not_blamed_on_the_lot_or_lead_time():
    from tests.test_supply_plan import item

    # 20 hours a month (+10 % overtime) make 44 units: C loses sales in months its orders
    # reach, with a lot of 25 well below its horizon's 150 units: capacity, not the lot
    plan, items = _planned([item("C") | {"min_order_qty": 25.0}], capacity_hours=20.0)
    assert plan["unmet_qty"].sum() > 0
    assert _unplannable(plan, items).empty
    projection = project_inventory(
        plan[["sku", "location_id", "month", "demand_qty"]].rename(columns={"demand_qty": "qty"}),
        pd.DataFrame({"sku": ["C"], "location_id": ["L1"], "on_hand_qty": [10.0]}),
        plan.assign(qty=plan["planned_production_qty"])[["sku", "location_id", "month", "qty"]],
        plan["month"].unique(),
        unmet=plan[["sku", "location_id", "month", "unmet_qty"]].rename(
            columns={"unmet_qty": "qty"}))
    kinds = set(build_alerts(CYCLE, projection, EMPTY, EMPTY, items=items, plan=plan)["kind"])
    assert "projected_stockout" in kinds and "unplannable_sku" not in kinds
