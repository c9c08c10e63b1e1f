"""The scenario stage of a cycle: re-plan every what-if of plan/scenarios from the cycle's
inputs (sop_pipeline.supply.scenarios) and put them side by side with the baseline, whose
figures are read back from its plan tables."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import pandas as pd

from sop_pipeline.engine import Engine, Task, run_tasks
from sop_pipeline.review.scenario_kpis import ScenarioTables, scenario_kpis
from sop_pipeline.supply.plan import SupplySettings
from sop_pipeline.supply.scenarios import CycleInputs, ScenarioPlan, plan_scenario
from sop_pipeline.supply.stage import plan_inputs
from sop_pipeline.tables import BASELINE, OUTPUT_TABLES
from sop_pipeline.warehouse import cycle_rows

# plan table -> the ScenarioPlan field holding a what-if's rows of it
SCENARIO_TABLES = {"supply_plan": "plan", "capacity_plan": "capacity",
                   "inventory_projection": "inventory", "plan_financials": "financials"}


def scenario_stage(
    con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp, horizon: int,
    settings: SupplySettings, service_level: float, levers: pd.DataFrame, workers: int = 1,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """(scenario_kpis rows, every what-if's rows per plan table with a scenario column).

    levers: validated plan/scenarios rows (scenario, description, lever, family, sku,
    work_center_id, supplier_id, start_month, end_month, value); workers: processes planning
    scenarios side by side (scenario_plans)."""
    inputs = plan_inputs(con, cycle_month, horizon)
    baseline = ScenarioTables(
        financials=cycle_rows(con, "plan_financials", cycle_month),
        capacity=cycle_rows(con, "capacity_plan", cycle_month),
        inventory=cycle_rows(con, "inventory_projection", cycle_month),
        plan=cycle_rows(con, "supply_plan", cycle_month),
        open_orders=inputs.open_orders, items=inputs.items)
    plans = scenario_plans(inputs, levers, settings, service_level, workers)
    tables = {name: scenario_tables(plan) for name, plan in plans.items()}
    descriptions = (levers.dropna(subset=["description"]).drop_duplicates("scenario")
                    .set_index("scenario")["description"].to_dict() if len(levers) else {})
    kpis = scenario_kpis(cycle_month, {BASELINE: baseline, **tables}, descriptions,
                         settings.currency)
    rows = {table: pd.concat([getattr(plan, field).assign(scenario=name)
                              for name, plan in plans.items()]
                             or [pd.DataFrame(columns=OUTPUT_TABLES[table].stage_columns)],
                             ignore_index=True)
            for table, field in SCENARIO_TABLES.items()}
    return kpis, rows


def scenario_plans(
    inputs: CycleInputs, levers: pd.DataFrame, settings: SupplySettings, service_level: float,
    workers: int = 1,
) -> dict[str, ScenarioPlan]:
    """Every scenario of `levers` planned, by name, each a task of settings.engine (locally:
    in its own spawn process when workers > 1: the LP solver holds the GIL, so threads would
    not run two plans at once). Inside a task the scenario's LPs are solved one after
    another: no nested fan-out."""
    scenarios = [(str(name), rows) for name, rows in levers.groupby("scenario", sort=True)]
    in_task = replace(settings, engine=Engine())
    tasks = [Task(f"scenario {name}", (inputs, rows, in_task, service_level))
             for name, rows in scenarios]
    return {task.label.removeprefix("scenario "): plan
            for task, plan in sorted(run_tasks(settings.engine, plan_scenario, tasks, workers),
                                     key=lambda done: done[0].label)}


def scenario_tables(plan: ScenarioPlan) -> ScenarioTables:
    return ScenarioTables(plan.financials, plan.capacity, plan.inventory, plan.plan,
                          plan.open_orders, plan.items)
