"""The FVA stairstep and the plan's drift on hand-computed frames, and on the demo company."""

import duckdb
import pandas as pd
import pytest

from sop_pipeline.review.stairstep import fva_stairstep, plan_drift, stairstep_detail
from sop_pipeline.tables import OUTPUT_TABLES
from sop_pipeline.warehouse import database_path

TARGET = pd.Timestamp("2026-11-01")
CONSENSUS_COLUMNS = ["cycle_month", "sku", "location_id", "family", "month", "statistical_qty",
                     "event_qty", "crm_pipeline_qty", "override_qty", "consensus_qty",
                     "override_author"]
STEPS = ["seasonal_naive", "statistical", "events", "crm_pipeline", "overrides"]


def _consensus(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=CONSENSUS_COLUMNS)
    for column in ("cycle_month", "month"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def _series(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("cycle_month", "month"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column])
    return frame


def _naive(rows: list[tuple]) -> pd.DataFrame:
    return _series(rows, ["cycle_month", "sku", "location_id", "month", "qty"])


def _actuals(rows: list[tuple]) -> pd.DataFrame:
    return _series(rows, ["sku", "location_id", "month", "qty"])


@pytest.fixture
def stairstep() -> pd.DataFrame:
    """One cycle (2026-10, lag 1) of three series in two families, plus rows to leave out."""
    consensus = _consensus([
        # cycle, sku, location, family, month, stat, event, crm, override, consensus, author
        ("2026-10-01", "A", "DC1", "Bikes", "2026-11-01", 100.0, 10.0, 5.0, 0.0, 115.0, None),
        ("2026-10-01", "B", "DC1", "Bikes", "2026-11-01", 40.0, 0.0, 20.0, -10.0, 50.0, "ana"),
        ("2026-10-01", "C", "DC1", "Parts", "2026-11-01", 30.0, 0.0, 0.0, 20.0, 50.0, None),
        ("2026-10-01", "A", "DC1", "Bikes", "2026-12-01", 999.0, 0.0, 0.0, 0.0, 999.0, None),
        ("2026-12-01", "A", "DC1", "Bikes", "2026-11-01", 999.0, 0.0, 0.0, 0.0, 999.0, None),
    ])
    naive = _naive([  # C has no seasonal naive forecast
        ("2026-10-01", "A", "DC1", "2026-11-01", 80.0),
        ("2026-10-01", "B", "DC1", "2026-11-01", 70.0),
        ("2026-10-01", "A", "DC1", "2026-12-01", 999.0),
    ])
    actuals = _actuals([
        ("A", "DC1", "2026-11-01", 120.0), ("B", "DC1", "2026-11-01", 45.0),
        ("C", "DC1", "2026-11-01", 40.0), ("A", "DC1", "2026-10-01", 999.0),
    ])
    return fva_stairstep(consensus, naive, actuals, TARGET)


def _steps(table: pd.DataFrame, family: str, author: str = "all", lag: int = 1
           ) -> pd.DataFrame:
    rows = table[(table["family"] == family) & (table["author"] == author)
                 & (table["lag"] == lag)]
    return rows.set_index("step")


def test_every_step_is_scored_over_the_same_rows_in_stairstep_order(stairstep):
    assert list(stairstep.columns) == OUTPUT_TABLES["variance_fva_stairstep"].stage_columns
    assert (stairstep["target_month"] == TARGET).all()
    for family, series, actual in (("Bikes", 2, 165.0), ("Parts", 1, 40.0), ("all", 3, 205.0)):
        steps = _steps(stairstep, family)
        assert list(steps.index) == STEPS
        assert list(steps["step_order"]) == [1, 2, 3, 4, 5]
        assert (steps["series"] == series).all() and (steps["actual_qty"] == actual).all()


def test_steps_add_up_from_seasonal_naive_to_consensus(stairstep):
    # naive 80 + 70 + C's statistical 30; statistical 100 + 40 + 30; + events 10;
    # + pipeline 5 + 20; consensus 115 + 50 + 50
    assert _steps(stairstep, "all")["forecast_qty"].to_dict() == {
        "seasonal_naive": 180.0, "statistical": 170.0, "events": 180.0,
        "crm_pipeline": 205.0, "overrides": 215.0}


def test_wape_bias_and_fva_of_each_step(stairstep):
    bikes = _steps(stairstep, "Bikes")  # actual A 120, B 45
    # errors (A, B): naive (-40, 25), statistical (-20, -5), events (-10, -5),
    # pipeline (-5, 15), overrides (-5, 5)
    wape = {"seasonal_naive": 65, "statistical": 25, "events": 15, "crm_pipeline": 20,
            "overrides": 10}
    bias = {"seasonal_naive": -15, "statistical": -25, "events": -15, "crm_pipeline": 10,
            "overrides": 0}
    for step in STEPS:
        assert bikes.loc[step, "wape"] == pytest.approx(wape[step] / 165)
        assert bikes.loc[step, "bias"] == pytest.approx(bias[step] / 165)
    assert pd.isna(bikes.loc["seasonal_naive", "fva"])
    fva = {"statistical": 40, "events": 10, "crm_pipeline": -5, "overrides": 10}
    for step, value in fva.items():
        assert bikes.loc[step, "fva"] == pytest.approx(value / 165)
    fva_vs_naive = {"seasonal_naive": 0, "statistical": 40, "events": 50, "crm_pipeline": 45,
                    "overrides": 55}
    for step, value in fva_vs_naive.items():
        assert bikes.loc[step, "fva_vs_naive"] == pytest.approx(value / 165)
    total = _steps(stairstep, "all")  # C adds an error of -10 to every step, +10 at overrides
    assert total["wape"].to_dict() == pytest.approx(
        {"seasonal_naive": 75 / 205, "statistical": 35 / 205, "events": 25 / 205,
         "crm_pipeline": 30 / 205, "overrides": 20 / 205})
    assert total.loc["overrides", "bias"] == pytest.approx(10 / 205)
    assert total.loc["overrides", "fva"] == pytest.approx(30 / 205 - 20 / 205)


def test_a_series_without_seasonal_naive_takes_its_statistical_forecast(stairstep):
    parts = _steps(stairstep, "Parts")  # C: statistical 30, actual 40
    assert parts.loc["seasonal_naive", "forecast_qty"] == 30.0
    assert parts.loc["statistical", "fva"] == pytest.approx(0.0)
    assert parts.loc["overrides", "forecast_qty"] == 50.0
    assert parts.loc["overrides", "fva_vs_naive"] == pytest.approx(10 / 40 - 10 / 40)


def test_overrides_by_author_cover_only_the_rows_they_changed(stairstep):
    authored = stairstep[stairstep["author"] != "all"]
    assert set(authored["step"]) == {"overrides"}
    assert set(zip(authored["family"], authored["author"], strict=True)) == {
        ("Bikes", "ana"), ("all", "ana"), ("Parts", "unknown"), ("all", "unknown")}
    ana = _steps(stairstep, "all", author="ana").loc["overrides"]  # B only: A not overridden
    assert (ana["series"], ana["forecast_qty"], ana["actual_qty"]) == (1, 50.0, 45.0)
    assert ana["wape"] == pytest.approx(5 / 45)
    assert ana["fva"] == pytest.approx(15 / 45 - 5 / 45)  # pipeline 60 before, 50 after
    assert ana["fva_vs_naive"] == pytest.approx(25 / 45 - 5 / 45)  # naive 70
    unknown = _steps(stairstep, "Parts", author="unknown").loc["overrides"]
    assert unknown["wape"] == pytest.approx(10 / 40)  # 50 against 40
    assert unknown["fva"] == pytest.approx(0.0)  # 30 before: as far off, the other way


def test_an_author_left_blank_is_unknown():
    consensus = _consensus([
        ("2026-10-01", "A", "DC1", "Bikes", "2026-11-01", 10.0, 0.0, 0.0, 5.0, 15.0, " "),
    ])
    table = fva_stairstep(consensus, _naive([]), _actuals([("A", "DC1", "2026-11-01", 12.0)]),
                          TARGET)
    assert set(table["author"]) == {"all", "unknown"}


def test_each_forecasting_cycle_gives_its_own_lag():
    consensus = _consensus([
        ("2026-10-01", "A", "DC1", "Bikes", "2026-11-01", 100.0, 0.0, 0.0, 0.0, 100.0, None),
        ("2026-08-01", "A", "DC1", "Bikes", "2026-11-01", 90.0, 0.0, 0.0, 10.0, 100.0, "bo"),
        ("2025-12-01", "A", "DC1", "Bikes", "2026-11-01", 60.0, 0.0, 0.0, 0.0, 60.0, None),
        ("2026-11-01", "A", "DC1", "Bikes", "2026-11-01", 105.0, 0.0, 0.0, 0.0, 105.0, None),
    ])
    naive = _naive([("2026-10-01", "A", "DC1", "2026-11-01", 70.0),
                    ("2026-08-01", "A", "DC1", "2026-11-01", 50.0)])
    actuals = _actuals([("A", "DC1", "2026-11-01", 110.0)])
    table = fva_stairstep(consensus, naive, actuals, TARGET)
    total = table[(table["family"] == "all") & (table["author"] == "all")]
    assert sorted(total["lag"].unique()) == [0, 1, 3, 11]  # across the year end
    assert (total.groupby("lag").size() == 5).all()
    forecasts = total.pivot(index="lag", columns="step", values="forecast_qty")
    assert forecasts["seasonal_naive"].to_dict() == {0: 105.0, 1: 70.0, 3: 50.0, 11: 60.0}
    assert forecasts["overrides"].to_dict() == {0: 105.0, 1: 100.0, 3: 100.0, 11: 60.0}
    lag_3 = total[total["lag"] == 3].set_index("step")
    assert lag_3.loc["overrides", "fva"] == pytest.approx(20 / 110 - 10 / 110)
    assert lag_3.loc["overrides", "fva_vs_naive"] == pytest.approx(60 / 110 - 10 / 110)
    authored = table[table["author"] == "bo"]
    assert set(authored["lag"]) == {3}


def test_a_row_without_location_meets_the_sku_actual_where_the_cycle_had_no_row():
    consensus = _consensus([
        # October has N at DC1 and its pipeline without location; September only the pipeline
        ("2026-10-01", "N", "DC1", "Parts", "2026-11-01", 10.0, 0.0, 0.0, 0.0, 10.0, None),
        ("2026-10-01", "N", None, "Parts", "2026-11-01", 0.0, 0.0, 30.0, 0.0, 30.0, None),
        ("2026-09-01", "N", None, "Parts", "2026-11-01", 0.0, 0.0, 20.0, 0.0, 20.0, None),
    ])
    actuals = _actuals([("N", "DC1", "2026-11-01", 12.0), ("N", "DC2", "2026-11-01", 25.0),
                        ("N", "DC3", "2026-11-01", 5.0)])
    detail = stairstep_detail(consensus, _naive([]), actuals, TARGET)
    actual = {(row.lag, row.location_id if pd.notna(row.location_id) else None): row.actual_qty
              for row in detail.itertuples()}
    assert actual == {(1, "DC1"): 12.0, (1, None): 30.0, (2, None): 42.0}
    table = fva_stairstep(consensus, _naive([]), actuals, TARGET)
    lag_1 = _steps(table, "Parts")
    assert (lag_1["actual_qty"] == 42.0).all() and (lag_1["series"] == 2).all()
    # the pipeline's own row: statistical 0 as its naive, then 30 against 30
    assert lag_1["forecast_qty"].to_dict() == {
        "seasonal_naive": 10.0, "statistical": 10.0, "events": 10.0, "crm_pipeline": 40.0,
        "overrides": 40.0}
    assert lag_1.loc["crm_pipeline", "wape"] == pytest.approx(2 / 42)  # |10 - 12| + 0


def test_nothing_to_score_gives_the_declared_columns():
    columns = OUTPUT_TABLES["variance_fva_stairstep"].stage_columns
    empty = fva_stairstep(_consensus([]), _naive([]), _actuals([]), TARGET)
    assert empty.empty and list(empty.columns) == columns
    other_month = _consensus([
        ("2026-10-01", "A", "DC1", "Bikes", "2026-12-01", 1.0, 0.0, 0.0, 0.0, 1.0, None)])
    assert fva_stairstep(other_month, _naive([]), _actuals([]), TARGET).empty


def _plan(rows: list[tuple]) -> pd.DataFrame:
    return _series(rows, ["family", "month", "consensus_qty", "consensus_value"])


def test_plan_drift_compares_the_months_both_cycles_plan():
    current = _plan([  # cycle 2026-10 plans October to December
        ("Bikes", "2026-10-01", 100.0, 1000.0), ("Bikes", "2026-10-01", 20.0, 400.0),
        ("Bikes", "2026-11-01", 80.0, 800.0), ("Bikes", "2026-12-01", 50.0, 500.0),
        ("Parts", "2026-10-01", 30.0, 300.0),
        (None, "2026-10-01", 5.0, 50.0),  # a sku missing from the items: in 'all' only
    ])
    previous = _plan([  # cycle 2026-09 plans September to November
        ("Bikes", "2026-09-01", 70.0, 700.0), ("Bikes", "2026-10-01", 100.0, 1000.0),
        ("Bikes", "2026-11-01", 100.0, 1000.0), ("Gear", "2026-11-01", 40.0, 200.0),
    ])
    drift = plan_drift(current, previous)
    assert list(drift.columns) == OUTPUT_TABLES["variance_plan_drift"].stage_columns
    assert set(drift["month"]) == {pd.Timestamp("2026-10-01"), pd.Timestamp("2026-11-01")}
    rows = drift.set_index(["family", drift["month"].dt.strftime("%Y-%m")])
    amounts = ["previous_qty", "consensus_qty", "change_qty", "previous_value",
               "consensus_value", "change_value"]
    expected = {  # previous, consensus, change; in units then in value
        ("Bikes", "2026-10"): (100, 120, 20, 1000, 1400, 400, 0.2),
        ("Bikes", "2026-11"): (100, 80, -20, 1000, 800, -200, -0.2),
        ("Parts", "2026-10"): (0, 30, 30, 0, 300, 300, None),  # only this cycle plans it
        ("Gear", "2026-11"): (40, 0, -40, 200, 0, -200, -1.0),  # only the previous one
        ("all", "2026-10"): (100, 155, 55, 1000, 1750, 750, 0.55),
        ("all", "2026-11"): (140, 80, -60, 1200, 800, -400, -60 / 140),
    }
    assert set(rows.index) == set(expected)
    for key, (*values, change_pct) in expected.items():
        assert rows.loc[key, amounts].tolist() == pytest.approx(values), key
        if change_pct is None:
            assert pd.isna(rows.loc[key, "change_pct"])
        else:
            assert rows.loc[key, "change_pct"] == pytest.approx(change_pct)


def test_plan_drift_of_a_first_cycle_is_empty():
    current = _plan([("Bikes", "2026-10-01", 100.0, 1000.0)])
    drift = plan_drift(current, _plan([]))
    assert drift.empty
    assert list(drift.columns) == OUTPUT_TABLES["variance_plan_drift"].stage_columns


def _read(warehouse, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(database_path(warehouse)), read_only=True) as con:
        return con.execute(sql).df()


def test_demo_company_stairstep_ends_at_consensus_and_drift_at_this_cycle(company):
    _, warehouse = company
    stairstep = _read(warehouse, "SELECT * FROM main.variance_fva_stairstep")
    consensus = _read(warehouse, "SELECT * FROM main.consensus_demand")
    drift = _read(warehouse, "SELECT * FROM main.variance_plan_drift")
    # cycle 2026-09 scores August (planned by cycle 2026-08 only: lag 0); cycle 2026-10
    # scores September, planned by cycles 2026-09 (lag 0) and 2026-08 (lag 1)
    for cycle_month, lags in (("2026-09-01", {0}), ("2026-10-01", {0, 1})):
        cycle = pd.Timestamp(cycle_month)
        target = cycle - pd.offsets.MonthBegin(1)
        total = stairstep[(stairstep["cycle_month"] == cycle) & (stairstep["family"] == "all")
                          & (stairstep["author"] == "all")]
        assert set(total["lag"]) == lags, cycle_month
        for lag in lags:
            steps = total[total["lag"] == lag].set_index("step")
            assert list(steps.sort_values("step_order").index) == STEPS
            forecasting_cycle = target - pd.offsets.MonthBegin(lag)
            planned = consensus[(consensus["cycle_month"] == forecasting_cycle)
                                & (consensus["month"] == target)]
            assert steps.loc["overrides", "forecast_qty"] == pytest.approx(
                planned["consensus_qty"].sum())
            assert (steps["series"] == len(planned)).all()
    september = drift[(drift["cycle_month"] == pd.Timestamp("2026-09-01"))
                      & (drift["family"] == "all")]
    assert not september.empty
    planned = consensus[consensus["cycle_month"] == pd.Timestamp("2026-09-01")]
    by_month = planned.groupby("month")["consensus_qty"].sum()
    for row in september.itertuples():
        assert row.consensus_qty == pytest.approx(by_month[row.month])
