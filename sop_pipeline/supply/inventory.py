"""Safety stock, open supply at the cycle cut-off, and the month-by-month projected inventory.

Safety stock (safety_stock), per sku x location:

- safety_stock_qty = z(service_level) x sigma_monthly x sqrt(lead_time_months).
- z is the standard normal quantile of the cycle service level (default 0.95, z = 1.6449);
  the service level must be in [0.5, 1).
- sigma_monthly is the root mean squared error (rmse) of the selected forecast's backtest, in
  monthly units. A series without a backtest (rmse empty) falls back to demand_std, the standard
  deviation of its monthly demand, when that column is given; otherwise sigma is 0 (no safety
  stock). sigma_source says which one was used: backtest_rmse, demand_std or none.
- lead_time_months = lead_time_days / 30.4375 (days in an average month), at least a tenth of a
  month; a lead time of 0 days (or none) gives 0, hence no safety stock.

Open supply at the cut-off (the first day of cycle_month), rebuilt from dates so a backfilled
cycle sees what the planner saw then:

- purchase lines: ordered before the cut-off, not cancelled, and not yet received at the
  cut-off (received_date empty or on/after the cut-off);
- production orders: not cancelled and due on/after the cut-off, or still planned/released
  with a due date before the cut-off (late).

Each open line is received in the month of its due date; a line already past due at the
cut-off (is_late) is expected in cycle_month itself.

Limitations: statuses are as of the extract, not the cut-off. Production orders carry no
creation date, so an order created after the cut-off but due later counts as open, and a
late order completed after the cut-off (now 'completed') is missed. A purchase line cancelled
after the cut-off is missed as well (there is no cancellation date).

Projected inventory (project_inventory), per sku x location x horizon month:

- closing_qty = opening_qty + receipts_qty - demand_qty, exactly; the first opening is the
  on-hand stock, each later opening is the previous month's closing. Closing may go negative
  (a projected shortage). Receipts and demand outside the horizon months are ignored.
- Receipts carry a kind: 'scheduled' (open orders) or 'planned' (planned supply); receipts
  without a kind column, or with an empty kind, are scheduled; any other kind is an error
  (ValueError). receipts_qty is their sum.
- safety_stock_qty comes from the safety frame (the same every month); 0 when a series has
  none. Series only in the safety frame get no projection rows.
- days_of_cover = closing_qty / average daily demand ahead, where the demand ahead is the mean
  demand_qty of the current month and the next 2 horizon months (fewer at the horizon's end),
  divided by 30.4375 days per month. It is 0 when closing_qty <= 0, and empty (NaN) when
  closing_qty > 0 and there is no demand ahead.
- unmet_qty: demand the supply plan cannot meet (lost, not backordered, as in the plan), so
  closing = opening + receipts - (demand - unmet) and the projection matches the plan; 0
  without a plan.
- status, the first rule that holds: 'stockout' when closing_qty < 0 or demand goes unmet;
  'below_safety_stock'
  when 0 <= closing_qty < safety_stock_qty; 'excess' when days_of_cover > excess_cover_days
  (default 180) or closing_qty > 0 with no demand ahead; 'healthy' otherwise. Comparisons
  allow sop_pipeline.checks.tolerance with QTY_TOLERANCE (0.01 units plus float noise of the
  row's quantities): a plan that holds its safety stock to within 0.01 unit is healthy, and a
  shortage under 0.01 unit is none.
"""

from __future__ import annotations

from collections.abc import Iterable
from statistics import NormalDist

import numpy as np
import pandas as pd

from sop_pipeline.checks import QTY_TOLERANCE, tolerance
from sop_pipeline.cycle import distinct_months, month_start, month_starts
from sop_pipeline.tables import OUTPUT_TABLES, SERIES_KEY

