"""Decisions followed across cycles: the decision log, the adopted plan, the overdue alert, on
hand-made decisions and on the shared demo company's warehouse."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from sop_pipeline.review.alerts import ALERT_COLUMNS, ALERT_KINDS, build_alerts
from sop_pipeline.review.decisions import LOG_COLUMNS, decision_log, plan_version
from sop_pipeline.review.scenario_inputs import check_decisions
from sop_pipeline.tables import OUTPUT_TABLES
from sop_pipeline.warehouse import database_path
from tests.conftest import COMPANY_CYCLES

AUG, SEP, OCT, NOV, DEC = pd.date_range("2026-08-01", periods=5, freq="MS")


@pytest.fixture
def decisions() -> pd.DataFrame:
    rows = [
        (AUG, "D-1", "Second supplier", None, "buyer", SEP, "open"),
        (SEP, "D-2", "Extra shift", "shift", "ops", DEC, "open"),
        (SEP, "D-3", "Stock review", None, "planner", SEP, "open"),
        (OCT, "D-3", "Stock review", None, "planner", SEP, "done"),
        (OCT, "D-4", "Promotion", "promo", "sales", DEC, "dropped"),
        (NOV, "D-2", "Extra shift", "shift", "ops", DEC, "open"),
        (NOV, "D-5", "Late", None, "ops", pd.NaT, "open"),
    ]
    frame = pd.DataFrame(rows, columns=["cycle_month", "decision_id", "title",
                                        "adopted_scenario", "owner", "due_month", "status"])
    return check_decisions(frame, ["shift", "promo"])


def _by_id(log: pd.DataFrame) -> dict[str, dict]:
    return {row["decision_id"]: row for row in log.to_dict("records")}


def test_the_log_states_each_decision_as_of_the_cycle(decisions):
    log = decision_log(decisions, OCT)
    assert list(log.columns) == LOG_COLUMNS == OUTPUT_TABLES["decision_log"].stage_columns
    rows = _by_id(log)
    assert set(rows) == {"D-1", "D-2", "D-3", "D-4"}  # D-5 is taken later: not seen yet
    assert rows["D-3"]["status"] == "done" and rows["D-3"]["decided_in"] == SEP
    assert rows["D-4"]["status"] == "dropped" and rows["D-4"]["decided_in"] == OCT
    assert rows["D-2"]["decided_in"] == SEP and rows["D-2"]["adopted_scenario"] == "shift"


def test_open_decisions_past_their_due_month_are_overdue_by_months(decisions):
    sep, nov = _by_id(decision_log(decisions, SEP)), _by_id(decision_log(decisions, NOV))
    assert not sep["D-1"]["is_overdue"] and sep["D-1"]["months_overdue"] == 0  # due this month
    assert nov["D-1"]["is_overdue"] and nov["D-1"]["months_overdue"] == 2
    assert not sep["D-3"]["is_overdue"]
    assert not nov["D-3"]["is_overdue"] and nov["D-3"]["months_overdue"] == 0  # done
    assert not nov["D-2"]["is_overdue"]  # due in December
    assert not nov["D-5"]["is_overdue"] and nov["D-5"]["months_overdue"] == 0  # no due month


def test_no_decision_yet_is_an_empty_log_with_its_columns(decisions):
    log = decision_log(decisions, pd.Timestamp("2026-01-01"))
    assert log.empty and list(log.columns) == LOG_COLUMNS


def test_the_plan_version_is_the_scenario_adopted_at_the_cycle_else_baseline(decisions):
    assert plan_version(decisions, AUG).to_dict("records") == [
        {"scenario": "baseline", "decision_id": None, "decided_by": None, "decided_in": pd.NaT}]
    assert plan_version(decisions, SEP).iloc[0][["scenario", "decision_id", "decided_by"]
                                                 ].tolist() == ["shift", "D-2", "ops"]
    # D-4 adopts 'promo' in October but is dropped at the same meeting
    assert plan_version(decisions, OCT).iloc[0]["scenario"] == "baseline"
    # D-2, restated open in November, keeps the shift as November's plan; taken in September
    november = plan_version(decisions, NOV).iloc[0]
    assert november["scenario"] == "shift" and november["decided_in"] == SEP
    assert list(plan_version(decisions, NOV).columns) == ["scenario", "decision_id",
                                                          "decided_by", "decided_in"]


def _alerts(log: pd.DataFrame) -> pd.DataFrame:
    empty = pd.DataFrame(columns=["sku", "location_id", "month", "closing_qty"])
    capacity = pd.DataFrame(columns=["work_center_id", "month", "required_hours",
                                     "available_hours", "utilisation", "overload_hours"])
    return build_alerts(NOV, empty, capacity, pd.DataFrame(), decisions=log)


def test_an_overdue_decision_raises_an_alert_naming_it(decisions):
    log = decision_log(decisions, NOV)
    alerts = _alerts(log)
    assert "decision_overdue" in ALERT_KINDS and list(alerts.columns) == ALERT_COLUMNS
    (alert,) = alerts.to_dict("records")
    assert alert["kind"] == "decision_overdue" and alert["entity"] == "D-1"
    assert alert["severity"] == "high" and alert["value"] == 2 and alert["threshold"] == 0
    assert alert["month"] == SEP and pd.isna(alert["value_at_risk"])
    for named in ("D-1", "Second supplier", "buyer", "Sep 2026", "2 months overdue"):
        assert named in alert["message"]


def test_one_month_overdue_is_medium(decisions):
    (alert,) = _alerts(decision_log(decisions, OCT)).to_dict("records")
    assert alert["severity"] == "medium" and alert["value"] == 1
    assert "1 month overdue" in alert["message"]


def test_no_decisions_no_alert():
    assert _alerts(None).empty


# --- on the real pipeline (the session's demo company: cycles 2026-08 to 2026-10) ----------


def _read(warehouse, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(database_path(warehouse)), read_only=True) as con:
        return con.execute(sql).df()


def test_the_demo_company_logs_its_decisions_and_adopts_a_plan(company):
    _, warehouse = company
    log = _read(warehouse, "SELECT * FROM main.decision_log ORDER BY cycle_month, decision_id")
    assert set(pd.to_datetime(log["cycle_month"])) == set(COMPANY_CYCLES)
    last = log[pd.to_datetime(log["cycle_month"]) == COMPANY_CYCLES[-1]]
    assert set(last["status"]) == {"open", "done", "dropped"}
    assert last["is_overdue"].any()
    versions = _read(warehouse, "SELECT * FROM main.plan_version ORDER BY cycle_month")
    assert len(versions) == len(COMPANY_CYCLES)
    assert versions["scenario"].tolist() == ["promotion", "extra_shift", "extra_shift"]
    alerts = _read(warehouse, "SELECT * FROM main.alerts WHERE kind = 'decision_overdue'")
    assert len(alerts) and alerts["message"].str.contains("overdue").all()
