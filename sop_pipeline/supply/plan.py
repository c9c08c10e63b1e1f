"""Constrained supply plan: a linear program per cycle, solved with HiGHS (highspy).

The model, per node n = (sku, location_id) and horizon month t (quantities in units):

- variables: x[n,t] >= 0 planned production (make skus) or planned purchase receipt (buy
  skus) arriving in month t; I[n,t] >= 0 closing stock; 0 <= u[n,t] <= d[n,t] lost demand;
  s[n,t] >= 0 shortfall below safety stock (only nodes with safety stock > 0); o[w,t] >= 0
  overtime hours of work centre w, at most overtime_share x available[w,t].
- balance: I[n,t] = I[n,t-1] + scheduled_receipts[n,t] + x[n,t] - (d[n,t] - u[n,t]), with
  I[n,-1] = opening stock. Safety stock: s[n,t] >= safety_stock[n] - I[n,t].
- capacity: sum over make nodes of x[n,t] x hours_per_unit[sku,w] <= available[w,t] + o[w,t].
  All locations of a sku share its work centres; a make sku without routing uses none;
  routings of buy skus are ignored.
- lead time: x[n,t] = 0 in months before the month that contains cutoff + lead_time_days
  (cutoff = first day of cycle_month); that month and later are allowed. Cut-off 2026-10-01
  with 45 days arrives 2026-11-15: nothing in October, November on. Demand before then can
  only be met from stock and scheduled receipts.
- objective, minimised, per unit and month: holding_cost_rate x unit_cost per unit of closing
  stock; lost_sales_penalty x unit_price + unit_cost x (1 + (holding_cost_rate +
  safety_shortfall_rate) x horizon months) per unit lost, so a lost sale always costs more
  than holding a unit or missing it from safety stock for the whole horizon (the plan builds
  ahead of a capacity shortfall, and uses safety stock, before it loses a sale);
  overtime_cost_per_hour per overtime hour; safety_shortfall_rate x unit_cost per unit below
  safety stock; planned_unit_cost per planned unit (a tie-breaker: nothing is planned that no
  demand or safety stock needs, even for items with unit_cost 0).

Defaults (SupplySettings): holding_cost_rate 0.02, lost_sales_penalty 1.0, overtime_share 0.1,
overtime_cost_per_hour 60.0, safety_shortfall_rate 0.25, planned_unit_cost 1e-4, no time limit.

Solving: nodes that share no work centre cannot affect each other, so each group of nodes
linked through shared centres is one LP and nodes that load no centre (buy skus, make skus
without routing) are solved CHUNK_NODES at a time; the optimum is that of the whole model.
Within an LP, stock at nodes with safety stock is split I = a + b, 0 <= a <= safety stock,
with shortfall s = safety stock - a: the same optimum as the rows s >= SS - I, as bounds.

Inputs are summed per key (demand, opening, scheduled receipts); demand outside the horizon
is ignored; scheduled receipts due before the first horizon month (late) count in the first
month, those after the horizon are ignored. The result is cleaned of solver noise (rounded to
1e-6, clipped at 0; lost sales absorb what remains) and its stock balances close on every row.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import highspy
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from sop_pipeline.cycle import month_start, month_starts
from sop_pipeline.tables import SERIES_KEY

PLAN_COLUMNS = [
    "sku",
    "location_id",
    "month",
    "make_or_buy",
    "demand_qty",
    "scheduled_receipts_qty",
    "planned_production_qty",
    "planned_purchase_qty",
    "opening_qty",
    "closing_qty",
    "unmet_qty",
    "safety_stock_qty",
]
LOAD_COLUMNS = [
    "work_center_id",
    "month",
    "planned_hours",
    "available_hours",
    "overtime_hours",
    "utilisation",
]
SAMPLE_ROWS = 3
CHUNK_NODES = 1000  # independent nodes per LP
DECIMALS = 6  # solver noise below 1e-6 units or hours is rounded away
INF = highspy.kHighsInf


class SupplyPlanError(ValueError):
    """The supply plan cannot be made: invalid inputs, or the solver found no optimal plan."""


@dataclass(frozen=True)
class SupplySettings:
    """Costs and limits of the supply plan; money in the items' currency, rates per month."""

    holding_cost_rate: float = 0.02  # x unit_cost per unit of closing stock and month
    lost_sales_penalty: float = 1.0  # x unit_price per unit lost (+ unit_cost terms, see module)
    overtime_share: float = 0.1  # overtime allowed, share of available hours per centre x month
    overtime_cost_per_hour: float = 60.0
    safety_shortfall_rate: float = 0.25  # x unit_cost per unit below safety stock and month
    planned_unit_cost: float = 1e-4  # per planned unit: a tie-breaker, not a real cost
    time_limit_seconds: float | None = None  # on the solve time of all LPs; None: no limit
    solver: str = "choose"  # HiGHS 'solver' option: choose, simplex, ipm, pdlp