DAYS_PER_MONTH = 30.4375  # 365.25 / 12
MIN_LEAD_TIME_MONTHS = 0.1
DEFAULT_SERVICE_LEVEL = 0.95
EXCESS_COVER_DAYS = 180.0
COVER_MONTHS = 3  # months of demand ahead (current month included) behind days_of_cover
RECEIPT_KINDS = ("scheduled", "planned")
STATUSES = ("stockout", "below_safety_stock", "excess", "healthy")
SAFETY_STOCK_COLUMNS = [
    "sku",
    "location_id",
    "sigma_monthly",
    "sigma_source",
    "lead_time_months",
    "safety_stock_qty",
]
PROJECTION_COLUMNS = OUTPUT_TABLES["inventory_projection"].stage_columns
_QTY_COLUMNS = PROJECTION_COLUMNS[3:12]


def safety_stock(
    items_series: pd.DataFrame, service_level: float = DEFAULT_SERVICE_LEVEL
) -> pd.DataFrame:
    """Safety stock per sku x location: z(service_level) x sigma_monthly x sqrt(lead months).

    items_series: sku, location_id, rmse (backtest of the selected forecast, monthly units;
    empty when not backtested), lead_time_days, and optionally demand_std (the fallback sigma).
    """
    if not 0.5 <= service_level < 1:
        raise ValueError(f"service_level must be in [0.5, 1), got {service_level!r}")
    z = NormalDist().inv_cdf(service_level)
    rmse = items_series["rmse"].astype(float)
    fallback = (
        items_series["demand_std"].astype(float)
        if "demand_std" in items_series.columns
        else pd.Series(np.nan, index=items_series.index)
    )
    stock = items_series[SERIES_KEY].copy()
    stock["sigma_monthly"] = rmse.fillna(fallback).fillna(0.0)
    stock["sigma_source"] = np.select(
        [rmse.notna(), fallback.notna()], ["backtest_rmse", "demand_std"], "none"
    )
    stock["lead_time_months"] = _lead_time_months(items_series["lead_time_days"])
    stock["safety_stock_qty"] = z * stock["sigma_monthly"] * np.sqrt(stock["lead_time_months"])
    return stock[SAFETY_STOCK_COLUMNS].reset_index(drop=True)


def open_supply_at_cutoff(supply_orders: pd.DataFrame, cycle_month: pd.Timestamp) -> pd.DataFrame:
    """Purchase lines and production orders open at the cut-off, with receipt_month and is_late.

    supply_orders: supply_type ('purchase' | 'production'), order_id, line_no, supplier_id,
    sku, location_id, quantity, order_date, due_date, received_date, status.
    """
    cutoff = month_start(cycle_month)
    orders = supply_orders.copy()
    for column in ("order_date", "due_date", "received_date"):
        orders[column] = pd.to_datetime(orders[column])
    status = orders["status"].astype(str).str.lower()
    supply_type = orders["supply_type"].astype(str).str.lower()
    due_before_cutoff = orders["due_date"] < cutoff

    open_purchase = (
        (supply_type == "purchase")
        & (orders["order_date"] < cutoff)
        & (status != "cancelled")
        & (orders["received_date"].isna() | (orders["received_date"] >= cutoff))
    )
    open_production = (
        (supply_type == "production")
        & (orders["order_date"].isna() | (orders["order_date"] < cutoff))  # created by then
        & (((status != "cancelled") & (orders["due_date"] >= cutoff))
           | (status.isin(["planned", "released"]) & due_before_cutoff))
    )
    open_orders = orders[open_purchase | open_production].copy()
    is_late = open_orders["due_date"] < cutoff
    open_orders["receipt_month"] = month_starts(open_orders["due_date"])
    open_orders.loc[is_late, "receipt_month"] = cutoff
    open_orders["is_late"] = is_late.astype(bool)
    return open_orders.sort_values(
        ["receipt_month", "supply_type", "order_id", "line_no"], ignore_index=True
    )


def projection_receipts(scheduled: pd.DataFrame, plan: pd.DataFrame) -> pd.DataFrame:
    """Receipts of the projection: the open orders (scheduled: sku, location_id, month, qty)
    and the supply plan's planned production and purchases, each tagged with its kind."""
    planned = plan.assign(
        qty=plan["planned_production_qty"] + plan["planned_purchase_qty"], kind="planned")
    parts = [scheduled.assign(kind="scheduled"),
             planned[["sku", "location_id", "month", "qty", "kind"]]]
    return pd.concat([p for p in parts if len(p)] or parts, ignore_index=True)


