"""What the review's tables must hold (the assets' checks, and the tests on the demo company):

- scenario_kpis: one row per scenario, exactly one of them the baseline, whose *_vs_baseline
  columns are 0; and each what-if's plan tables hold what the baseline's do
  (sop_pipeline.supply.checks: capacity, inventory and money rules, per scenario);
- decision_log: one row per decision, each with a known status;
- plan_version: exactly one row naming a scenario the cycle plans, with a decision unless it
  is the baseline;
- alerts: severity high, medium or low, in sort_alerts' order (severity, then value at risk);
- cycle_summary: one row, no negative count;
- variance_*: no negative lag or WAPE, and the differences they state add up (VARIANCE_SUMS).

Each rule returns 'table: what: N row(s), e.g. ...' strings (sop_pipeline.checks), empty
when the table holds; scenario_names reads what plan_version is checked against.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pandas as pd

from sop_pipeline.checks import differs, problems_of
from sop_pipeline.review.alerts import SEVERITY_ORDER, sort_alerts
from sop_pipeline.review.scenario_inputs import DECISION_STATUSES, all_scenarios
from sop_pipeline.supply.checks import capacity_problems, financials_problems, inventory_problems
from sop_pipeline.tables import BASELINE, OUTPUT_TABLES
from sop_pipeline.warehouse import query

# Each *_vs_baseline column and the figure it compares (the scale of its float noise).
VS_BASELINE = {"margin_vs_baseline": "gross_margin", "lost_sales_vs_baseline": "lost_sales_value",
               "inventory_vs_baseline": "inventory_value"}
ALERT_KEY = ["kind", "severity", "entity", "month", "value_at_risk"]
SUMMARY_COUNTS = ("skus_at_stockout_risk", "alerts_high", "alerts_medium", "alerts_low")
# Per variance table: (column, minuend, subtrahend) with column = minuend - subtrahend.
VARIANCE_SUMS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "variance_forecast_vs_actual": (("error", "forecast_qty", "actual_qty"),),
    "variance_forecast_by_family": (("fva", "naive_wape", "wape"),),
    "variance_plan_vs_actual": (("variance_qty", "actual_qty", "planned_qty"),
                                ("variance_value", "actual_value", "planned_value")),
    "variance_budget": (("gap_qty", "plan_qty", "budget_qty"),
                        ("gap_value", "plan_value", "budget_value")),
    "variance_fva_stairstep": (),
    "variance_plan_drift": (("change_qty", "consensus_qty", "previous_qty"),
                            ("change_value", "consensus_value", "previous_value")),
}


def scenario_kpis_problems(kpis: pd.DataFrame) -> list[str]:
    """scenario_kpis rows of one cycle: one baseline, compared with itself as 0."""
    baseline = kpis["scenario"] == BASELINE
    zero = pd.Series(0.0, index=kpis.index)
    problems = [] if baseline.sum() == 1 else [
        f"scenario_kpis: {int(baseline.sum())} baseline row(s), expected 1 "
        f"(scenarios: {', '.join(map(str, kpis['scenario']))})"]
    problems += problems_of("scenario_kpis", kpis, {
        "scenario more than once": kpis["scenario"].duplicated(keep=False),
        "baseline not 0 against itself": baseline & pd.concat(
            [differs(kpis[column], zero, kpis.get(figure, zero))
             for column, figure in VS_BASELINE.items()],
            axis=1).any(axis=1),
    }, ["scenario", *VS_BASELINE])
    return problems


def what_if_problems(what_ifs: dict[str, pd.DataFrame], overtime_share: float) -> list[str]:
    """The what-ifs' rows per plan table (each with its `scenario`), scenario by scenario,
    under the baseline's rules; each problem starts with the scenario."""
    rules = {"capacity_plan": lambda rows: capacity_problems(rows, overtime_share),
             "inventory_projection": inventory_problems,
             "plan_financials": financials_problems}
    return [f"{scenario}: {problem}"
            for table, rule in rules.items() if len(what_ifs.get(table, ()))
            for scenario, rows in what_ifs[table].groupby("scenario", sort=True)
            for problem in rule(rows)]


