"""What three what-if scenarios add to a cycle: the scenario stage on a synthetic company of N
sku x location nodes (supply_speed.py's), timed against the baseline plan in the same process.

The company's plan inputs are built in memory as the scenario stage reads them from the
warehouse (consensus, items with families, stock, open purchase and production orders with
suppliers, routings, work centres, safety-stock errors). The baseline is planned once as the
supply assets plan it (supply plan, capacity, inventory, money); then the three scenarios of
the demo company are planned as the scenario_kpis asset plans them (re-plan each, KPIs with
their alerts): a +15 % promotion on the largest family for three months, +25 % hours on the
most loaded centre, the supplier with the most open purchases 30 days late.

    .venv/bin/python benchmarks/scenario_speed.py --nodes 10000 --months 18
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from supply_speed import CYCLE_MONTH, _peak_mib, synthetic_company

from sop_pipeline.review.scenario_inputs import check_scenarios
from sop_pipeline.review.scenario_kpis import scenario_kpis
from sop_pipeline.review.scenario_stage import scenario_plans, scenario_tables
from sop_pipeline.supply.inventory import open_supply_at_cutoff
from sop_pipeline.supply.plan import SupplySettings
from sop_pipeline.supply.scenarios import CycleInputs, plan_scenario
from sop_pipeline.tables import BASELINE

FAMILIES = 8
SUPPLIERS = 4
SERVICE_LEVEL = 0.95
TARGET_SECONDS = 120  # the issue: three scenarios add under 2 minutes at 10,000 series


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    inputs = plan_inputs(args.nodes, args.months, args.centres, args.seed)
    print(f"company: {args.nodes:,} nodes, {args.months} months from {CYCLE_MONTH:%Y-%m}, "
          f"{args.centres} work centres, {len(inputs.open_orders):,} open order lines; built in "
          f"{time.perf_counter() - started:.1f} s; cpu count {os.cpu_count()}; scenario "
          f"workers {args.workers}")
    settings = SupplySettings()
    none = _levers(inputs, [])

    started = time.perf_counter()
    baseline = plan_scenario(inputs, none, settings, SERVICE_LEVEL)
    baseline_seconds = time.perf_counter() - started
    stats = baseline.supply.stats
    print(f"baseline plan (supply LP + lots + capacity + inventory + money): "
          f"{baseline_seconds:.1f} s (LP solve {stats['solve_seconds']:.1f} s, "
          f"{stats['variables']:,} variables in {stats['lps']} LPs)")

    levers = _levers(inputs, demo_scenarios(inputs))
    started = time.perf_counter()
    plans = scenario_plans(inputs, levers, settings, SERVICE_LEVEL, workers=args.workers)
    planned_seconds = time.perf_counter() - started
    kpis = scenario_kpis(CYCLE_MONTH, {BASELINE: scenario_tables(baseline),
                                       **{name: scenario_tables(plan)
                                          for name, plan in plans.items()}},
                         {}, settings.currency)
    scenario_seconds = time.perf_counter() - started
    print(f"three scenarios planned in {planned_seconds:.1f} s wall; KPIs with each plan's "
          f"alerts in {scenario_seconds - planned_seconds:.1f} s")
    print(kpis[["scenario", "revenue", "gross_margin", "supply_cost", "lost_sales_qty",
                "fill_rate", "peak_utilisation", "margin_vs_baseline"]].round(3).to_string(
        index=False))
    for name, plan in plans.items():
        money = plan.financials
        print(f"  {name:<14} LP solve {plan.supply.stats['solve_seconds']:6.1f} s; revenue "
              f"{money['revenue'].sum():,.0f}, lost sales {money['lost_sales_qty'].sum():,.0f} "
              f"units, inventory value {money['inventory_value'].sum():,.0f}")
    print(f"three scenarios in all: {scenario_seconds:.1f} s wall, "
          f"{scenario_seconds / baseline_seconds:.2f}x the baseline plan")
    print(f"peak memory (ru_maxrss, this process): {_peak_mib():.0f} MiB")
    verdict = "met" if scenario_seconds <= TARGET_SECONDS else "NOT met"
    print(f"issue target (three scenarios add under {TARGET_SECONDS} s at 10,000 series): "
          f"{verdict}" + ("" if args.nodes >= 10_000 else f" (at {args.nodes:,} nodes only)"))
    return 0


def plan_inputs(nodes: int, months: int, centres: int, seed: int) -> CycleInputs:
    """supply_speed's company as the scenario stage's inputs."""
    company = synthetic_company(nodes, months, centres, seed)
    rng = np.random.default_rng(seed + 1)
    items = company.items.assign(
        family=[f"F{n % FAMILIES}" for n in range(len(company.items))])
    receipts = company.scheduled_receipts.merge(items[["sku", "make_or_buy"]], on="sku")
    buy = receipts["make_or_buy"] == "buy"
    due = pd.to_datetime(receipts["month"]) + pd.to_timedelta(rng.integers(0, 28, len(receipts)),
                                                               unit="D")
    orders = pd.DataFrame({
        "supply_type": np.where(buy, "purchase", "production"),
        "order_id": [f"O{n:07d}" for n in range(len(receipts))], "line_no": 1,
        "supplier_id": np.where(buy, [f"SUP-{n % SUPPLIERS + 1:02d}" for n in
                                      range(len(receipts))], None),
        "sku": receipts["sku"], "location_id": receipts["location_id"],
        "quantity": receipts["qty"], "order_date": CYCLE_MONTH - pd.Timedelta(days=30),
        "due_date": due, "received_date": pd.NaT,
        "status": np.where(buy, "open", "released"),
    })
    hours = company.capacity.groupby("work_center_id", as_index=False)["available_hours"].max()
    demand_std = company.demand.groupby(["sku", "location_id"], as_index=False)["qty"].std()
    return CycleInputs(
        cycle_month=CYCLE_MONTH, months=company.months, consensus=company.demand, items=items,
        opening=company.opening, open_orders=open_supply_at_cutoff(orders, CYCLE_MONTH),
        routings=company.routings,
        work_centers=hours.rename(columns={"available_hours": "available_hours_per_month"}),
        calendar=company.capacity,
        safety_series=demand_std.rename(columns={"qty": "demand_std"}).assign(rmse=np.nan),
        suppliers=orders.loc[buy, ["supplier_id", "sku"]].drop_duplicates(),
    )


def demo_scenarios(inputs: CycleInputs) -> list[dict]:
    """The demo company's three scenarios on this company's own family, centre, supplier."""
    value = inputs.consensus.merge(inputs.items, on="sku").eval("qty * unit_price")
    family = value.groupby(inputs.consensus.merge(inputs.items, on="sku")["family"]).sum().idxmax()
    load = inputs.consensus.merge(inputs.routings, on="sku").eval("qty * hours_per_unit")
    centre = load.groupby(inputs.consensus.merge(inputs.routings, on="sku")["work_center_id"]
                          ).sum().idxmax()
    purchases = inputs.open_orders[inputs.open_orders["supply_type"] == "purchase"]
    supplier = purchases.groupby("supplier_id")["quantity"].sum().idxmax()
    months = inputs.months
    return [
        {"scenario": "promotion", "lever": "demand_pct", "family": family,
         "start_month": months[1], "end_month": months[3], "value": 0.15},
        {"scenario": "extra_shift", "lever": "capacity_pct", "work_center_id": centre,
         "value": 0.25},
        {"scenario": "late_supplier", "lever": "supplier_delay_days", "supplier_id": supplier,
         "value": 30.0},
    ]


def _levers(inputs: CycleInputs, rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["scenario", "lever", "family", "sku", "work_center_id",
                                        "supplier_id", "start_month", "end_month", "value"])
    return check_scenarios(frame, inputs.items, inputs.work_centers,
                           inputs.suppliers["supplier_id"], inputs.months)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="What three scenarios add to a cycle.")
    parser.add_argument("--nodes", type=int, default=1000, help="sku x location nodes")
    parser.add_argument("--months", type=int, default=18, help="horizon months")
    parser.add_argument("--centres", type=int, default=5, help="work centres")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the company")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes planning scenarios side by side")
    return parser


if __name__ == "__main__":
    sys.exit(main())
