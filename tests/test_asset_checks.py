"""The planning assets' checks: every asset has one, each rule passes on right rows and names
the rows it fails on, and the demo company's real run passes every rule in every cycle."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from sop_pipeline.cycle import horizon_months
from sop_pipeline.demand.checks import accuracy_problems, consensus_problems, forecast_problems
from sop_pipeline.report.checks import publication_problems, published_counts
from sop_pipeline.report.publish import read_manifest
from sop_pipeline.review.checks import (
    VARIANCE_SUMS,
    alerts_problems,
    decision_log_problems,
    plan_version_problems,
    scenario_kpis_problems,
    scenario_names,
    summary_problems,
    variance_problems,
    what_if_problems,
)
from sop_pipeline.supply.checks import capacity_problems, financials_problems, inventory_problems
from sop_pipeline.supply.plan import SupplySettings
from sop_pipeline.tables import BASELINE, OUTPUT_TABLES
from sop_pipeline.warehouse import database_path, query
from tests.conftest import COMPANY_CYCLES

CYCLE = pd.Timestamp("2026-10-01")
MONTHS = horizon_months(CYCLE, 3)
PLANNING_ASSETS = [*OUTPUT_TABLES, "sop_pack", "published_tables"]
# Wrong data here must stop the cycle: the rules, and what the plan is read by.
MUST_BLOCK = ["demand_forecast", "forecast_accuracy", "consensus_demand", "supply_plan",
              "capacity_plan", "inventory_projection", "plan_financials", "scenario_kpis",
              "plan_version", "cycle_summary", "published_tables"]


def _check_specs() -> dict[str, list]:
    from assets.definitions import build_defs

    specs: dict[str, list] = {}
    for definition in build_defs().assets:
        for spec in getattr(definition, "check_specs", ()):
            specs.setdefault(spec.asset_key.to_user_string(), []).append(spec)
    return specs


def test_every_planning_asset_has_a_described_check():
    specs = _check_specs()
    missing = [name for name in PLANNING_ASSETS if not specs.get(name)]
    assert missing == []
    undescribed = [f"{name}.{spec.name}" for name in PLANNING_ASSETS for spec in specs[name]
                   if not spec.description]
    assert undescribed == []
    assert [name for name in MUST_BLOCK if not any(s.blocking for s in specs[name])] == []


def test_a_blocking_check_fails_with_error_and_lists_its_problems():
    from dagster import AssetCheckSeverity, build_asset_context

    from assets.checks import check_result, check_spec

    context = build_asset_context()
    for blocking, severity in ((True, AssetCheckSeverity.ERROR),
                               (False, AssetCheckSeverity.WARN)):
        spec = check_spec("rule", "alerts", "A rule.", blocking=blocking)
        failed = check_result(context, spec, ["alerts: broken: 1 row(s), e.g. kind=x"])
        assert (failed.passed, failed.severity, spec.blocking) == (False, severity, blocking)
        assert failed.metadata["problems"].value == "- alerts: broken: 1 row(s), e.g. kind=x"
        assert check_result(context, spec, []).passed


# --- demand ---------------------------------------------------------------------------------

def _forecast() -> pd.DataFrame:
    rows = [{"sku": sku, "location_id": "L1", "month": month, "model": model,
             "forecast_qty": 10.0, "is_selected": model == "auto_ets"}
            for sku in ("A", "B") for month in MONTHS for model in ("auto_ets", "seasonal_naive")]
    return pd.DataFrame(rows)


def test_forecast_rule_holds_on_a_full_horizon():
    assert forecast_problems(_forecast(), MONTHS) == []


def test_forecast_rule_names_negative_and_missing_months():
    forecast = _forecast()
    forecast.loc[0, "forecast_qty"] = -1.0
    short = forecast.drop(forecast.index[(forecast["sku"] == "B") & forecast["is_selected"]
                                         & (forecast["month"] == MONTHS[-1])])
    problems = forecast_problems(short, MONTHS)
    assert len(problems) == 2
    assert problems[0].startswith("demand_forecast: forecast_qty negative: 1 row(s), e.g. sku=A")
    assert "horizon month without a selected forecast: 1 row(s)" in problems[1]
    assert "sku=B, location_id=L1, month=2026-12-01" in problems[1]


def test_forecast_rule_names_a_series_without_a_forecast_or_with_two_models():
    forecast = _forecast()
    forecast.loc[forecast["sku"] == "B", "is_selected"] = True
    series = pd.DataFrame({"sku": ["A", "B", "C"], "location_id": "L1"})
    problems = forecast_problems(forecast, MONTHS, series=series)
    assert any("series without exactly one selected model: 2 row(s)" in p and "sku=B" in p
               and "sku=C" in p for p in problems)
    assert any("more than once by the selected model" in p for p in problems)


def test_accuracy_rule_wants_one_selected_model_and_no_negative_error():
    accuracy = pd.DataFrame({"sku": ["A", "A", "B"], "location_id": "L1",
                             "model": ["auto_ets", "seasonal_naive", "auto_ets"],
                             "wape": [0.1, 0.2, 0.3], "is_selected": [True, False, True]})
    assert accuracy_problems(accuracy) == []
    accuracy.loc[2, ["wape", "is_selected"]] = [-0.1, False]
    problems = accuracy_problems(accuracy)
    assert problems[0].startswith("forecast_accuracy: series without exactly one selected "
                                  "model: 1 row(s), e.g. sku=B")
    assert problems[1].startswith("forecast_accuracy: wape negative: 1 row(s), e.g. sku=B")


def _consensus() -> pd.DataFrame:
    consensus = pd.DataFrame({
        "sku": ["A", "A", "B"], "location_id": "L1", "month": MONTHS[:2] + MONTHS[:1],
        "statistical_qty": [10.0, 10.0, 5.0], "event_qty": [2.0, 0.0, 0.0],
        "crm_pipeline_qty": [3.0, 0.0, 0.0], "override_qty": [0.0, -1.0, -8.0],
        "unit_price": [2.0, 2.0, 4.0]})
    consensus["consensus_qty"] = [15.0, 9.0, 0.0]  # B: 5 - 8 clipped at 0
    consensus["consensus_value"] = consensus["consensus_qty"] * consensus["unit_price"]
    return consensus


def test_consensus_rule_adds_the_components_and_clips_at_zero():
    assert consensus_problems(_consensus()) == []
    broken = _consensus()
    broken.loc[2, "consensus_qty"] = -3.0  # not clipped
    broken.loc[2, "consensus_value"] = -12.0
    problems = consensus_problems(broken)
    assert problems == [
        "consensus_demand: consensus_qty != statistical + event + crm_pipeline + override "
        "(>= 0): 1 row(s), e.g. sku=B, location_id=L1, month=2026-10-01, statistical_qty=5.0, "
        "event_qty=0.0, crm_pipeline_qty=0.0, override_qty=-8.0, consensus_qty=-3.0, "
        "unit_price=4.0, consensus_value=-12.0"]


# --- supply ---------------------------------------------------------------------------------

def test_capacity_rule_allows_overtime_and_no_more():
    capacity = pd.DataFrame({"work_center_id": ["W1", "W1"], "month": MONTHS[:2],
                             "required_hours": [120.0, 80.0], "planned_hours": [110.0, 80.0],
                             "available_hours": [100.0, 100.0], "overload_hours": [20.0, 0.0]})
    assert capacity_problems(capacity, overtime_share=0.1) == []
    problems = capacity_problems(capacity, overtime_share=0.05)
    assert problems == ["capacity_plan: committed + planned hours above available + overtime: "
                        "1 row(s), "
                        "e.g. work_center_id=W1, month=2026-10-01, required_hours=120.0, "
                        "planned_hours=110.0, available_hours=100.0, overload_hours=20.0"]
    # hours open orders hold count: 40 committed + 80 planned is above 100 + 10 % overtime
    held = capacity.assign(committed_hours=[0.0, 40.0])
    assert capacity_problems(held, overtime_share=0.1) == [
        "capacity_plan: committed + planned hours above available + overtime: 1 row(s), "
        "e.g. work_center_id=W1, month=2026-11-01, required_hours=80.0, committed_hours=40.0, "
        "planned_hours=80.0, available_hours=100.0, overload_hours=0.0"]
    capacity.loc[1, "overload_hours"] = 5.0
    assert "overload_hours != max(required - available, 0): 1 row(s)" in capacity_problems(
        capacity, overtime_share=0.1)[0]


def _projection() -> pd.DataFrame:
    projection = pd.DataFrame({
        "sku": "A", "location_id": "L1", "month": MONTHS,
        "opening_qty": [10.0, 8.0, 11.0], "scheduled_receipts_qty": [3.0, 0.0, 0.0],
        "planned_receipts_qty": [0.0, 6.0, 0.0], "demand_qty": [5.0, 3.0, 15.0],
        "unmet_qty": [0.0, 0.0, 4.0]})
    projection["receipts_qty"] = (projection["scheduled_receipts_qty"]
                                  + projection["planned_receipts_qty"])
    projection["closing_qty"] = [8.0, 11.0, 0.0]
    return projection


def test_inventory_rule_chains_month_to_month():
    assert inventory_problems(_projection()) == []
    broken = _projection()
    broken.loc[2, "opening_qty"] = 12.0  # neither the previous closing nor balancing
    problems = inventory_problems(broken)
    assert len(problems) == 2
    assert problems[0].startswith("inventory_projection: closing != opening + receipts - "
                                  "served: 1 row(s), e.g. sku=A, location_id=L1, "
                                  "month=2026-12-01")
    assert problems[1].startswith("inventory_projection: opening != the previous month's "
                                  "closing: 1 row(s), e.g. sku=A, location_id=L1, "
                                  "month=2026-12-01")


def _money() -> pd.DataFrame:
    money = pd.DataFrame({"family": ["F1", "F2"], "month": MONTHS[0],
                          "revenue": [1000.0, 0.0], "cost_of_goods": [600.0, 0.0],
                          "production_cost": [500.0, 0.0], "purchase_cost": [0.0, 50.0],
                          "overtime_cost": [10.0, 0.0], "holding_cost": [2.0, 1.0],
                          "fill_rate": [0.9, None]})
    money["gross_margin"] = money["revenue"] - money["cost_of_goods"]
    money["supply_cost"] = [512.0, 51.0]
    return money


def test_financials_rule_adds_money_and_keeps_fill_rate_a_share():
    assert financials_problems(_money()) == []
    broken = _money()
    broken.loc[0, "fill_rate"] = 1.2
    broken.loc[1, "gross_margin"] = 5.0
    problems = financials_problems(broken)
    assert problems[0].startswith("plan_financials: gross_margin != revenue - cost_of_goods: "
                                  "1 row(s), e.g. family=F2")
    assert problems[1].startswith("plan_financials: fill_rate outside [0, 1]: 1 row(s), "
                                  "e.g. family=F1")


def test_what_if_rule_checks_each_scenario_on_its_own():
    first, second = _projection().assign(scenario="s1"), _projection().assign(scenario="s2")
    second.loc[1, "closing_qty"] = 99.0
    problems = what_if_problems({"inventory_projection": pd.concat([first, second])}, 0.1)
    assert [p.split(":")[0] for p in problems] == ["s2", "s2"]  # the balance and the chain


# --- review ---------------------------------------------------------------------------------

def _kpis() -> pd.DataFrame:
    return pd.DataFrame({"scenario": [BASELINE, "more_capacity"],
                         "margin_vs_baseline": [0.0, 120.0],
                         "lost_sales_vs_baseline": [0.0, -30.0],
                         "inventory_vs_baseline": [0.0, 10.0]})


def test_scenario_kpis_rule_wants_one_baseline_at_zero():
    assert scenario_kpis_problems(_kpis()) == []
    broken = _kpis()
    broken.loc[0, "margin_vs_baseline"] = 1.0
    assert scenario_kpis_problems(broken) == [
        "scenario_kpis: baseline not 0 against itself: 1 row(s), e.g. scenario=baseline, "
        "margin_vs_baseline=1.0, lost_sales_vs_baseline=0.0, inventory_vs_baseline=0.0"]
    assert scenario_kpis_problems(_kpis().iloc[1:])[0].startswith(
        "scenario_kpis: 0 baseline row(s), expected 1")


def test_decision_log_rule_wants_one_row_per_decision():
    log = pd.DataFrame({"decision_id": ["D1", "D2"], "title": ["add a shift", "cut price"],
                        "status": ["open", "done"]})
    assert decision_log_problems(log) == []
    twice = pd.concat([log, log.iloc[[0]].assign(status="closed")], ignore_index=True)
    problems = decision_log_problems(twice)
    assert problems[0].startswith("decision_log: decision more than once: 2 row(s), "
                                  "e.g. decision_id=D1")
    assert problems[1].startswith("decision_log: status not one of open, done, dropped: "
                                  "1 row(s), e.g. decision_id=D1, title=add a shift, "
                                  "status=closed")


def test_plan_version_rule_wants_one_row_naming_a_planned_scenario():
    adopted = pd.DataFrame({"scenario": ["more_capacity"], "decision_id": ["D1"]})
    baseline = pd.DataFrame({"scenario": [BASELINE], "decision_id": [None]})
    assert plan_version_problems(adopted, [BASELINE, "more_capacity"]) == []
    assert plan_version_problems(baseline, []) == []
    assert plan_version_problems(adopted, [BASELINE])[0].startswith(
        "plan_version: scenario not one the cycle plans (baseline): 1 row(s), "
        "e.g. scenario=more_capacity")
    assert plan_version_problems(pd.concat([adopted, baseline]), ["more_capacity"]) == [
        "plan_version: 2 row(s), expected 1"]


def _alerts() -> pd.DataFrame:
    return pd.DataFrame({"kind": ["projected_stockout", "excess_stock", "capacity_overload"],
                         "severity": ["high", "high", "medium"],
                         "entity": ["A@L1", "B@L1", "W1"], "month": MONTHS,
                         "value_at_risk": [500.0, 100.0, 900.0]})


def test_alerts_rule_wants_known_severities_in_order():
    assert alerts_problems(_alerts()) == []
    swapped = _alerts().iloc[[1, 0, 2]]
    problems = alerts_problems(swapped)
    assert problems[0].startswith("alerts: out of order (severity, then value at risk, kind, "
                                  "entity, month): 2 row(s), e.g. kind=excess_stock")
    unknown = _alerts().assign(severity=["high", "urgent", "low"])
    assert alerts_problems(unknown)[0].startswith(
        "alerts: severity not one of high, medium, low: 1 row(s), e.g. kind=excess_stock")


def test_summary_rule_wants_one_row():
    row = pd.DataFrame({"skus_at_stockout_risk": [2], "alerts_high": [1], "alerts_medium": [0],
                        "alerts_low": [4]})
    assert summary_problems(row) == []
    assert summary_problems(pd.concat([row, row])) == ["cycle_summary: 2 row(s), expected 1"]
    assert summary_problems(row.assign(alerts_low=-1))[0].startswith(
        "cycle_summary: alerts_low negative: 1 row(s)")


def test_variance_rule_wants_no_negative_lag_or_wape_and_its_differences():
    detail = pd.DataFrame({"target_month": MONTHS[0], "sku": ["A", "B"], "location_id": "L1",
                           "lag": [1, 2], "forecast_qty": [10.0, 4.0], "actual_qty": [8.0, 5.0],
                           "error": [2.0, -1.0]})
    assert variance_problems("variance_forecast_vs_actual", detail) == []
    broken = detail.assign(lag=[1, -1], error=[2.0, 1.0])
    problems = variance_problems("variance_forecast_vs_actual", broken)
    assert problems[0].startswith("variance_forecast_vs_actual: lag negative: 1 row(s), "
                                  "e.g. target_month=2026-10-01, sku=B, location_id=L1, lag=-1")
    assert problems[1].startswith("variance_forecast_vs_actual: error != forecast_qty - "
                                  "actual_qty: 1 row(s), e.g. target_month=2026-10-01, sku=B")
    waterfall = pd.DataFrame({"family": ["all"], "lag": [1], "wape": [-0.2],
                              "naive_wape": [0.3], "fva": [0.5]})
    assert variance_problems("variance_forecast_by_family", waterfall) == [
        "variance_forecast_by_family: wape negative: 1 row(s), e.g. family=all, lag=1, "
        "wape=-0.2, fva=0.5, naive_wape=0.3"]


# --- report ---------------------------------------------------------------------------------

def test_publication_rule_compares_the_manifest_with_the_files():
    manifest = {"tables": {"alerts": {"rows": 3}, "plan_version": {"rows": 1}}}
    assert publication_problems(manifest, ["alerts", "plan_version"],
                                {"alerts": 3, "plan_version": 1},
                                {"alerts": 3, "plan_version": 1}) == []
    problems = publication_problems(manifest, ["alerts", "plan_version", "cycle_summary"],
                                    {"alerts": 2, "plan_version": 1},
                                    {"alerts": 3, "plan_version": 1})
    assert problems == [
        "published_tables: 1 table(s) missing from manifest.json, e.g. cycle_summary",
        "published_tables: rows in manifest.json != rows in the serving file: 1 table(s), "
        "e.g. alerts: 3 in the manifest, 2 in the serving file"]
    assert publication_problems(None, ["alerts"], {}, {}) == [
        "published_tables: no manifest.json"]


# --- the demo company's real run ------------------------------------------------------------

@pytest.mark.parametrize("cycle", COMPANY_CYCLES, ids=lambda c: f"{c:%Y-%m}")
def test_every_rule_holds_on_every_cycle_of_the_demo_run(company, cycle):
    _, warehouse = company
    with duckdb.connect(str(database_path(warehouse)), read_only=True) as con:
        def rows(table: str) -> pd.DataFrame:
            return query(con, f"SELECT * FROM main.{table} WHERE cycle_month = ?",
                         [cycle.date()])

        plan_tables = {t: rows(t) for t in ("capacity_plan", "inventory_projection",
                                            "plan_financials")}
        accuracy = rows("forecast_accuracy")
        problems = [
            *forecast_problems(rows("demand_forecast"), horizon_months(cycle, 18), accuracy),
            *accuracy_problems(accuracy), *consensus_problems(rows("consensus_demand")),
            *what_if_problems(plan_tables, SupplySettings().overtime_share),  # baseline too
            *scenario_kpis_problems(rows("scenario_kpis")),
            *decision_log_problems(rows("decision_log")),
            *plan_version_problems(rows("plan_version"), scenario_names(con)),
            *alerts_problems(rows("alerts")), *summary_problems(rows("cycle_summary")),
            *(p for table in VARIANCE_SUMS for p in variance_problems(table, rows(table))),
        ]
    assert plan_tables["inventory_projection"]["scenario"].nunique() > 1  # what-ifs checked
    assert problems == []


def test_the_demo_publication_matches_its_manifest(company):
    _, warehouse = company
    manifest = read_manifest(warehouse)
    assert publication_problems(manifest, OUTPUT_TABLES,
                                *published_counts(warehouse, manifest)) == []
