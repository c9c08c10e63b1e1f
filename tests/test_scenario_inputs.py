"""The scenario levers and the decisions are checked before anything plans with them: each
break names the file, the column, the row count and sample rows."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from sop_pipeline.ingest.contract import BY_NAME
from sop_pipeline.review.scenario_inputs import (
    PCT_LEVERS,
    ScenarioError,
    all_scenarios,
    check_decisions,
    check_scenarios,
)
from sop_pipeline.supply.scenarios import LEVERS

ITEMS = pd.DataFrame({"sku": ["A", "B"], "family": ["Bikes", "Frames"]})
CENTRES = pd.DataFrame({"work_center_id": ["WC-ASSY"]})
SUPPLIERS = ["SUP-01"]
HORIZON = list(pd.date_range("2026-10-01", periods=6, freq="MS"))


def _levers(*extra: dict) -> pd.DataFrame:
    rows = [
        dict(scenario="promo", lever="demand_pct", family="Bikes", start_month="2026-11-01",
             end_month="2026-12-01", value="0.15"),
        dict(scenario="shift", description="Second shift", lever="Capacity_PCT",
             work_center_id="WC-ASSY", value="0.25"),
        dict(scenario="late", lever="supplier_delay_days", supplier_id="SUP-01", value="30"),
        dict(scenario="late", lever="service_level", value="0.98"),
        *extra,
    ]
    return pd.DataFrame(rows)


def _decisions(*extra: dict) -> pd.DataFrame:
    rows = [
        dict(cycle_month="2026-09-01", decision_id="D-1", title="Extra shift",
             adopted_scenario="shift", owner="ops", due_month="2026-12-01", status="open"),
        dict(cycle_month="2026-10-01", decision_id="D-1", title="Extra shift",
             adopted_scenario="shift", owner="ops", due_month="2026-12-01", status="Open"),
        dict(cycle_month="2026-10-01", decision_id="D-2", title="Second supplier",
             adopted_scenario="", owner="buyer", due_month="", status="done"),
        *extra,
    ]
    return pd.DataFrame(rows)


def _check(levers: pd.DataFrame) -> pd.DataFrame:
    return check_scenarios(levers, ITEMS, CENTRES, SUPPLIERS, HORIZON)


def test_valid_levers_come_back_one_row_each_with_months_and_floats():
    levers = _check(_levers())
    assert list(levers["scenario"]) == ["promo", "shift", "late", "late"]
    assert list(levers["lever"]) == ["demand_pct", "capacity_pct", "supplier_delay_days",
                                     "service_level"]
    assert levers["value"].dtype == float and levers["value"].tolist() == [0.15, 0.25, 30, 0.98]
    assert levers["start_month"].tolist() == [pd.Timestamp("2026-11-01"), *[HORIZON[0]] * 3]
    assert levers["end_month"].tolist() == [pd.Timestamp("2026-12-01"), *[HORIZON[-1]] * 3]
    assert levers["sku"].isna().all() and levers.loc[1, "work_center_id"] == "WC-ASSY"
    assert levers["source_row_number"].tolist() == [1, 2, 3, 4]
    assert all_scenarios(levers) == ["baseline", "late", "promo", "shift"]


def test_no_levers_at_all_is_fine():
    assert _check(_levers().iloc[:0]).empty


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        (dict(scenario="promo2", lever="demand_pct", family="Boats", value="0.1"), "family",
         "unknown family"),
        (dict(scenario="promo2", lever="demand_pct", sku="ZZZ", value="0.1"), "sku",
         "unknown sku"),
        (dict(scenario="shift2", lever="capacity_hours", work_center_id="WC-X", value="40"),
         "work_center_id", "unknown work centre"),
        (dict(scenario="late2", lever="supplier_delay_days", supplier_id="SUP-99", value="10"),
         "supplier_id", "unknown supplier"),
        (dict(scenario="shift2", lever="capacity_pct", work_center_id="WC-ASSY", value="-1.5"),
         "value", "at or below -1"),
        (dict(scenario="promo2", lever="demand_pct", value="-1"), "value", "at or below -1"),
        (dict(scenario="promo2", lever="price_pct", value="-2"), "value", "at or below -1"),
        (dict(scenario="promo2", lever="cost_pct", value="-1.01"), "value", "at or below -1"),
        (dict(scenario="late2", lever="supplier_delay_days", sku="A", value="-3"), "value",
         "negative"),
        (dict(scenario="sl", lever="service_level", value="1"), "value", "outside [0.5, 1)"),
        (dict(scenario="sl", lever="service_level", value="0.4"), "value", "outside [0.5, 1)"),
        (dict(scenario="shift2", lever="capacity_hours", work_center_id="WC-ASSY",
              value="inf"), "value", "not finite"),
        (dict(scenario="promo2", lever="demand_pct", value="lots"), "value", "not a number"),
        (dict(scenario="shift2", lever="capacity_pct", value="0.1"), "work_center_id",
         "without a work_center_id"),
        (dict(scenario="late2", lever="supplier_delay_days", value="10"), "supplier_id",
         "neither supplier_id nor sku"),
        (dict(scenario="Baseline", lever="demand_pct", value="0.1"), "scenario",
         "reserved scenario 'baseline'"),
        (dict(scenario="promo2", lever="demand", value="0.1"), "lever", "unknown lever"),
        (dict(scenario="promo2", lever="demand_pct", work_center_id="WC-ASSY", value="0.1"),
         "work_center_id", "does not use it"),
        (dict(scenario="promo2", lever="demand_pct", family="Bikes", sku="A", value="0.1"),
         "family", "both family and sku"),
        (dict(scenario="late", lever="service_level", start_month="2026-11-01",
              value="0.97"), "start_month", "acts on the whole horizon"),
        (dict(scenario="promo2", lever="demand_pct", start_month="2026-12-01",
              end_month="2026-11-01", value="0.1"), "end_month", "ending before they start"),
        (dict(scenario="promo2", lever="demand_pct", start_month="Dec 26x", value="0.1"),
         "start_month", "not a date"),
        (dict(scenario="promo", lever="demand_pct", family="Bikes", start_month="2026-11-01",
              value="0.2"), "scenario+lever+family+sku+work_center_id+supplier_id+start_month",
         "duplicate key"),
    ],
)
def test_a_bad_lever_names_the_file_the_column_and_the_rows(row, column, words):
    with pytest.raises(ScenarioError) as error:
        _check(_levers(row))
    message = str(error.value)
    line = next(line for line in message.splitlines() if words in line)
    assert f"plan/scenarios.csv, column '{column}'" in line
    assert re.search(r": [12] row\(s\) ", line)
    assert "row 5 (" in line and f"scenario={row['scenario']}" in line


def test_every_problem_is_listed_at_once():
    with pytest.raises(ScenarioError) as error:
        _check(_levers(dict(scenario="x", lever="capacity_pct", value="-3"),
                       dict(scenario="y", lever="demand_pct", sku="ZZZ", value="0.1")))
    problems = [line for line in str(error.value).splitlines() if line.startswith("- ")]
    assert len(problems) == 3  # the range, the missing centre, the unknown sku


def test_repeated_service_level_in_one_scenario_is_an_error():
    with pytest.raises(ScenarioError, match=r"column 'lever': 2 row\(s\) repeating"):
        _check(_levers(dict(scenario="late", lever="service_level", sku=None, value="0.9",
                            family="Bikes")))


def test_source_row_numbers_name_the_rows_when_given():
    levers = _levers(dict(scenario="x", lever="capacity_pct", value="0.1"))
    levers["source_row_number"] = [11, 12, 13, 14, 15]
    with pytest.raises(ScenarioError, match=r"e\.g\. row 15 \(scenario=x"):
        _check(levers)


def test_valid_decisions_are_normalised():
    decisions = check_decisions(_decisions(), ["shift", "promo"])
    assert decisions["status"].tolist() == ["open", "open", "done"]
    assert decisions["adopted_scenario"].tolist() == ["shift", "shift", None]
    assert decisions["due_month"].isna().tolist() == [False, False, True]
    assert decisions["cycle_month"].tolist() == pd.to_datetime(
        ["2026-09-01", "2026-10-01", "2026-10-01"]).tolist()


@pytest.mark.parametrize(
    ("row", "column", "words", "count"),
    [
        (dict(cycle_month="2026-10-01", decision_id="D-3", title="Promo", adopted_scenario="nope",
              owner="sales", status="open"), "adopted_scenario",
         "adopt a scenario plan/scenarios does not have", 1),
        (dict(cycle_month="2026-10-01", decision_id="D-3", title="Promo",
              adopted_scenario="promo", owner="sales", status="open"), "adopted_scenario",
         "adopt different scenarios in one cycle", 2),
        (dict(cycle_month="2026-10-01", decision_id="D-3", title="Promo", owner="sales",
              status="postponed"), "status", "unknown status", 1),
        (dict(cycle_month="", decision_id="D-3", title="Promo", owner="sales", status="open"),
         "cycle_month", "without a value", 1),
        (dict(cycle_month="2026-10-01", decision_id="D-3", title="Promo", owner="",
              status="open"), "owner", "without a value", 1),
        (dict(cycle_month="2026-10-01", decision_id="D-3", title="Promo", owner="sales",
              due_month="soon", status="open"), "due_month", "not a date", 1),
        (dict(cycle_month="2026-10-01", decision_id="D-2", title="Again", owner="sales",
              status="open"), "decision_id+cycle_month", "duplicate key", 2),
    ],
)
def test_a_bad_decision_names_the_file_the_column_and_the_rows(row, column, words, count):
    with pytest.raises(ScenarioError) as error:
        check_decisions(_decisions(row), ["shift", "promo"])
    line = next(line for line in str(error.value).splitlines() if words in line)
    assert f"plan/decisions.csv, column '{column}': {count} row(s)" in line
    assert "row 4 (decision_id=" in line


def test_a_dropped_adoption_does_not_conflict_and_baseline_is_always_known():
    dropped = dict(cycle_month="2026-10-01", decision_id="D-3", title="Promo",
                   adopted_scenario="promo", owner="sales", status="dropped")
    keep = dict(cycle_month="2026-11-01", decision_id="D-4", title="Keep the plan",
                adopted_scenario="BASELINE", owner="ceo", status="done")
    decisions = check_decisions(_decisions(dropped, keep), ["shift", "promo"])
    assert decisions["adopted_scenario"].iloc[-1] == "baseline"


def test_the_contract_allows_the_levers_the_plan_knows():
    lever = next(c for c in BY_NAME["plan/scenarios"].columns if c.name == "lever")
    assert set(lever.allowed) == set(LEVERS) and set(PCT_LEVERS) <= set(LEVERS)
