"""Forecast vs actual by lag on a hand-computed waterfall."""

import pandas as pd
import pytest

from sop_pipeline.review.variance import (
    VARIANCE_COLUMNS,
    budget_gap,
    forecast_vs_actual,
    plan_vs_actual,
    waterfall_by_family,
)

TARGET = pd.Timestamp("2026-11-01")


@pytest.fixture
def variance() -> pd.DataFrame:
    rows = [  # cycle_month, sku, month, qty
        ("2026-11-01", "A", "2026-11-01", 100.0),
        ("2026-10-01", "A", "2026-11-01", 90.0),
        ("2026-08-01", "A", "2026-11-01", 120.0),
        ("2025-12-01", "A", "2026-11-01", 70.0),
        ("2026-12-01", "A", "2026-11-01", 999.0),  # made after the target month: excluded
        ("2026-10-01", "A", "2026-12-01", 888.0),  # another target month: excluded
        ("2026-10-01", "B", "2026-11-01", 50.0),
    ]
    forecasts = pd.DataFrame(rows, columns=["cycle_month", "sku", "month", "qty"]).assign(
        location_id="DC1"
    )
    for column in ("cycle_month", "month"):
        forecasts[column] = pd.to_datetime(forecasts[column])
    actuals = pd.DataFrame(
        {"sku": ["A", "A", "A"], "location_id": "DC1",
         "month": pd.to_datetime(["2026-11-01", "2026-11-01", "2026-10-01"]),
         "qty": [60.0, 50.0, 80.0]}
    )
    return forecast_vs_actual(forecasts, actuals, TARGET)


def test_every_earlier_cycle_gives_one_row_by_lag(variance):
    assert list(variance.columns) == VARIANCE_COLUMNS
    a = variance[variance["sku"] == "A"].set_index("lag")
    assert sorted(a.index) == [0, 1, 3, 11]
    assert a.loc[11, "forecast_cycle"] == pd.Timestamp("2025-12-01")  # across the year end
    assert (variance["target_month"] == TARGET).all()


def test_error_is_forecast_minus_summed_actual(variance):
    a = variance[variance["sku"] == "A"].set_index("lag")
    assert (a["actual_qty"] == 110.0).all()  # 60 + 50; October's 80 is not counted
    assert a["forecast_qty"].to_dict() == {0: 100.0, 1: 90.0, 3: 120.0, 11: 70.0}
    assert a["error"].to_dict() == {0: -10.0, 1: -20.0, 3: 10.0, 11: -40.0}
    assert a["abs_error"].to_dict() == {0: 10.0, 1: 20.0, 3: 10.0, 11: 40.0}


def test_missing_actual_counts_as_zero(variance):
    b = variance[variance["sku"] == "B"].iloc[0]
    assert (b["lag"], b["actual_qty"], b["error"], b["abs_error"]) == (1, 0.0, 50.0, 50.0)


def test_waterfall_by_family_gives_wape_bias_and_fva_per_lag():
    detail = pd.DataFrame({
        "target_month": TARGET, "sku": ["A", "B", "C"], "location_id": "DC1",
        "family": ["Bikes", "Bikes", "Parts"], "lag": [1, 1, 1],
        "forecast_cycle": pd.Timestamp("2026-10-01"),
        "forecast_qty": [110.0, 40.0, 10.0], "naive_qty": [80.0, 60.0, 20.0],
        "actual_qty": [100.0, 50.0, 10.0],
    })
    detail["error"] = detail["forecast_qty"] - detail["actual_qty"]
    detail["abs_error"] = detail["error"].abs()
    waterfall = waterfall_by_family(detail).set_index("family")
    bikes = waterfall.loc["Bikes"]
    assert bikes["wape"] == pytest.approx(20 / 150)  # |10| + |-10| over 150
    assert bikes["bias"] == pytest.approx(0.0)
    assert bikes["naive_wape"] == pytest.approx(30 / 150)  # |-20| + |10|
    assert bikes["fva"] == pytest.approx(10 / 150)
    total = waterfall.loc["all"]
    assert total["series"] == 3 and total["wape"] == pytest.approx(20 / 160)
    assert total["fva"] == pytest.approx(40 / 160 - 20 / 160)