@dataclass(frozen=True)
class SupplyPlan:
    """The plan per sku x location x month, the load per work centre x month, and stats:
    variables, constraints, nonzeros (summed over the LPs), build_seconds, solve_seconds,
    objective (the model's, offset included), status, lps, largest_lp_nodes."""

    plan: pd.DataFrame
    load: pd.DataFrame
    stats: dict[str, Any]


@dataclass(frozen=True)
class _Network:
    """Inputs as arrays over nodes (rows, sorted by sku and location) x horizon months."""

    nodes: pd.DataFrame  # sku, location_id, make_or_buy, unit_cost, unit_price, is_make
    months: pd.DatetimeIndex
    demand: np.ndarray  # (nodes, months)
    receipts: np.ndarray  # (nodes, months)
    opening: np.ndarray  # (nodes,)
    safety: np.ndarray  # (nodes,)
    allowed: np.ndarray  # (nodes, months) bool: a planned receipt may arrive in that month
    routing_node: np.ndarray  # (steps,) node of each routing step of a make node
    routing_centre: np.ndarray  # (steps,) index into centres
    routing_hours: np.ndarray  # (steps,) hours_per_unit
    centres: pd.Index  # work centres that make nodes load
    available: np.ndarray  # (centres, months)


@dataclass(frozen=True)
class _Lp:
    """The linear program in HiGHS's column-wise form, and where each variable block starts."""

    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    matrix: sparse.csc_array
    offset: float  # the shortfall cost when no safety stock is held, a constant
    stock_at: int
    unmet_at: int


def plan_supply(
    demand: pd.DataFrame,
    items: pd.DataFrame,
    opening: pd.DataFrame,
    scheduled_receipts: pd.DataFrame,
    routings: pd.DataFrame,
    capacity: pd.DataFrame,
    *,
    cycle_month: pd.Timestamp,
    months: Iterable[pd.Timestamp],
    safety_stock: pd.DataFrame | None = None,
    settings: SupplySettings | None = None,
) -> SupplyPlan:
    """Plan production and purchases against capacity, lead times and costs (see module doc).

    demand, scheduled_receipts: sku, location_id, month, qty; items: sku, make_or_buy,
    unit_cost, unit_price, lead_time_days; opening: sku, location_id, on_hand_qty; routings:
    sku, work_center_id, hours_per_unit; capacity: work_center_id, month, available_hours;
    safety_stock: sku, location_id, safety_stock_qty. Raises SupplyPlanError.
    """
    settings = settings or SupplySettings()
    started = time.perf_counter()
    _check_settings(settings)
    horizon = _horizon(months)
    if safety_stock is None:
        safety_stock = pd.DataFrame(columns=[*SERIES_KEY, "safety_stock_qty"])
    _check_inputs(demand, items, opening, scheduled_receipts, routings, capacity, safety_stock)
    network = _network(demand, items, opening, scheduled_receipts, routings, capacity,
                       safety_stock, month_start(cycle_month), horizon)
    capacity_hours = _capacity_grid(capacity, horizon)
    if network.nodes.empty:
        return SupplyPlan(_empty_plan(), _load_table(network, np.zeros((0, len(horizon))),
                                                     capacity_hours), _empty_stats())
    _check_penalties(network, settings)
    prepared_seconds = time.perf_counter() - started
    planned, unmet, stats = _solve_groups(network, settings)
    stats["build_seconds"] += prepared_seconds
    return SupplyPlan(
        plan=_plan_table(network, planned, unmet),
        load=_load_table(network, planned, capacity_hours),
        stats=stats,
    )


# --- validation ---------------------------------------------------------------------------


def _check_settings(settings: SupplySettings) -> None:
    """Costs and shares must be finite and >= 0: a negative cost makes the LP unbounded."""
    rates = {name: getattr(settings, name) for name in (
        "holding_cost_rate", "lost_sales_penalty", "overtime_share", "overtime_cost_per_hour",
        "safety_shortfall_rate", "planned_unit_cost")}
    bad = {name: value for name, value in rates.items() if not np.isfinite(value) or value < 0}
    if bad:
        raise SupplyPlanError(f"SupplySettings: {bad} must be finite and >= 0.")


