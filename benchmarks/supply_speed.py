"""Supply plan LP speed and peak memory on a synthetic company of N sku x location nodes.

The company is built in memory: skus at two locations, ~70 % make skus routed over a few work
centres whose capacity is tight in the seasonal peak, buy skus with lead times, opening stock,
some scheduled receipts and safety stock. One plan_supply call is timed.

    .venv/bin/python benchmarks/supply_speed.py --nodes 10000 --months 18 --centres 5 --seed 7
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import sys
import time

import numpy as np
import pandas as pd

from sop_pipeline.checks import QTY_TOLERANCE
from sop_pipeline.supply.plan import PlanInputs, SupplySettings, plan_supply

CYCLE_MONTH = pd.Timestamp("2026-10-01")
LOCATIONS = ("DC1", "DC2")
MAKE_SHARE = 0.7
PEAK_MONTH = 12  # seasonality peaks in December
SEASONALITY = 0.35  # +-35 % around the mean over the year
CAPACITY_VS_MEAN_LOAD = 1.0  # centre hours = its mean monthly load: short in the peak
SHORT_MONTHS = {8: 0.7, 12: 0.85}  # August holidays, December closing days: fewer hours
TARGET_NODES, TARGET_SECONDS = 10_000, 300  # the issue: 10,000 nodes x 18 months in minutes


def main(argv: list[str] | None = None) -> int:
    """Build the company, plan its supply and print the figures."""
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    company = synthetic_company(args.nodes, args.months, args.centres, args.seed)
    make_share = (company.items["make_or_buy"] == "make").mean()
    print(f"company: {args.nodes} nodes ({len(company.items)} skus x {len(LOCATIONS)} "
          f"locations, {make_share:.0%} make), {args.months} months from "
          f"{CYCLE_MONTH:%Y-%m}, {args.centres} work centres, seed {args.seed}; generated in "
          f"{time.perf_counter() - started:.1f} s")
    print(f"cpu count {os.cpu_count()}; HiGHS solver option: {args.solver}; "
          f"peak RSS before planning: {_peak_mib():.0f} MiB")

    settings = SupplySettings(solver=args.solver, time_limit_seconds=args.time_limit)
    started = time.perf_counter()
    result = plan_supply(company, settings)
    total_seconds = time.perf_counter() - started
    stats = result.stats
    print(f"LP: {stats['variables']} variables, {stats['constraints']} constraints, "
          f"{stats['nonzeros']} nonzeros, in {stats['lps']} LPs (largest: "
          f"{stats['largest_lp_nodes']} nodes linked through shared work centres)")
    print(f"build: {stats['build_seconds']:.1f} s (validation, arrays, sparse matrix)")
    print(f"solve: {stats['solve_seconds']:.1f} s (HiGHS status {stats['status']}, "
          f"objective {stats['objective']:.6g})")
    print(f"lot sizing (round + repair, relax-and-fix where rounding loses sales): "
          f"{stats['lot_sizing_seconds']:.1f} s, {stats['lot_nodes_replanned']:,} nodes "
          f"re-planned month by month")
    print(f"plan_supply total: {total_seconds:.1f} s (build + solve + lot sizing + result "
          "tables)")
    _print_plan_figures(result.plan, result.load)
    _print_lot_figures(result.plan, company.items)
    print(f"peak memory (ru_maxrss, this process; tracemalloc off): {_peak_mib():.0f} MiB")
    verdict = "met" if total_seconds <= TARGET_SECONDS else "NOT met"
    scope = "measured" if args.nodes >= TARGET_NODES else f"at {args.nodes} nodes only"
    print(f"issue target {TARGET_NODES:,} nodes x 18 months within {TARGET_SECONDS} s: "
          f"{verdict} ({scope})")
    return 0


def synthetic_company(nodes: int, months: int, centres: int, seed: int = 7) -> PlanInputs:
    """The supply plan's inputs: `nodes` sku x location nodes over `months` months from
    CYCLE_MONTH."""
    rng = np.random.default_rng(seed)
    horizon = pd.date_range(CYCLE_MONTH, periods=months, freq="MS")
    items = _items(math.ceil(nodes / len(LOCATIONS)), rng)
    node_keys = items[["sku"]].merge(pd.DataFrame({"location_id": LOCATIONS}), how="cross")
    node_keys = node_keys.head(nodes)
    base = rng.lognormal(mean=4.0, sigma=1.0, size=len(node_keys))  # mean monthly demand
    demand = _demand(node_keys, base, horizon, rng)
    routings = _routings(items, centres, rng)
    return PlanInputs(
        cycle_month=CYCLE_MONTH,
        demand=demand,
        items=items,
        opening=node_keys.assign(on_hand_qty=(base * rng.uniform(0.3, 1.5, len(base))).round()),
        scheduled_receipts=_receipts(node_keys, base, horizon, rng),
        routings=routings,
        capacity=_capacity(demand, routings, horizon),
        safety_stock=node_keys.assign(
            safety_stock_qty=np.where(rng.random(len(base)) < 0.6, (0.5 * base).round(), 0.0)),
        months=horizon,
    )


def _items(skus: int, rng: np.random.Generator) -> pd.DataFrame:
    """Skus with make_or_buy (~70 % make), cost, a price above cost and a lead time, counted
    in units (EA), with lot sizes derived from the sku number, so the company's other draws
    are those of the benchmark before lot sizing: made skus in batches (min 20, every third
    in multiples of 10), bought ones in packs of 5 or 10 (min 4 packs on every second one),
    every fifth sku without either."""
    make = rng.random(skus) < MAKE_SHARE
    unit_cost = rng.lognormal(mean=3.0, sigma=0.8, size=skus).round(2)
    number = np.arange(skus)
    pack = np.where(make, np.where(number % 3 == 0, 10.0, np.nan),
                    np.where(unit_cost < 20, 10.0, 5.0))
    minimum = np.where(make, 20.0, np.where(number % 2 == 0, 4 * pack, np.nan))
    neither = number % 5 == 4
    return pd.DataFrame({
        "sku": [f"SKU{n:06d}" for n in number],
        "make_or_buy": np.where(make, "make", "buy"),
        "unit_cost": unit_cost,
        "unit_price": (unit_cost * rng.uniform(1.2, 2.5, skus)).round(2),
        "lead_time_days": np.where(make, rng.integers(0, 21, skus), rng.integers(7, 121, skus)),
        "uom": "EA",
        "min_order_qty": np.where(neither, np.nan, minimum),
        "order_multiple": np.where(neither, np.nan, pack),
    })


def _demand(
    node_keys: pd.DataFrame, base: np.ndarray, horizon: pd.DatetimeIndex,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Monthly demand: each node's mean x a shared seasonality x gamma noise."""
    season = 1 + SEASONALITY * np.cos(2 * np.pi * (horizon.month.to_numpy() - PEAK_MONTH) / 12)
    mean = base[:, None] * season[None, :]
    qty = rng.gamma(shape=8.0, scale=mean / 8.0).round()
    return node_keys.loc[node_keys.index.repeat(len(horizon))].reset_index(drop=True).assign(
        month=np.tile(horizon.to_numpy(), len(node_keys)), qty=qty.ravel())