def test_forecast_vs_actual_carries_family_and_naive():
    forecasts = pd.DataFrame({"cycle_month": pd.to_datetime(["2026-10-01"]), "sku": ["A"],
                              "location_id": ["DC1"], "month": [TARGET], "qty": [90.0],
                              "naive_qty": [70.0]})
    actuals = pd.DataFrame({"sku": ["A"], "location_id": ["DC1"], "month": [TARGET],
                            "qty": [100.0]})
    items = pd.DataFrame({"sku": ["A"], "family": ["Bikes"]})
    row = forecast_vs_actual(forecasts, actuals, TARGET, items).iloc[0]
    assert (row["family"], row["naive_qty"], row["lag"]) == ("Bikes", 70.0, 1)


def test_plan_vs_actual_compares_receipts_by_family_and_type():
    plan = pd.DataFrame({
        "sku": ["M", "B", "M"], "month": [TARGET, TARGET, pd.Timestamp("2026-12-01")],
        "make_or_buy": ["make", "buy", "make"], "scheduled_receipts_qty": [10.0, 5.0, 99.0],
        "planned_production_qty": [20.0, 0.0, 99.0], "planned_purchase_qty": [0.0, 15.0, 0.0],
    })
    orders = pd.DataFrame({
        "supply_type": ["production", "production", "purchase", "purchase"],
        "sku": ["M", "M", "B", "B"], "quantity": [25.0, 7.0, 12.0, 3.0],
        "due_date": pd.to_datetime(["2026-11-20", "2026-11-25", "2026-11-01", "2026-10-20"]),
        "received_date": pd.to_datetime([None, None, "2026-11-03", "2026-10-30"]),
        "status": ["completed", "released", "received", "received"],
    })
    items = pd.DataFrame({"sku": ["M", "B"], "family": ["Bikes", "Parts"],
                          "unit_cost": [100.0, 2.0]})
    rows = plan_vs_actual(plan, orders, items, TARGET).set_index("supply_type")
    made = rows.loc["production"]
    assert (made["planned_qty"], made["actual_qty"], made["variance_qty"]) == (30.0, 25.0, -5.0)
    assert (made["planned_value"], made["variance_value"]) == (3000.0, -500.0)
    bought = rows.loc["purchase"]  # the line received in October does not count
    assert (bought["family"], bought["planned_qty"], bought["actual_qty"]) == ("Parts", 20.0, 12.0)


def test_budget_gap_uses_actuals_then_consensus_and_accumulates_by_fiscal_year():
    months = pd.to_datetime(["2026-10-01", "2026-11-01", "2026-12-01", "2027-01-01"])
    budget = pd.DataFrame({"month": months, "family": "Bikes", "volume": [100.0] * 4,
                           "revenue": [1000.0] * 4})
    actuals = pd.DataFrame({"family": ["Bikes"], "month": [months[0]], "qty": [90.0],
                            "value": [950.0]})
    consensus = pd.DataFrame({"family": "Bikes", "month": months[1:], "qty": [120.0, 80.0, 100.0],
                              "value": [1100.0, 700.0, 1000.0]})
    rows = budget_gap(budget, consensus, actuals, pd.Timestamp("2026-11-01"),
                      pd.Timestamp("2027-01-01")).set_index("month")
    assert list(rows["basis"]) == ["actual", "consensus", "consensus", "consensus"]
    assert list(rows["gap_qty"]) == [-10.0, 20.0, -20.0, 0.0]
    assert list(rows["cumulative_gap_qty"]) == [-10.0, 10.0, -10.0, 0.0]  # restarts in 2027
    assert list(rows["cumulative_gap_value"]) == [-50.0, 50.0, -250.0, 0.0]
    assert list(rows["fiscal_year"]) == [2026, 2026, 2026, 2027]