def _check_inputs(
    demand: pd.DataFrame,
    items: pd.DataFrame,
    opening: pd.DataFrame,
    receipts: pd.DataFrame,
    routings: pd.DataFrame,
    capacity: pd.DataFrame,
    safety_stock: pd.DataFrame,
) -> None:
    """Every table has its columns, no missing keys, no NaN or negative numbers, unique keys."""
    problems = [
        *_table_problems(demand, "demand", [*SERIES_KEY, "month"], ["qty"]),
        *_table_problems(items, "items", ["sku", "make_or_buy"],
                         ["unit_cost", "unit_price", "lead_time_days"]),
        *_table_problems(opening, "opening", SERIES_KEY, ["on_hand_qty"]),
        *_table_problems(receipts, "scheduled_receipts", [*SERIES_KEY, "month"], ["qty"]),
        *_table_problems(routings, "routings", ["sku", "work_center_id"], ["hours_per_unit"]),
        *_table_problems(capacity, "capacity", ["work_center_id", "month"], ["available_hours"]),
        *_table_problems(safety_stock, "safety_stock", SERIES_KEY, ["safety_stock_qty"]),
    ]
    if problems:
        raise SupplyPlanError("Invalid supply inputs:\n- " + "\n- ".join(problems))
    kind = items["make_or_buy"].astype(str).str.strip().str.lower()
    problems = [
        *_problem(items, "items", "make_or_buy", ~kind.isin(["make", "buy"]),
                  "not 'make' or 'buy'"),
        *_duplicates(items, "items", ["sku"]),
        *_duplicates(routings, "routings", ["sku", "work_center_id"]),
        *_duplicates(capacity.assign(month=month_starts(capacity["month"])), "capacity",
                     ["work_center_id", "month"]),
        *_duplicates(safety_stock, "safety_stock", SERIES_KEY),
    ]
    if problems:
        raise SupplyPlanError("Invalid supply inputs:\n- " + "\n- ".join(problems))


def _table_problems(
    frame: pd.DataFrame, table: str, keys: list[str], numbers: list[str]
) -> list[str]:
    """Missing columns, missing keys, NaN / non-numeric and negative numbers of one table."""
    missing = [column for column in [*keys, *numbers] if column not in frame.columns]
    if missing:
        return [f"{table}: missing column(s) {missing}; it needs {[*keys, *numbers]}"]
    problems = []
    for column in keys:
        problems += _problem(frame, table, column, frame[column].isna(), "missing")
    if "month" in keys:
        dates = pd.to_datetime(frame["month"], errors="coerce")
        problems += _problem(frame, table, "month", dates.isna() & frame["month"].notna(),
                             "not a date")
    for column in numbers:
        values = pd.to_numeric(frame[column], errors="coerce")
        problems += _problem(frame, table, column, values.isna(), "NaN or not a number")
        problems += _problem(frame, table, column, values < 0, "negative")
    return problems


def _problem(frame: pd.DataFrame, table: str, column: str, bad: pd.Series, what: str) -> list[str]:
    """'table.column: N row(s) what, e.g. ...' when any row is bad, else nothing."""
    count = int(bad.sum())
    if not count:
        return []
    sample = "; ".join(
        ", ".join(f"{name}={value}" for name, value in row.items())
        for row in frame.loc[bad.to_numpy()].head(SAMPLE_ROWS).to_dict("records")
    )
    return [f"{table}.{column}: {count} row(s) {what}, e.g. {sample}"]


def _duplicates(frame: pd.DataFrame, table: str, keys: list[str]) -> list[str]:
    """Rows whose key appears more than once: the plan cannot tell which one holds."""
    repeated = frame.duplicated(keys, keep=False)
    return _problem(frame, table, "+".join(keys), repeated, "with a duplicate key")


def _check_penalties(network: _Network, settings: SupplySettings) -> None:
    """A node with demand must lose something when a sale is lost, else the plan drops it."""
    penalty = _lost_sale_cost(network, settings)
    free = (network.demand.sum(axis=1) > 0) & (penalty <= settings.planned_unit_cost)
    if free.any():
        skus = network.nodes.loc[free, "sku"].drop_duplicates()
        raise SupplyPlanError(
            f"items: {len(skus)} sku(s) with demand have unit_cost and unit_price 0 (or "
            f"lost_sales_penalty 0), so losing their sales costs nothing, e.g. "
            f"{list(skus.head(SAMPLE_ROWS))}")


# --- inputs as arrays ---------------------------------------------------------------------


