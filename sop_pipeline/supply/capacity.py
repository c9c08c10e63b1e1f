"""Rough-cut capacity plan: hours each work centre needs per month against the hours it has.

- required_hours = consensus demand x routing hours_per_unit, summed per work centre and
  month: the load if every unit were made in the month it is sold (unconstrained);
- committed_hours = the hours open production orders hold (committed_hours below): an order
  open at the cut-off (sop_pipeline.supply.inventory.open_supply_at_cutoff: not cancelled, not
  completed before the cut-off; the orders the plan counts as scheduled receipts) loads its
  quantity x hours_per_unit on each centre of its routing in the month it is due (a late one
  in the cut-off's month); months outside the horizon are not shown;
- planned_hours = the supply plan's production x hours_per_unit: the load the constrained
  plan schedules in the hours the open orders leave (it builds ahead of peaks, and committed
  + planned never exceed available + overtime);
- available_hours: the work-centre calendar's hours for that month where it has a row
  (shutdowns, holidays, overtime), else the centre's normal available_hours_per_month;
- utilisation = required / available (what the demand needs); planned_utilisation =
  (committed + planned) / available (what the plant is booked for); overload_hours =
  required - available when positive (nan utilisation when a centre has no hours);
- top_skus: the TOP_SKUS skus with the most required hours on the centre that month, as text.

Skus without a routing load nothing; routing steps on work centres missing from work_centers
are ignored (the extract contract rejects such references upstream).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_pipeline.tables import OUTPUT_TABLES, nullable_text

TOP_SKUS = 3
CAPACITY_COLUMNS = OUTPUT_TABLES["capacity_plan"].stage_columns


def available_hours(
    work_centers: pd.DataFrame, months: pd.Series, calendar: pd.DataFrame | None = None
) -> pd.DataFrame:
    """work_center_id, month, available_hours: the calendar's month where given, else normal.

    work_centers: work_center_id, available_hours_per_month; calendar: work_center_id, month,
    available_hours.
    """
    grid = pd.MultiIndex.from_product(
        [work_centers["work_center_id"].drop_duplicates(),
         pd.to_datetime(months).drop_duplicates().sort_values()],
        names=["work_center_id", "month"],
    ).to_frame(index=False)
    hours = grid.merge(work_centers[["work_center_id", "available_hours_per_month"]],
                       on="work_center_id", how="left")
    hours["available_hours"] = hours.pop("available_hours_per_month").astype(float)
    if calendar is not None and len(calendar):
        special = calendar.assign(month=pd.to_datetime(calendar["month"]))[
            ["work_center_id", "month", "available_hours"]]
        hours = hours.merge(special, on=["work_center_id", "month"], how="left",
                            suffixes=("", "_calendar"))
        hours["available_hours"] = hours.pop("available_hours_calendar").fillna(
            hours["available_hours"])
    hours["available_hours"] = hours["available_hours"].fillna(0.0)
    return hours


def committed_hours(open_orders: pd.DataFrame, routings: pd.DataFrame) -> pd.DataFrame:
    """work_center_id, month, committed_hours: the routing hours of the open production orders
    (open_supply_at_cutoff rows) in their receipt month (module docstring)."""
    production = open_orders[open_orders["supply_type"].astype(str).str.lower() == "production"]
    hours = _sku_hours(production.rename(columns={"receipt_month": "month",
                                                  "quantity": "qty"})[["sku", "month", "qty"]],
                       routings)
    return (hours.groupby(["work_center_id", "month"], as_index=False)["hours"].sum()
            .rename(columns={"hours": "committed_hours"}))


def capacity_plan(
    demand: pd.DataFrame,
    routings: pd.DataFrame,
    work_centers: pd.DataFrame,
    calendar: pd.DataFrame | None = None,
    planned: pd.DataFrame | None = None,
    committed: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per work centre x demand month: required, planned and available hours.

    demand and planned (the supply plan's production): sku, month, qty (other columns such as
    location_id are summed over); routings: sku, work_center_id, hours_per_unit; work_centers:
    work_center_id, available_hours_per_month; calendar: work_center_id, month, available_hours;
    committed: work_center_id, month, committed_hours (committed_hours; none: 0).
    """
    months = pd.to_datetime(demand["month"]).drop_duplicates()
    if work_centers.empty or months.empty:
        return _empty_plan()

    required = _sku_hours(demand, routings)
    plan = available_hours(work_centers, months, calendar).merge(
        required.groupby(["work_center_id", "month"], as_index=False)["hours"].sum()
        .rename(columns={"hours": "required_hours"}),
        on=["work_center_id", "month"], how="left")
    if planned is not None:
        load = _sku_hours(planned, routings).groupby(["work_center_id", "month"],
                                                     as_index=False)["hours"].sum()
        plan = plan.merge(load.rename(columns={"hours": "planned_hours"}),
                          on=["work_center_id", "month"], how="left")
    else:
        plan["planned_hours"] = np.nan
    if committed is not None and len(committed):
        plan = plan.merge(committed.assign(month=pd.to_datetime(committed["month"])).groupby(
            ["work_center_id", "month"], as_index=False)["committed_hours"].sum(),
            on=["work_center_id", "month"], how="left")
    else:
        plan["committed_hours"] = 0.0
    plan["committed_hours"] = plan["committed_hours"].fillna(0.0).astype(float)
    plan = plan.merge(_top_skus(required), on=["work_center_id", "month"], how="left")
    plan["required_hours"] = plan["required_hours"].fillna(0.0).astype(float)
    if planned is not None:
        plan["planned_hours"] = plan["planned_hours"].fillna(0.0).astype(float)
    hours = plan["available_hours"].replace(0.0, np.nan)
    plan["utilisation"] = plan["required_hours"] / hours
    plan["planned_utilisation"] = (plan["committed_hours"] + plan["planned_hours"]) / hours
    plan["overload_hours"] = (plan["required_hours"] - plan["available_hours"]).clip(lower=0.0)
    plan["top_skus"] = nullable_text(plan["top_skus"])
    return plan.sort_values(["work_center_id", "month"], ignore_index=True)[CAPACITY_COLUMNS]


