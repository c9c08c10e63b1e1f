"""The value each demand step adds (FVA stairstep), and how the plan moved since last cycle.

Stairstep: every earlier cycle's plan of the month that just closed, read at each step of the
consensus: seasonal naive -> statistical (the selected forecast) -> + events -> + CRM
pipeline -> + planner overrides (= consensus_qty), scored against the actual per family and
lag (and family 'all') with the waterfall's rules (sop_pipeline.review.variance): lag = months
from the forecasting cycle to the target month, a series without an actual counts 0, WAPE =
sum |f - a| / sum a, bias = sum(f - a) / sum a (sop_pipeline.demand.metrics). fva = the
previous step's WAPE minus this step's; fva_vs_naive = seasonal naive's WAPE minus this one's.

Every step is scored over the same sku-location-months, the rows of that cycle's
consensus_demand for the month, so the steps add up:

- A series with no seasonal naive forecast (under 12 months of history, or a row the
  consensus created) takes its statistical forecast as its naive step: no value is claimed
  for a baseline that was never there.
- A row without location (the CRM pipeline of a sku that had no forecast series: deals carry
  no location) is the plan of the sku anywhere: it is compared with the sku's actual at every
  location that cycle had no row of the sku for (a new sku's first sales).

By author: for step overrides, one row per override_author (author 'unknown' where the
override named none) over the rows that author changed (override_qty != 0): the forecast
before the override (the crm_pipeline step) against after, on those rows only, so fva =
before - after tells whose overrides helped. Other rows carry author 'all'.

Plan drift: this cycle's consensus against the previous cycle's for the months both plan, per
family and month (and family 'all'), in units and value.
"""

from __future__ import annotations

import pandas as pd

from sop_pipeline.cycle import month_start, month_starts
from sop_pipeline.demand.metrics import fva, scores
from sop_pipeline.review.variance import ALL_FAMILIES, _months_between
from sop_pipeline.tables import OUTPUT_TABLES, SERIES_KEY

# Each step and the consensus_demand column (or naive forecast) it reads, in stairstep order.
STEPS = ("seasonal_naive", "statistical", "events", "crm_pipeline", "overrides")
ALL_AUTHORS = "all"
UNKNOWN_AUTHOR = "unknown"
STAIRSTEP_COLUMNS = OUTPUT_TABLES["variance_fva_stairstep"].stage_columns
DRIFT_COLUMNS = OUTPUT_TABLES["variance_plan_drift"].stage_columns
DETAIL_KEY = ["forecast_cycle", *SERIES_KEY]


def fva_stairstep(
    consensus: pd.DataFrame, naive: pd.DataFrame, actuals: pd.DataFrame,
    target_month: pd.Timestamp,
) -> pd.DataFrame:
    """The stairstep of target_month: one row per family, lag, step and author.

    consensus: consensus_demand rows of earlier cycles (cycle_month, sku, location_id, family,
    month, statistical_qty, event_qty, crm_pipeline_qty, consensus_qty, override_qty,
    override_author); naive: cycle_month, sku, location_id, month, qty (seasonal naive);
    actuals: sku, location_id, month, qty.
    """
    detail = stairstep_detail(consensus, naive, actuals, target_month)
    if detail.empty:
        return pd.DataFrame(columns=STAIRSTEP_COLUMNS)
    table = _scored(detail.assign(author=ALL_AUTHORS), list(STEPS))
    overridden = detail[detail["override_qty"] != 0]
    if not overridden.empty:
        by_author = _scored(overridden.assign(author=overridden["override_author"]),
                            ["seasonal_naive", "crm_pipeline", "overrides"])
        table = pd.concat([table, by_author[by_author["step"] == "overrides"]],
                          ignore_index=True)
    table["target_month"] = month_start(target_month)
    table["step_order"] = table["step"].map({step: i for i, step in enumerate(STEPS, 1)})
    return table.sort_values(["family", "lag", "step_order", "author"],
                             ignore_index=True)[STAIRSTEP_COLUMNS]


def stairstep_detail(
    consensus: pd.DataFrame, naive: pd.DataFrame, actuals: pd.DataFrame,
    target_month: pd.Timestamp,
) -> pd.DataFrame:
    """One row per forecasting cycle and series of target_month: each step's forecast (a
    column per step), the actual, lag, family, override_qty and override_author."""
    target = month_start(target_month)
    made = _of_target(consensus, target)
    if made.empty:
        return pd.DataFrame(columns=[*DETAIL_KEY, "family", "lag", *STEPS, "actual_qty",
                                     "override_qty", "override_author"])
    naive = _of_target(naive, target).groupby(DETAIL_KEY, as_index=False)["qty"].sum()
    detail = made.merge(naive.rename(columns={"qty": "naive_qty"}), on=DETAIL_KEY, how="left")
    # Cycles written before a component existed hold it empty: it added nothing then.
    parts = detail[["statistical_qty", "event_qty", "crm_pipeline_qty"]].astype(float).fillna(0.0)
    detail = detail.assign(
        statistical=parts["statistical_qty"],
        events=parts["statistical_qty"] + parts["event_qty"],
        crm_pipeline=parts.sum(axis=1),
        overrides=detail["consensus_qty"].astype(float),
        override_qty=detail["override_qty"].astype(float).fillna(0.0),
        override_author=_author(detail["override_author"]),
        lag=_months_between(detail["forecast_cycle"], target).astype(int),
    )
    detail["seasonal_naive"] = detail["naive_qty"].astype(float).fillna(detail["statistical"])
    actual = _of_target(actuals, target).groupby(SERIES_KEY, as_index=False)["qty"].sum()
    detail = _with_actuals(detail, actual.rename(columns={"qty": "actual_qty"}))
    return detail[[*DETAIL_KEY, "family", "lag", *STEPS, "actual_qty", "override_qty",
                   "override_author"]].sort_values(["lag", *SERIES_KEY], ignore_index=True)