def project_inventory(
    demand: pd.DataFrame,
    opening: pd.DataFrame,
    receipts: pd.DataFrame,
    months: Iterable[pd.Timestamp],
    safety: pd.DataFrame | None = None,
    excess_cover_days: float = EXCESS_COVER_DAYS,
    unmet: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Roll stock forward (closing = opening + receipts - (demand - unmet)) and rate it.

    One row per sku x location (union of demand, opening and receipts) x horizon month, in
    PROJECTION_COLUMNS. demand: sku, location_id, month, qty; receipts: the same plus an
    optional kind ('scheduled' | 'planned'); opening: sku, location_id, on_hand_qty; safety:
    sku, location_id, safety_stock_qty (e.g. safety_stock output); unmet: sku, location_id,
    month, qty (the supply plan's unmet demand).
    """
    horizon = distinct_months(months)
    keys = pd.concat([demand[SERIES_KEY], opening[SERIES_KEY], receipts[SERIES_KEY]])
    keys = keys.drop_duplicates()
    if not horizon or keys.empty:
        return _empty_projection()

    scheduled, planned = _split_receipts(receipts)
    grid = keys.merge(pd.DataFrame({"month": horizon}), how="cross")
    projection = (
        # left merges onto the horizon grid: rows outside the horizon months drop out here
        grid.merge(_monthly(scheduled, "scheduled_receipts_qty"), on=[*SERIES_KEY, "month"],
                   how="left")
        .merge(_monthly(planned, "planned_receipts_qty"), on=[*SERIES_KEY, "month"], how="left")
        .merge(_monthly(demand, "demand_qty"), on=[*SERIES_KEY, "month"], how="left")
        .merge(_monthly(unmet if unmet is not None else demand.iloc[0:0], "unmet_qty"),
               on=[*SERIES_KEY, "month"], how="left")
        .merge(_on_hand(opening), on=SERIES_KEY, how="left")
        .merge(_safety_stock_of(safety), on=SERIES_KEY, how="left")
        .fillna(
            {
                "scheduled_receipts_qty": 0.0,
                "planned_receipts_qty": 0.0,
                "demand_qty": 0.0,
                "unmet_qty": 0.0,
                "on_hand_qty": 0.0,
                "safety_stock_qty": 0.0,
            }
        )
        .sort_values([*SERIES_KEY, "month"], ignore_index=True)
    )
    projection["receipts_qty"] = (
        projection["scheduled_receipts_qty"] + projection["planned_receipts_qty"]
    )
    # The grid is complete and sorted, so each series is one row of a (series x month) matrix.
    shape = (-1, len(horizon))
    receipts_matrix = projection["receipts_qty"].to_numpy().reshape(shape)
    demand_matrix = projection["demand_qty"].to_numpy().reshape(shape)
    on_hand = projection["on_hand_qty"].to_numpy().reshape(shape)[:, 0]
    shipped = demand_matrix - projection["unmet_qty"].to_numpy().reshape(shape)
    opening_matrix, closing_matrix = _roll_forward(on_hand, receipts_matrix, shipped)
    projection["opening_qty"] = opening_matrix.ravel()
    projection["closing_qty"] = closing_matrix.ravel()
    projection["days_of_cover"] = days_of_cover(closing_matrix, demand_matrix).ravel()
    projection["status"] = _status(projection, excess_cover_days)
    return projection[PROJECTION_COLUMNS]


def _lead_time_months(lead_time_days: pd.Series) -> pd.Series:
    """Lead time in months, at least MIN_LEAD_TIME_MONTHS; 0 (or missing) days give 0."""
    days = lead_time_days.astype(float).fillna(0.0)
    months = (days / DAYS_PER_MONTH).clip(lower=MIN_LEAD_TIME_MONTHS)
    return months.where(days > 0, 0.0)


def _split_receipts(receipts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(scheduled, planned) receipts; no kind column or an empty kind means scheduled."""
    if "kind" not in receipts.columns:
        return receipts, receipts.iloc[0:0]
    kind = receipts["kind"].fillna("scheduled").astype(str).str.strip().str.lower()
    unknown = sorted(set(kind) - set(RECEIPT_KINDS))
    if unknown:
        raise ValueError(f"receipts kind must be 'scheduled' or 'planned', got {unknown}")
    return receipts[kind == "scheduled"], receipts[kind == "planned"]


def _roll_forward(
    on_hand: np.ndarray, receipts: np.ndarray, demand: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(opening, closing) matrices: closing = opening + receipts - demand in exactly that
    order, and each month's opening is the previous month's closing (no re-derivation)."""
    opening = np.empty_like(receipts)
    closing = np.empty_like(receipts)
    stock = on_hand
    for month in range(receipts.shape[1]):
        opening[:, month] = stock
        stock = stock + receipts[:, month] - demand[:, month]
        closing[:, month] = stock
    return opening, closing


def days_of_cover(closing: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """closing / mean daily demand of this and the next COVER_MONTHS - 1 horizon months;
    0 when closing <= 0, NaN when closing > 0 and no demand ahead."""
    months = demand.shape[1]
    ahead = np.column_stack(
        [demand[:, month : month + COVER_MONTHS].mean(axis=1) for month in range(months)]
    )
    daily = ahead / DAYS_PER_MONTH
    cover = np.divide(closing, daily, out=np.full_like(closing, np.nan), where=daily > 0)
    return np.where(closing <= 0, 0.0, cover)


def _status(projection: pd.DataFrame, excess_cover_days: float) -> np.ndarray:
    """stockout, below_safety_stock, excess or healthy: the first rule that holds."""
    closing = projection["closing_qty"]
    cover = projection["days_of_cover"]
    noise = tolerance(*(projection[column] for column in (
        "opening_qty", "receipts_qty", "demand_qty", "closing_qty", "safety_stock_qty")),
        absolute=QTY_TOLERANCE)
    excess = (cover > excess_cover_days) | ((closing > noise) & cover.isna())
    return np.select(
        [(closing < -noise) | (projection["unmet_qty"] > noise),
         closing < projection["safety_stock_qty"] - noise,
         excess],
        ["stockout", "below_safety_stock", "excess"],
        "healthy",
    )


def _monthly(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """qty summed per sku, location and month, renamed to `name`."""
    monthly = frame.assign(
        month=month_starts(frame["month"]),
        qty=frame["qty"].astype(float),
    )
    return monthly.groupby([*SERIES_KEY, "month"], as_index=False)["qty"].sum().rename(
        columns={"qty": name}
    )


def _on_hand(opening: pd.DataFrame) -> pd.DataFrame:
    """Opening stock summed per sku and location."""
    on_hand = opening.assign(on_hand_qty=opening["on_hand_qty"].astype(float))
    return on_hand.groupby(SERIES_KEY, as_index=False)["on_hand_qty"].sum()


def _safety_stock_of(safety: pd.DataFrame | None) -> pd.DataFrame:
    """safety_stock_qty per sku and location (the largest, should a series repeat)."""
    if safety is None:
        return pd.DataFrame(
            {"sku": pd.Series(dtype=object), "location_id": pd.Series(dtype=object),
             "safety_stock_qty": pd.Series(dtype=float)}
        )
    stock = safety.assign(safety_stock_qty=safety["safety_stock_qty"].astype(float))
    return stock.groupby(SERIES_KEY, as_index=False)["safety_stock_qty"].max()


def _empty_projection() -> pd.DataFrame:
    """The projection's columns with no rows."""
    return pd.DataFrame(
        {
            "sku": pd.Series(dtype=object),
            "location_id": pd.Series(dtype=object),
            "month": pd.Series(dtype="datetime64[ns]"),
            **{column: pd.Series(dtype=float) for column in _QTY_COLUMNS},
            "status": pd.Series(dtype=object),
        }
    )