def _sku_hours(quantities: pd.DataFrame, routings: pd.DataFrame) -> pd.DataFrame:
    """Hours per sku, work centre and month: qty x hours_per_unit."""
    monthly = (
        quantities.assign(month=pd.to_datetime(quantities["month"]),
                          qty=quantities["qty"].astype(float))
        .groupby(["sku", "month"], as_index=False)["qty"]
        .sum()
    )
    steps = monthly.merge(routings[["sku", "work_center_id", "hours_per_unit"]], on="sku")
    steps["hours"] = steps["qty"] * steps["hours_per_unit"].astype(float)
    return steps[["sku", "work_center_id", "month", "hours"]]


def _top_skus(hours: pd.DataFrame) -> pd.DataFrame:
    """'BIK-001 (120 h), BIK-003 (80 h)': the skus loading each centre-month most."""
    loaded = hours[hours["hours"] > 0].sort_values(
        ["work_center_id", "month", "hours", "sku"], ascending=[True, True, False, True])
    top = loaded.groupby(["work_center_id", "month"]).head(TOP_SKUS)
    text = top.assign(label=top["sku"] + " (" + top["hours"].round(0).map("{:,.0f}".format)
                      + " h)")
    return text.groupby(["work_center_id", "month"], as_index=False)["label"].agg(
        ", ".join).rename(columns={"label": "top_skus"})


def _empty_plan() -> pd.DataFrame:
    """The plan's columns with no rows, typed like a full plan."""
    return pd.DataFrame(
        {
            "work_center_id": pd.Series(dtype=object),
            "month": pd.Series(dtype="datetime64[ns]"),
            **{column: pd.Series(dtype=float) for column in CAPACITY_COLUMNS[2:-1]},
            "top_skus": pd.Series(dtype=object),
        }
    )