def plan_drift(current: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """This cycle's consensus against the previous cycle's, per family and month both plan.

    current, previous: consensus_demand rows (family, month, consensus_qty, consensus_value)
    of this cycle and of the one before. A family planned by one cycle only counts 0 in the
    other; change_pct is empty where the previous plan was 0.
    """
    now, before = _family_months(current), _family_months(previous)
    common = set(now["month"]) & set(before["month"])
    drift = now[now["month"].isin(common)].merge(
        before[before["month"].isin(common)], on=["family", "month"], how="outer",
        suffixes=("", "_previous"))
    drift = drift.rename(columns={
        "consensus_qty_previous": "previous_qty", "consensus_value_previous": "previous_value"})
    amounts = ["previous_qty", "consensus_qty", "previous_value", "consensus_value"]
    drift[amounts] = drift[amounts].fillna(0.0)
    total = drift.groupby("month", as_index=False)[amounts].sum().assign(family=ALL_FAMILIES)
    # A sku missing from the items has no family: it counts in 'all' only, as in the waterfall.
    drift = pd.concat([drift[drift["family"].notna()], total], ignore_index=True)
    drift["change_qty"] = drift["consensus_qty"] - drift["previous_qty"]
    drift["change_pct"] = drift["change_qty"] / drift["previous_qty"].where(
        drift["previous_qty"] != 0)
    drift["change_value"] = drift["consensus_value"] - drift["previous_value"]
    return drift.sort_values(["family", "month"], ignore_index=True)[DRIFT_COLUMNS]


def _of_target(frame: pd.DataFrame, target: pd.Timestamp) -> pd.DataFrame:
    """The rows of month `target`, made by a cycle no later than it (when the frame has
    cycle_month, renamed forecast_cycle)."""
    frame = frame.assign(month=month_starts(frame["month"]))
    frame = frame[frame["month"] == target]
    if "cycle_month" not in frame:
        return frame
    frame = frame.assign(cycle_month=month_starts(frame["cycle_month"]))
    return frame[frame["cycle_month"] <= target].rename(columns={"cycle_month": "forecast_cycle"})


def _author(authors: pd.Series) -> pd.Series:
    """Each override's author, UNKNOWN_AUTHOR where it is missing or blank."""
    named = authors.astype(object).where(authors.notna(), "").astype(str).str.strip()
    return named.where(named != "", UNKNOWN_AUTHOR)


def _with_actuals(detail: pd.DataFrame, actual: pd.DataFrame) -> pd.DataFrame:
    """detail with actual_qty: its own series' actual, and for a row without location the
    sku's actual at the locations that cycle had no row of the sku for; 0 when none."""
    located = detail[detail["location_id"].notna()].merge(actual, on=SERIES_KEY, how="left")
    unlocated = detail[detail["location_id"].isna()]
    if not unlocated.empty:
        elsewhere = unlocated[["forecast_cycle", "sku"]].merge(actual, on="sku").merge(
            located[DETAIL_KEY], on=DETAIL_KEY, how="left", indicator=True)
        elsewhere = (elsewhere[elsewhere["_merge"] == "left_only"]
                     .groupby(["forecast_cycle", "sku"], as_index=False)["actual_qty"].sum())
        unlocated = unlocated.merge(elsewhere, on=["forecast_cycle", "sku"], how="left")
    both = pd.concat([located, unlocated], ignore_index=True)
    both["actual_qty"] = both["actual_qty"].fillna(0.0).astype(float)
    return both


def _scored(detail: pd.DataFrame, steps: list[str]) -> pd.DataFrame:
    """WAPE, bias, fva and fva_vs_naive of each of `steps` (in stairstep order) per family
    (and 'all'), lag and author, over the rows of detail."""
    rows = pd.concat([detail, detail.assign(family=ALL_FAMILIES)], ignore_index=True)
    long = rows.melt(id_vars=["family", "lag", "author", "actual_qty"], value_vars=steps,
                     var_name="step", value_name="forecast_qty")
    keys = ["family", "lag", "author", "step"]
    sums = long.groupby(keys, as_index=False).agg(
        series=("actual_qty", "size"), forecast_qty=("forecast_qty", "sum"),
        actual_qty=("actual_qty", "sum"))
    table = sums.merge(scores(long, keys, actual="actual_qty", forecast="forecast_qty")[
        [*keys, "wape", "bias"]], on=keys)
    table["step"] = pd.Categorical(table["step"], categories=steps, ordered=True)
    table = table.sort_values(keys, ignore_index=True)
    wape = table.groupby(keys[:-1], observed=True)["wape"]
    table["fva"] = fva(wape.shift(1), table["wape"])
    table["fva_vs_naive"] = fva(wape.transform("first"), table["wape"])
    table["step"] = table["step"].astype(str)
    return table


def _family_months(frame: pd.DataFrame) -> pd.DataFrame:
    """consensus_qty and consensus_value summed per family and month."""
    frame = frame.assign(month=month_starts(frame["month"]))
    summed = frame.groupby(["family", "month"], as_index=False, dropna=False)[
        ["consensus_qty", "consensus_value"]].sum()
    return summed.astype({"consensus_qty": float, "consensus_value": float})