def _routings(items: pd.DataFrame, centres: int, rng: np.random.Generator) -> pd.DataFrame:
    """Each make sku visits one or two work centres, 0.02 to 0.3 hours a unit each."""
    make = items.loc[items["make_or_buy"] == "make", "sku"].to_numpy()
    steps = rng.integers(1, 3, len(make))
    sku = np.repeat(make, steps)
    first = rng.integers(0, centres, len(make))
    offset = np.concatenate([np.arange(count) for count in steps]) if len(make) else []
    centre = (np.repeat(first, steps) + offset) % centres
    return pd.DataFrame({
        "sku": sku,
        "work_center_id": [f"WC{number + 1:02d}" for number in centre],
        "hours_per_unit": rng.uniform(0.02, 0.3, len(sku)).round(3),
    })


def _capacity(
    demand: pd.DataFrame, routings: pd.DataFrame, horizon: pd.DatetimeIndex
) -> pd.DataFrame:
    """Each centre's mean monthly load over the horizon as its hours (fewer in short months):
    the seasonal peak is short by more than the allowed overtime."""
    load = demand.merge(routings, on="sku")
    mean_load = (load["qty"] * load["hours_per_unit"]).groupby(load["work_center_id"]).sum() / len(
        horizon)
    factor = np.array([SHORT_MONTHS.get(month, 1.0) for month in horizon.month])
    return pd.DataFrame({
        "work_center_id": np.repeat(mean_load.index.to_numpy(), len(horizon)),
        "month": np.tile(horizon.to_numpy(), len(mean_load)),
        "available_hours": (np.outer(mean_load.to_numpy(), factor)
                            * CAPACITY_VS_MEAN_LOAD).round().ravel(),
    })


