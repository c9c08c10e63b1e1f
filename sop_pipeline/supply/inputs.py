"""What the supply plan takes: its settings, the checks on its input tables, and the inputs
as arrays over nodes (sku x location) x horizon months."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sop_pipeline.cycle import first_receipt_months, month_start, month_starts
from sop_pipeline.engine import Engine
from sop_pipeline.supply.lots import Lots, item_lots
from sop_pipeline.supply.units import DECIMALS, ceil_to_step, cumulative_round, quantity_step
from sop_pipeline.tables import SERIES_KEY

SAMPLE_ROWS = 3
LOT_COLUMNS = ("min_order_qty", "order_multiple")  # optional item columns, > 0 where set


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
    currency: str = "EUR"  # of the items' unit_cost and unit_price, hence of every money figure
    # where independent LPs are solved: local = one after another in this process, as the
    # time limit counts their solve time together; spark or dask: a task per LP, each with
    # the whole time limit
    engine: Engine = field(default_factory=Engine)


def _no_safety_stock() -> pd.DataFrame:
    return pd.DataFrame(columns=[*SERIES_KEY, "safety_stock_qty"])


def _nothing_committed() -> pd.DataFrame:
    return pd.DataFrame(columns=["work_center_id", "month", "committed_hours"])


@dataclass(frozen=True)
class PlanInputs:
    """What the supply plan is made from: the cycle, its horizon, and one frame per entity of
    the network (frePPLe's items, buffers, operations, resources), passed whole."""

    cycle_month: pd.Timestamp  # the cut-off is its first day
    months: Iterable[pd.Timestamp]  # the horizon
    demand: pd.DataFrame  # sku, location_id, month, qty
    # sku, make_or_buy, unit_cost, unit_price, lead_time_days; the lots: uom, min_order_qty,
    # order_multiple (optional)
    items: pd.DataFrame
    opening: pd.DataFrame  # stock on hand at the cut-off: sku, location_id, on_hand_qty
    scheduled_receipts: pd.DataFrame  # open orders: sku, location_id, month, qty
    routings: pd.DataFrame  # sku, work_center_id, hours_per_unit
    capacity: pd.DataFrame  # work_center_id, month, available_hours
    safety_stock: pd.DataFrame = field(default_factory=_no_safety_stock)  # sku, location_id,
    # safety_stock_qty
    # hours open production orders hold (sop_pipeline.supply.capacity.committed_hours):
    # work_center_id, month, committed_hours; the plan has available - committed (+ overtime)
    committed: pd.DataFrame = field(default_factory=_nothing_committed)


@dataclass(frozen=True)
class Network:
    """Inputs as arrays over nodes (rows, sorted by sku and location) x horizon months."""

    nodes: pd.DataFrame  # sku, location_id, make_or_buy, unit_cost, unit_price, is_make, step
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
    committed: np.ndarray  # (centres, months) hours open production orders hold
    lots: Lots  # per node: order multiple and minimum order


def build_network(inputs: PlanInputs) -> Network:
    """Nodes (every sku x location with demand, receipts, stock or safety stock) as arrays;
    what the plan decides in its unit's steps (sop_pipeline.supply.units): demand rounded
    cumulatively, safety stock rounded up; stock and open orders as measured, to a millionth
    (DECIMALS), so every balance of the plan sums quantities on that one grid."""
    horizon, cutoff = plan_horizon(inputs.months), month_start(inputs.cycle_month)
    _check_demand_in_horizon(inputs.demand, horizon)
    demand = _in_horizon(inputs.demand, horizon, late_to_first=False)
    receipts = _in_horizon(inputs.scheduled_receipts, horizon, late_to_first=True)
    on_hand = _summed(inputs.opening, "on_hand_qty")
    safety = _summed(inputs.safety_stock, "safety_stock_qty")
    keys = pd.concat([demand[SERIES_KEY], receipts[SERIES_KEY],
                      on_hand.loc[on_hand["on_hand_qty"] > 0, SERIES_KEY],
                      safety.loc[safety["safety_stock_qty"] > 0, SERIES_KEY]])
    nodes = _with_items(keys.drop_duplicates().sort_values(SERIES_KEY, ignore_index=True),
                        inputs.items)
    steps, centres, available = _routing_steps(nodes, inputs.routings, inputs.capacity, horizon)
    step = nodes["step"].to_numpy()
    return Network(
        nodes=nodes,
        months=horizon,
        demand=cumulative_round(_grid(nodes, demand, horizon), step),
        receipts=_grid(nodes, receipts, horizon).round(DECIMALS),
        opening=_per_node(nodes, on_hand, "on_hand_qty").round(DECIMALS),
        safety=ceil_to_step(_per_node(nodes, safety, "safety_stock_qty"), step),
        allowed=_allowed_months(nodes, cutoff, horizon),
        routing_node=steps["node"].to_numpy(np.int64),
        routing_centre=steps["centre"].to_numpy(np.int64),
        routing_hours=steps["hours_per_unit"].to_numpy(float),
        centres=centres,
        available=available,
        committed=committed_grid(inputs.committed, centres, horizon),
        lots=item_lots(step, nodes["min_order_qty"].to_numpy(), nodes["order_multiple"].to_numpy()),
    )


def _check_demand_in_horizon(demand: pd.DataFrame, horizon: pd.DatetimeIndex) -> None:
    """Demand wholly outside the horizon is a wrong cycle_month or months, not an empty plan."""
    positive = pd.to_numeric(demand["qty"]) > 0
    if positive.any() and not month_starts(demand.loc[positive, "month"]).isin(horizon).any():
        raise SupplyPlanError(
            f"demand: {int(positive.sum())} row(s) with qty > 0, none in the horizon "
            f"{horizon[0]:%Y-%m}..{horizon[-1]:%Y-%m}: check cycle_month and months.")


def plan_horizon(months: Iterable[pd.Timestamp]) -> pd.DatetimeIndex:
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
    """Nodes with their item's make_or_buy, costs, lead time, unit step and lot columns (the
    optional ones NaN when absent); every sku must be an item."""
    item = items.assign(
        make_or_buy=items["make_or_buy"].astype(str).str.strip().str.lower(),
        **{c: pd.to_numeric(items[c]).astype(float)
           for c in ("unit_cost", "unit_price", "lead_time_days")},
    )[["sku", "make_or_buy", "unit_cost", "unit_price", "lead_time_days"]]
    item = item.merge(item_units(items), on="sku", validate="one_to_one")
    nodes = nodes.merge(item, on="sku", how="left", validate="many_to_one")
    unknown = nodes.loc[nodes["make_or_buy"].isna(), "sku"].drop_duplicates()
    if len(unknown):
        raise SupplyPlanError(
            f"items: {len(unknown)} sku(s) with demand, stock or receipts are not in items, "
            f"e.g. {list(unknown.head(SAMPLE_ROWS))}")
    return nodes.assign(is_make=nodes["make_or_buy"] == "make")


def item_units(items: pd.DataFrame) -> pd.DataFrame:
    """sku, the step of its unit of measure, and its lot columns (NaN where absent)."""
    return pd.DataFrame({
        "sku": items["sku"].to_numpy(),
        "step": quantity_step(items["uom"] if "uom" in items.columns
                              else pd.Series(pd.NA, index=items.index)),
        **{column: (pd.to_numeric(items[column]).to_numpy(float) if column in items.columns
                    else np.full(len(items), np.nan)) for column in LOT_COLUMNS},
    })


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
    """True where a planned receipt may arrive: from its first receipt month on (the first
    whose first day is on or after cutoff + lead time, sop_pipeline.cycle)."""
    first_month = first_receipt_months(cutoff, nodes["lead_time_days"]).to_numpy()
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
    grid = capacity_grid(capacity, horizon)
    available = grid.reindex(pd.MultiIndex.from_product([centres, horizon]))
    gaps = available[available.isna()].index
    if len(gaps):
        sample = [f"{centre} {month:%Y-%m}" for centre, month in gaps[:SAMPLE_ROWS]]
        raise SupplyPlanError(
            f"capacity: {len(gaps)} work centre x month(s) used by make skus' routings have no "
            f"available_hours row (add a row, 0 if the centre is closed), e.g. {sample}")
    steps = steps.assign(centre=centres.get_indexer(steps["work_center_id"]))
    return steps, centres, available.to_numpy(float).reshape(len(centres), len(horizon))


def committed_grid(committed: pd.DataFrame, centres: pd.Index, horizon: pd.DatetimeIndex
                   ) -> np.ndarray:
    """committed_hours per centre x month (centres, months), 0 where none."""
    hours = committed.assign(month=month_starts(committed["month"]),
                             committed_hours=pd.to_numeric(committed["committed_hours"]))
    summed = hours.groupby(["work_center_id", "month"])["committed_hours"].sum().astype(float)
    grid = summed.reindex(pd.MultiIndex.from_product([centres, horizon]), fill_value=0.0)
    return grid.to_numpy(float).reshape(len(centres), len(horizon))


def capacity_grid(capacity: pd.DataFrame, horizon: pd.DatetimeIndex) -> pd.Series:
    """available_hours per (work_center_id, month) in the horizon."""
    hours = capacity.assign(month=month_starts(capacity["month"]),
                            available_hours=pd.to_numeric(capacity["available_hours"]))
    hours = hours[hours["month"].isin(horizon)]
    return hours.set_index(["work_center_id", "month"])["available_hours"].astype(float)


# --- validation ---------------------------------------------------------------------------


def check_settings(settings: SupplySettings) -> None:
    """Costs and shares must be finite and >= 0: a negative cost makes the LP unbounded."""
    rates = {name: getattr(settings, name) for name in (
        "holding_cost_rate", "lost_sales_penalty", "overtime_share", "overtime_cost_per_hour",
        "safety_shortfall_rate", "planned_unit_cost")}
    bad = {name: value for name, value in rates.items() if not np.isfinite(value) or value < 0}
    if bad:
        raise SupplyPlanError(f"SupplySettings: {bad} must be finite and >= 0.")


def check_inputs(inputs: PlanInputs) -> None:
    """Every table has its columns, no missing keys, no NaN or negative numbers, unique keys."""
    demand, items, opening, receipts, routings, capacity, safety_stock = (
        inputs.demand, inputs.items, inputs.opening, inputs.scheduled_receipts, inputs.routings,
        inputs.capacity, inputs.safety_stock)
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
        *_lot_problems(items),
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


def _lot_problems(items: pd.DataFrame) -> list[str]:
    """The optional lot columns, where set, must be numbers above 0."""
    problems = []
    for column in (c for c in LOT_COLUMNS if c in items.columns):
        given = items[column].notna() & (items[column].astype(str).str.strip() != "")
        values = pd.to_numeric(items[column], errors="coerce")
        problems += _problem(items, "items", column, given & values.isna(), "not a number")
        problems += _problem(items, "items", column, values <= 0, "zero or negative (must be > 0)")
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