def _network(
    demand: pd.DataFrame,
    items: pd.DataFrame,
    opening: pd.DataFrame,
    receipts: pd.DataFrame,
    routings: pd.DataFrame,
    capacity: pd.DataFrame,
    safety_stock: pd.DataFrame,
    cutoff: pd.Timestamp,
    horizon: pd.DatetimeIndex,
) -> _Network:
    """Nodes (every sku x location with demand, receipts, stock or safety stock) as arrays."""
    _check_demand_in_horizon(demand, horizon)
    demand = _in_horizon(demand, horizon, late_to_first=False)
    receipts = _in_horizon(receipts, horizon, late_to_first=True)
    on_hand = _summed(opening, "on_hand_qty")
    safety = _summed(safety_stock, "safety_stock_qty")
    keys = pd.concat([demand[SERIES_KEY], receipts[SERIES_KEY],
                      on_hand.loc[on_hand["on_hand_qty"] > 0, SERIES_KEY],
                      safety.loc[safety["safety_stock_qty"] > 0, SERIES_KEY]])
    nodes = _with_items(keys.drop_duplicates().sort_values(SERIES_KEY, ignore_index=True), items)
    steps, centres, available = _routing_steps(nodes, routings, capacity, horizon)
    return _Network(
        nodes=nodes,
        months=horizon,
        demand=_grid(nodes, demand, horizon),
        receipts=_grid(nodes, receipts, horizon),
        opening=_per_node(nodes, on_hand, "on_hand_qty"),
        safety=_per_node(nodes, safety, "safety_stock_qty"),
        allowed=_allowed_months(nodes, cutoff, horizon),
        routing_node=steps["node"].to_numpy(np.int64),
        routing_centre=steps["centre"].to_numpy(np.int64),
        routing_hours=steps["hours_per_unit"].to_numpy(float),
        centres=centres,
        available=available,
    )


def _check_demand_in_horizon(demand: pd.DataFrame, horizon: pd.DatetimeIndex) -> None:
    """Demand wholly outside the horizon is a wrong cycle_month or months, not an empty plan."""
    positive = pd.to_numeric(demand["qty"]) > 0
    if positive.any() and not month_starts(demand.loc[positive, "month"]).isin(horizon).any():
        raise SupplyPlanError(
            f"demand: {int(positive.sum())} row(s) with qty > 0, none in the horizon "
            f"{horizon[0]:%Y-%m}..{horizon[-1]:%Y-%m}: check cycle_month and months.")


def _horizon(months: Iterable[pd.Timestamp]) -> pd.DatetimeIndex:
    """The horizon as sorted, unique month starts."""
    horizon = pd.DatetimeIndex(month_starts(pd.Series(list(months), dtype="datetime64[ns]")))
    if horizon.empty:
        raise SupplyPlanError("months is empty: the supply plan needs at least one month.")
    return horizon.drop_duplicates().sort_values()


def _in_horizon(
    frame: pd.DataFrame, horizon: pd.DatetimeIndex, late_to_first: bool
) -> pd.DataFrame:
    """qty summed per node and horizon month; rows after the horizon drop, and rows before it
    drop too, or count in the first month when late_to_first (a late order is expected now)."""
    monthly = frame.assign(month=month_starts(frame["month"]),
                           qty=pd.to_numeric(frame["qty"]).astype(float))
    if late_to_first:
        monthly.loc[monthly["month"] < horizon[0], "month"] = horizon[0]
    monthly = monthly[monthly["month"].isin(horizon)]
    return monthly.groupby([*SERIES_KEY, "month"], as_index=False)["qty"].sum()