def _receipts(
    node_keys: pd.DataFrame, base: np.ndarray, horizon: pd.DatetimeIndex,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Open orders on a quarter of the nodes, due in one of the first three months."""
    has_order = rng.random(len(node_keys)) < 0.25
    due = rng.integers(0, min(3, len(horizon)), len(node_keys))
    return node_keys[has_order].assign(
        month=horizon.to_numpy()[due[has_order]],
        qty=(base[has_order] * rng.uniform(0.5, 1.5, has_order.sum())).round(),
    ).reset_index(drop=True)


def _print_plan_figures(plan: pd.DataFrame, load: pd.DataFrame) -> None:
    """Unmet demand, planned quantities, overtime and the busiest centre-month."""
    demand, unmet = plan["demand_qty"].sum(), plan["unmet_qty"].sum()
    production, purchases = plan["planned_production_qty"].sum(), plan["planned_purchase_qty"].sum()
    final_stock = plan.groupby(["sku", "location_id"])["closing_qty"].last().sum()
    print(f"plan: {len(plan)} rows; demand {demand:,.0f}, unmet {unmet:,.0f} "
          f"({unmet / demand:.2%}); planned production {production:,.0f}, purchases "
          f"{purchases:,.0f}; closing stock in the last month {final_stock:,.0f}")
    print(f"load: {len(load)} centre-months; overtime {load['overtime_hours'].sum():,.0f} h in "
          f"{(load['overtime_hours'] > 0).sum()} centre-months; max utilisation "
          f"{load['utilisation'].max():.3f}")


def _print_lot_figures(plan: pd.DataFrame, items: pd.DataFrame) -> None:
    """Planned orders off their lots, and months losing sales while stock is kept."""
    orders = plan.assign(qty=plan["planned_production_qty"] + plan["planned_purchase_qty"])
    orders = orders[orders["qty"] > 0].merge(items, on="sku")
    multiple = orders["order_multiple"].fillna(1.0)
    off = ((orders["qty"] % multiple).abs() > 1e-6) | (
        orders["qty"] < orders["min_order_qty"].fillna(0.0) - 1e-6)
    kept = (plan["unmet_qty"] > QTY_TOLERANCE) & (plan["closing_qty"] > QTY_TOLERANCE)
    print(f"lots: {len(orders):,} planned orders, {int(off.sum())} off their multiple or below "
          f"their minimum; {int(kept.sum())} node-months lose sales while closing with stock")


def _peak_mib() -> float:
    """This process's peak resident memory in MiB (Linux: ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Speed and peak memory of the supply plan LP.")
    parser.add_argument("--nodes", type=int, default=1000, help="sku x location nodes")
    parser.add_argument("--months", type=int, default=18, help="horizon months")
    parser.add_argument("--centres", type=int, default=5, help="work centres")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the company")
    parser.add_argument("--solver", default=SupplySettings().solver,
                        help="HiGHS solver option: choose, simplex, ipm, pdlp")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="HiGHS time limit in seconds (default: none)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
