"""Rough-cut capacity plan: hours each work centre needs per month against the hours it has.

Load = demand quantity x routing hours_per_unit, summed per work centre and month. Skus
without a routing load nothing; routing steps on work centres missing from work_centers are
ignored (the extract contract rejects such references upstream).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CAPACITY_COLUMNS = [
    "work_center_id",
    "month",
    "required_hours",
    "available_hours",
    "utilisation",
    "overload_hours",
]


def capacity_plan(
    demand: pd.DataFrame, routings: pd.DataFrame, work_centers: pd.DataFrame
) -> pd.DataFrame:
    """One row per work centre x demand month: required vs available hours and the overload.

    demand: sku, month, qty (other columns such as location_id are summed over); routings:
    sku, work_center_id, hours_per_unit; work_centers: work_center_id, available_hours_per_month.
    """
    months = pd.to_datetime(demand["month"]).drop_duplicates().sort_values()
    if work_centers.empty or months.empty:
        return _empty_plan()

    grid = pd.MultiIndex.from_product(
        [work_centers["work_center_id"].drop_duplicates(), months],
        names=["work_center_id", "month"],
    ).to_frame(index=False)
    load = _required_hours(demand, routings)
    plan = grid.merge(load, on=["work_center_id", "month"], how="left").merge(
        work_centers[["work_center_id", "available_hours_per_month"]],
        on="work_center_id",
        how="left",
    )
    plan["required_hours"] = plan["required_hours"].fillna(0.0).astype(float)
    plan["available_hours"] = plan["available_hours_per_month"].fillna(0.0).astype(float)
    plan["utilisation"] = plan["required_hours"] / plan["available_hours"].replace(0.0, np.nan)
    plan["overload_hours"] = (plan["required_hours"] - plan["available_hours"]).clip(lower=0.0)
    return plan.sort_values(["work_center_id", "month"], ignore_index=True)[CAPACITY_COLUMNS]


def _required_hours(demand: pd.DataFrame, routings: pd.DataFrame) -> pd.DataFrame:
    """Hours per work centre and month: sum over skus of qty x hours_per_unit."""
    monthly = (
        demand.assign(month=pd.to_datetime(demand["month"]), qty=demand["qty"].astype(float))
        .groupby(["sku", "month"], as_index=False)["qty"]
        .sum()
    )
    steps = monthly.merge(routings[["sku", "work_center_id", "hours_per_unit"]], on="sku")
    steps["hours_per_unit"] = steps["hours_per_unit"].astype(float)
    steps["required_hours"] = steps["qty"] * steps["hours_per_unit"]
    return steps.groupby(["work_center_id", "month"], as_index=False)["required_hours"].sum()


def _empty_plan() -> pd.DataFrame:
    """The plan's columns with no rows, typed like a full plan."""
    return pd.DataFrame(
        {
            "work_center_id": pd.Series(dtype=object),
            "month": pd.Series(dtype="datetime64[ns]"),
            **{column: pd.Series(dtype=float) for column in CAPACITY_COLUMNS[2:]},
        }
    )