def decision_log_problems(log: pd.DataFrame) -> list[str]:
    """decision_log rows of one cycle: one row per decision, a known status."""
    return problems_of("decision_log", log, {
        "decision_id empty": log["decision_id"].isna(),
        "decision more than once": log["decision_id"].notna()
        & log["decision_id"].duplicated(keep=False),
        f"status not one of {', '.join(DECISION_STATUSES)}":
            ~log["status"].isin(DECISION_STATUSES),
    }, ["decision_id", "title", "status"])


def plan_version_problems(version: pd.DataFrame, scenarios: Iterable[str]) -> list[str]:
    """plan_version rows of one cycle against the `scenarios` it plans (baseline included)."""
    if len(version) != 1:
        return [f"plan_version: {len(version)} row(s), expected 1"]
    known = set(scenarios) | {BASELINE}
    is_baseline = version["scenario"] == BASELINE
    return problems_of("plan_version", version, {
        f"scenario not one the cycle plans ({', '.join(sorted(known))})":
            ~version["scenario"].isin(known),
        "a what-if adopted without a decision": ~is_baseline & version["decision_id"].isna(),
        "the baseline with a decision": is_baseline & version["decision_id"].notna(),
    })


def scenario_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The scenarios a cycle plans: the baseline and those of plan/scenarios."""
    return all_scenarios(query(con, "SELECT DISTINCT scenario FROM staging.stg_plan__scenarios"))


def alerts_problems(alerts: pd.DataFrame) -> list[str]:
    """alerts rows of one cycle: a known severity, in sort_alerts' order."""
    rows = alerts.reset_index(drop=True)
    unknown = ~rows["severity"].isin(SEVERITY_ORDER)
    problems = problems_of("alerts", rows, {
        f"severity not one of {', '.join(SEVERITY_ORDER)}": unknown}, ALERT_KEY)
    if not unknown.any():
        ordered = sort_alerts(rows)
        moved = pd.Series([tuple(a) != tuple(b) for a, b in zip(
            rows[ALERT_KEY].astype(str).itertuples(index=False),
            ordered[ALERT_KEY].astype(str).itertuples(index=False), strict=True)])
        problems += problems_of("alerts", rows, {
            "out of order (severity, then value at risk, kind, entity, month)": moved},
            ALERT_KEY)
    return problems


def summary_problems(summary: pd.DataFrame) -> list[str]:
    """cycle_summary rows of one cycle: exactly one, no negative count."""
    if len(summary) != 1:
        return [f"cycle_summary: {len(summary)} row(s), expected 1"]
    return problems_of("cycle_summary", summary, {
        f"{column} negative": summary[column].astype(float) < 0 for column in SUMMARY_COUNTS})


def variance_problems(table: str, rows: pd.DataFrame) -> list[str]:
    """rows of variance table `table`: lags and WAPEs >= 0, its differences add up."""
    broken: dict[str, pd.Series] = {}
    for column in ("lag", "wape", "naive_wape"):
        if column in rows.columns:
            broken[f"{column} negative"] = rows[column].astype(float) < 0
    for column, minuend, subtrahend in VARIANCE_SUMS[table]:
        expected = rows[minuend].astype(float) - rows[subtrahend].astype(float)
        broken[f"{column} != {minuend} - {subtrahend}"] = (
            expected.notna() & differs(rows[column], expected, rows[minuend], rows[subtrahend]))
    shown = [c for c in OUTPUT_TABLES[table].grain if c != "cycle_month"]
    shown += ["lag", "wape", *(c for sums in VARIANCE_SUMS[table] for c in sums)]
    return problems_of(table, rows, broken, shown)