def _summed(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """`column` summed per node."""
    values = frame.assign(**{column: pd.to_numeric(frame[column]).astype(float)})
    return values.groupby(SERIES_KEY, as_index=False)[column].sum()


def _with_items(nodes: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Nodes with their item's make_or_buy, costs and lead time; every sku must be an item."""
    item = items.assign(
        make_or_buy=items["make_or_buy"].astype(str).str.strip().str.lower(),
        **{c: pd.to_numeric(items[c]).astype(float)
           for c in ("unit_cost", "unit_price", "lead_time_days")},
    )[["sku", "make_or_buy", "unit_cost", "unit_price", "lead_time_days"]]
    nodes = nodes.merge(item, on="sku", how="left", validate="many_to_one")
    unknown = nodes.loc[nodes["make_or_buy"].isna(), "sku"].drop_duplicates()
    if len(unknown):
        raise SupplyPlanError(
            f"items: {len(unknown)} sku(s) with demand, stock or receipts are not in items, "
            f"e.g. {list(unknown.head(SAMPLE_ROWS))}")
    return nodes.assign(is_make=nodes["make_or_buy"] == "make")


def _grid(nodes: pd.DataFrame, monthly: pd.DataFrame, horizon: pd.DatetimeIndex) -> np.ndarray:
    """qty per node and month as a (nodes, months) array."""
    grid = np.zeros((len(nodes), len(horizon)))
    node = pd.MultiIndex.from_frame(nodes[SERIES_KEY]).get_indexer(
        pd.MultiIndex.from_frame(monthly[SERIES_KEY]))
    np.add.at(grid, (node, horizon.get_indexer(monthly["month"])), monthly["qty"].to_numpy())
    return grid


def _per_node(nodes: pd.DataFrame, values: pd.DataFrame, column: str) -> np.ndarray:
    """`column` per node, 0 where the node has no row."""
    merged = nodes[SERIES_KEY].merge(values, on=SERIES_KEY, how="left")
    return merged[column].fillna(0.0).to_numpy(float)


def _allowed_months(
    nodes: pd.DataFrame, cutoff: pd.Timestamp, horizon: pd.DatetimeIndex
) -> np.ndarray:
    """True where a planned receipt may arrive: from the month containing cutoff + lead time."""
    arrival = cutoff + pd.to_timedelta(nodes["lead_time_days"], unit="D")
    first_month = month_starts(arrival).to_numpy()
    return horizon.to_numpy()[None, :] >= first_month[:, None]


def _routing_steps(
    nodes: pd.DataFrame, routings: pd.DataFrame, capacity: pd.DataFrame,
    horizon: pd.DatetimeIndex,
) -> tuple[pd.DataFrame, pd.Index, np.ndarray]:
    """(routing steps of make nodes: node, centre, hours_per_unit; their centres; available
    hours per centre x month). A loaded centre needs capacity in every horizon month."""
    make = nodes.loc[nodes["is_make"], ["sku"]].rename_axis("node").reset_index()
    steps = make.merge(routings.assign(hours_per_unit=pd.to_numeric(routings["hours_per_unit"])),
                       on="sku")
    steps = steps[steps["hours_per_unit"] > 0]
    centres = pd.Index(sorted(steps["work_center_id"].unique()), name="work_center_id")
    grid = _capacity_grid(capacity, horizon)
    available = grid.reindex(pd.MultiIndex.from_product([centres, horizon]))
    gaps = available[available.isna()].index
    if len(gaps):
        sample = [f"{centre} {month:%Y-%m}" for centre, month in gaps[:SAMPLE_ROWS]]
        raise SupplyPlanError(
            f"capacity: {len(gaps)} work centre x month(s) used by make skus' routings have no "
            f"available_hours row (add a row, 0 if the centre is closed), e.g. {sample}")
    steps = steps.assign(centre=centres.get_indexer(steps["work_center_id"]))
    return steps, centres, available.to_numpy(float).reshape(len(centres), len(horizon))


def _capacity_grid(capacity: pd.DataFrame, horizon: pd.DatetimeIndex) -> pd.Series:
    """available_hours per (work_center_id, month) in the horizon."""
    hours = capacity.assign(month=month_starts(capacity["month"]),
                            available_hours=pd.to_numeric(capacity["available_hours"]))
    hours = hours[hours["month"].isin(horizon)]
    return hours.set_index(["work_center_id", "month"])["available_hours"].astype(float)


# --- the linear program -------------------------------------------------------------------


def _build_lp(network: _Network, settings: SupplySettings) -> _Lp:
    """Columns x | b | u | a | o, rows balance | capacity, as one sparse matrix.

    Stock is split I = a + b with 0 <= a <= safety stock (nodes with safety stock only): the
    shortfall s = SS - a costs the rate, i.e. a constant minus the rate per unit of a. At the
    optimum a = min(I, SS), the same as s >= SS - I, s >= 0, but with bounds instead of rows.
    """
    nodes, months = network.demand.shape
    cells = nodes * months
    safe = np.flatnonzero(network.safety > 0)
    stock_at, unmet_at, safe_at = cells, 2 * cells, 3 * cells
    over_at = safe_at + len(safe) * months
    node_of = np.repeat(np.arange(nodes), months)
    unit_cost = network.nodes["unit_cost"].to_numpy()
    holding = settings.holding_cost_rate * unit_cost
    shortfall = settings.safety_shortfall_rate * unit_cost[safe]

    cost = np.concatenate([
        np.full(cells, settings.planned_unit_cost),
        holding[node_of],
        _lost_sale_cost(network, settings)[node_of],
        np.repeat(holding[safe] - shortfall, months),
        np.full(len(network.centres) * months, settings.overtime_cost_per_hour),
    ])
    col_upper = np.concatenate([
        np.where(network.allowed.ravel(), INF, 0.0),
        np.full(cells, INF),
        network.demand.ravel(),
        np.repeat(network.safety[safe], months),
        settings.overtime_share * network.available.ravel(),
    ])
    balance = _balance_rows(network, stock_at, unmet_at, safe, safe_at)
    load = _capacity_rows(network, cells, over_at)
    rows, cols, values, row_lower, row_upper = (
        np.concatenate(part) for part in zip(balance, load, strict=True))
    matrix = sparse.csc_array((values, (rows, cols)), shape=(len(row_lower), len(cost)))
    matrix.sort_indices()
    offset = float(months * (shortfall * network.safety[safe]).sum())
    return _Lp(cost, np.zeros(len(cost)), col_upper, row_lower, row_upper, matrix, offset,
               stock_at, unmet_at)


def _balance_rows(
    network: _Network, stock_at: int, unmet_at: int, safe: np.ndarray, safe_at: int
) -> tuple[np.ndarray, ...]:
    """I[t] - I[t-1] - x[t] - u[t] = receipts[t] - d[t] (+ opening in the first month), where
    I = b (+ a for nodes with safety stock)."""
    nodes, months = network.demand.shape
    cell = np.arange(nodes * months)
    safe_cell = (safe[:, None] * months + np.arange(months)).ravel()
    stock = np.concatenate([stock_at + cell, safe_at + np.arange(len(safe_cell))])
    stock_cell = np.concatenate([cell, safe_cell])
    carried = stock_cell % months < months - 1  # closing stock that opens the next month
    rhs = network.receipts - network.demand
    rhs[:, 0] += network.opening
    rows = np.concatenate([stock_cell, stock_cell[carried] + 1, cell, cell])
    cols = np.concatenate([stock, stock[carried], cell, unmet_at + cell])
    values = np.concatenate([np.ones(len(stock)), -np.ones(carried.sum()),
                             -np.ones(2 * len(cell))])
    return rows, cols, values, rhs.ravel(), rhs.ravel()


def _capacity_rows(network: _Network, row_at: int, over_at: int) -> tuple[np.ndarray, ...]:
    """sum of x[t] x hours_per_unit - o[t] <= available[t], per work centre and month."""
    months = network.demand.shape[1]
    month = np.arange(months)
    centre_month = np.arange(len(network.centres) * months)
    rows = np.concatenate([
        (row_at + network.routing_centre[:, None] * months + month).ravel(),
        row_at + centre_month,
    ])
    cols = np.concatenate([(network.routing_node[:, None] * months + month).ravel(),
                           over_at + centre_month])
    values = np.concatenate([np.repeat(network.routing_hours, months),
                             -np.ones(len(centre_month))])
    upper = network.available.ravel()
    return rows, cols, values, np.full(len(upper), -INF), upper


def _lost_sale_cost(network: _Network, settings: SupplySettings) -> np.ndarray:
    """Per unit lost: above the cost of holding it, or missing it from safety stock, for the
    whole horizon, so building ahead and using safety stock come before losing a sale."""
    nodes = network.nodes
    horizon_rate = (settings.holding_cost_rate + settings.safety_shortfall_rate) * len(
        network.months)
    return (settings.lost_sales_penalty * nodes["unit_price"].to_numpy()
            + nodes["unit_cost"].to_numpy() * (1.0 + horizon_rate))


# --- solving ------------------------------------------------------------------------------


def _solve_groups(
    network: _Network, settings: SupplySettings
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Planned and lost quantities per node x month, one LP per group of linked nodes, and
    the LPs' figures: sizes, build and solve seconds and objectives summed."""
    planned, unmet = np.zeros_like(network.demand), np.zeros_like(network.demand)
    stats: dict[str, Any] = {"variables": 0, "constraints": 0, "nonzeros": 0,
                             "build_seconds": 0.0, "solve_seconds": 0.0, "objective": 0.0}
    groups = _node_groups(network)
    for group in groups:
        started = time.perf_counter()
        part = _subnetwork(network, group)
        lp = _build_lp(part, settings)
        stats["build_seconds"] += time.perf_counter() - started
        values, solve = _solve(lp, settings, _time_left(settings, stats["solve_seconds"]))
        planned[group], unmet[group] = _clean(values, lp, part)
        stats["variables"] += lp.matrix.shape[1]
        stats["constraints"] += lp.matrix.shape[0]
        stats["nonzeros"] += int(lp.matrix.nnz)
        stats["solve_seconds"] += solve["seconds"]
        stats["objective"] += solve["objective"]
        stats["status"] = solve["status"]
    return planned, unmet, {**stats, "lps": len(groups),
                            "largest_lp_nodes": max(len(group) for group in groups)}


def _node_groups(network: _Network) -> list[np.ndarray]:
    """Node indices per LP: nodes linked through shared work centres (a sku's locations, skus
    routed over a common centre, transitively) form one group; nodes that load no centre
    depend on nothing else and go in chunks of CHUNK_NODES."""
    nodes = len(network.nodes)
    size = nodes + len(network.centres)
    links = sparse.coo_array(
        (np.ones(len(network.routing_node)),
         (network.routing_node, nodes + network.routing_centre)), shape=(size, size))
    _, label = csgraph.connected_components(links, directed=False)
    node_label = label[:nodes]
    linked = np.isin(node_label, label[nodes:])
    groups = [np.flatnonzero(node_label == component)
              for component in np.unique(node_label[linked])]
    free = np.flatnonzero(~linked)
    if len(free):
        groups += np.array_split(free, math.ceil(len(free) / CHUNK_NODES))
    return groups


def _subnetwork(network: _Network, group: np.ndarray) -> _Network:
    """The nodes `group` with their routing steps and the work centres those load."""
    position = np.full(len(network.nodes), -1)
    position[group] = np.arange(len(group))
    step = position[network.routing_node] >= 0
    centres = np.unique(network.routing_centre[step])
    centre_position = np.full(len(network.centres), -1)
    centre_position[centres] = np.arange(len(centres))
    return replace(
        network,
        nodes=network.nodes.iloc[group].reset_index(drop=True),
        demand=network.demand[group],
        receipts=network.receipts[group],
        opening=network.opening[group],
        safety=network.safety[group],
        allowed=network.allowed[group],
        routing_node=position[network.routing_node[step]],
        routing_centre=centre_position[network.routing_centre[step]],
        routing_hours=network.routing_hours[step],
        centres=network.centres[centres],
        available=network.available[centres],
    )


def _time_left(settings: SupplySettings, spent_seconds: float) -> float | None:
    """What remains of the time limit for the next LP (None: no limit)."""
    if settings.time_limit_seconds is None:
        return None
    return max(settings.time_limit_seconds - spent_seconds, 0.0)


def _solve(
    lp: _Lp, settings: SupplySettings, time_limit: float | None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Column values of the optimal solution, and its seconds, objective and status."""
    _discard_highs_banner()
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("solver", settings.solver)
    if time_limit is not None:
        highs.setOptionValue("time_limit", float(time_limit))
    if highs.passModel(_highs_lp(lp)) == highspy.HighsStatus.kError:
        raise SupplyPlanError("HiGHS rejected the supply LP (passModel returned an error).")
    started = time.perf_counter()
    highs.run()
    seconds = time.perf_counter() - started
    status = highs.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise SupplyPlanError(_status_message(highs, status, seconds))
    values = np.asarray(highs.getSolution().col_value, dtype=float)
    return values, {"seconds": seconds,
                    "objective": float(highs.getInfo().objective_function_value),
                    "status": highs.modelStatusToString(status)}


def _highs_lp(lp: _Lp) -> highspy.HighsLp:
    """The LP as a HighsLp: arrays passed whole, column-wise matrix."""
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = lp.matrix.shape[1], lp.matrix.shape[0]
    model.offset_ = lp.offset
    model.col_cost_, model.col_lower_, model.col_upper_ = lp.cost, lp.col_lower, lp.col_upper
    model.row_lower_, model.row_upper_ = lp.row_lower, lp.row_upper
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.num_col_, model.a_matrix_.num_row_ = model.num_col_, model.num_row_
    model.a_matrix_.start_ = lp.matrix.indptr.astype(np.int32)
    model.a_matrix_.index_ = lp.matrix.indices.astype(np.int32)
    model.a_matrix_.value_ = lp.matrix.data.astype(float)
    return model


def _status_message(highs: highspy.Highs, status: highspy.HighsModelStatus, seconds: float) -> str:
    """What the solver said, and what in the data usually causes it."""
    text = highs.modelStatusToString(status)
    causes = {
        highspy.HighsModelStatus.kInfeasible: (
            "infeasible: with lost sales allowed this needs inconsistent bounds, e.g. negative "
            "opening stock, receipts or available hours slipping past validation"),
        highspy.HighsModelStatus.kUnbounded: (
            "unbounded: usually a negative cost (unit_cost, unit_price or a settings rate)"),
        highspy.HighsModelStatus.kUnboundedOrInfeasible: (
            "infeasible or unbounded: check for negative costs, stock, receipts or hours"),
        highspy.HighsModelStatus.kTimeLimit: (
            f"time limit reached after {seconds:.1f} s: raise settings.time_limit_seconds, "
            "or plan fewer nodes or months"),
        highspy.HighsModelStatus.kIterationLimit: "iteration limit reached",
        highspy.HighsModelStatus.kMemoryLimit: "out of memory: plan fewer nodes or months",
    }
    cause = causes.get(status, "the solver stopped without an optimal plan")
    return f"Supply LP not solved to optimality (HiGHS status {text!r}): {cause}."


@functools.cache
def _discard_highs_banner() -> None:
    """HiGHS prints a banner to the process's stdout (not sys.stdout, so output_flag cannot
    stop it) when its first instance is made: make that one with stdout on /dev/null."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no stdout to protect
        highspy.Highs()
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


# --- results ------------------------------------------------------------------------------


def _clean(values: np.ndarray, lp: _Lp, network: _Network) -> tuple[np.ndarray, np.ndarray]:
    """Planned receipts and lost demand per node x month, rounded to 1e-6 and within bounds."""
    shape = network.demand.shape
    planned = np.clip(values[: lp.stock_at].round(DECIMALS), 0.0, None).reshape(shape)
    planned[~network.allowed] = 0.0
    unmet = values[lp.unmet_at : lp.unmet_at + planned.size].round(DECIMALS).reshape(shape)
    return planned, np.clip(unmet, 0.0, network.demand)


def _plan_table(network: _Network, planned: np.ndarray, unmet: np.ndarray) -> pd.DataFrame:
    """One row per node x month; closing = opening + receipts + planned - (demand - unmet)."""
    nodes, months = network.demand.shape
    opening, closing, unmet = _balanced_stock(network, planned, unmet)
    is_make = network.nodes["is_make"].to_numpy()[:, None]
    columns = {
        "demand_qty": network.demand,
        "scheduled_receipts_qty": network.receipts,
        "planned_production_qty": np.where(is_make, planned, 0.0),
        "planned_purchase_qty": np.where(is_make, 0.0, planned),
        "opening_qty": opening,
        "closing_qty": closing,
        "unmet_qty": unmet,
        "safety_stock_qty": np.repeat(network.safety[:, None], months, axis=1),
    }
    node_of = np.repeat(np.arange(nodes), months)
    plan = network.nodes[[*SERIES_KEY, "make_or_buy"]].iloc[node_of].reset_index(drop=True)
    plan.insert(2, "month", np.tile(network.months.to_numpy(), nodes))
    return plan.assign(**{name: values.ravel() for name, values in columns.items()})[PLAN_COLUMNS]


def _balanced_stock(
    network: _Network, planned: np.ndarray, unmet: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(opening, closing, unmet) month by month from the cleaned flows. Where rounding left a
    closing stock just below 0, that much more demand counts as unmet, so it closes at 0."""
    opening, closing, unmet = np.empty_like(planned), np.empty_like(planned), unmet.copy()
    stock = network.opening.copy()
    for month in range(planned.shape[1]):
        supply = stock + network.receipts[:, month] + planned[:, month]
        short = np.clip(network.demand[:, month] - unmet[:, month] - supply, 0.0, None)
        unmet[:, month] += short
        opening[:, month] = stock
        stock = supply - (network.demand[:, month] - unmet[:, month])
        closing[:, month] = stock = np.where(short > 0, np.maximum(stock, 0.0), stock)
    return opening, closing, unmet


def _load_table(
    network: _Network, planned: np.ndarray, capacity_hours: pd.Series
) -> pd.DataFrame:
    """Planned hours per work centre x month against available hours, with overtime."""
    months = len(network.months)
    hours = np.zeros((len(network.centres), months))
    if planned.size:
        np.add.at(hours, network.routing_centre,
                  network.routing_hours[:, None] * planned[network.routing_node])
    planned_hours = pd.Series(hours.ravel(), name="planned_hours",
                              index=pd.MultiIndex.from_product([network.centres, network.months],
                                                               names=["work_center_id", "month"]))
    load = pd.concat([capacity_hours.rename("available_hours"), planned_hours], axis=1)
    load = load.rename_axis(["work_center_id", "month"]).reset_index().fillna(
        {"planned_hours": 0.0})
    load["planned_hours"] = load["planned_hours"].round(DECIMALS)
    load["overtime_hours"] = (load["planned_hours"] - load["available_hours"]).clip(lower=0.0)
    load["utilisation"] = load["planned_hours"] / load["available_hours"].replace(0.0, np.nan)
    return load.sort_values(["work_center_id", "month"], ignore_index=True)[LOAD_COLUMNS]


def _empty_plan() -> pd.DataFrame:
    """The plan's columns with no rows, typed like a full plan."""
    text = {"sku", "location_id", "make_or_buy"}
    return pd.DataFrame({
        column: pd.Series(dtype=object if column in text else
                          "datetime64[ns]" if column == "month" else float)
        for column in PLAN_COLUMNS
    })


def _empty_stats() -> dict[str, Any]:
    """Stats of a plan with nothing to plan (no demand, stock, receipts or safety stock)."""
    return {"variables": 0, "constraints": 0, "nonzeros": 0, "build_seconds": 0.0,
            "solve_seconds": 0.0, "objective": 0.0, "status": "empty: nothing to plan",
            "lps": 0, "largest_lp_nodes": 0}
