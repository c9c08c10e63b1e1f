"""Known events (plan/events) as a month-by-month uplift per sku.

An event names a sku or a family, its first and last month and an expected uplift_pct
(0.2 = +20 %). It is expanded to every month from start_month to end_month and to every sku
it names (a family event: every sku of the family). Two events on the same sku-month compound:
(1 + a) x (1 + b) - 1.

How the plan uses them:

- as a regressor of Prophet (the uplift_pct of each month) for every series whose history
  holds at least one event month: Prophet learns the effect from the past occurrences;
- as the stated uplift, event_qty = statistical_qty x uplift_pct in the consensus, for event
  months of every series whose selected forecast did not learn the event (any other model, or
  Prophet without past occurrences): a launch or a first promotion has no history to learn from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_pipeline.cycle import month_start

CALENDAR_COLUMNS = ["sku", "month", "uplift_pct", "event_names"]


def event_calendar(events: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """One row per sku x event month: sku, month, uplift_pct (compounded), event_names.

    events: name, start_month, end_month, sku, family, uplift_pct; items: sku, family.
    """
    if events.empty:
        return pd.DataFrame({"sku": pd.Series(dtype=object),
                             "month": pd.Series(dtype="datetime64[ns]"),
                             "uplift_pct": pd.Series(dtype=float),
                             "event_names": pd.Series(dtype=object)})
    rows = []
    for event in events.itertuples(index=False):
        months = pd.date_range(month_start(event.start_month), month_start(event.end_month),
                               freq="MS")
        if isinstance(event.sku, str) and event.sku:
            skus = [event.sku]
        else:
            skus = list(items.loc[items["family"] == event.family, "sku"])
        rows.append(pd.DataFrame({"sku": np.repeat(skus, len(months)),
                                  "month": np.tile(months, len(skus)),
                                  "factor": 1.0 + float(event.uplift_pct),
                                  "name": str(event.name)}))
    expanded = pd.concat(rows, ignore_index=True)
    calendar = expanded.groupby(["sku", "month"], as_index=False).agg(
        factor=("factor", "prod"), event_names=("name", lambda n: "; ".join(sorted(n))))
    calendar["uplift_pct"] = calendar["factor"] - 1.0
    return calendar[CALENDAR_COLUMNS]


def series_regressor(calendar: pd.DataFrame, series_ids: pd.Series) -> pd.DataFrame:
    """The calendar per series (unique_id "sku|location"): unique_id, ds, uplift_pct."""
    ids = pd.DataFrame({"unique_id": series_ids.drop_duplicates().astype(str)})
    ids["sku"] = ids["unique_id"].str.rpartition("|")[0]
    joined = ids.merge(calendar, on="sku")
    return joined.rename(columns={"month": "ds"})[["unique_id", "ds", "uplift_pct"]]


def learned_skus(calendar: pd.DataFrame, cycle_month: pd.Timestamp) -> set[str]:
    """Skus with at least one event month before the cut-off (a history to learn from)."""
    return set(calendar.loc[calendar["month"] < month_start(cycle_month), "sku"])


def stated_uplifts(calendar: pd.DataFrame, prophet_selected: pd.DataFrame,
                   statistical: pd.DataFrame, cycle_month: pd.Timestamp) -> pd.DataFrame:
    """Event cells whose stated uplift the consensus adds: every forecast cell in an event
    month, except series whose selected model is Prophet (prophet_selected: sku, location_id)
    and whose sku has past occurrences of an event to learn from."""
    learned = prophet_selected[prophet_selected["sku"].isin(learned_skus(calendar, cycle_month))]
    cells = statistical[["sku", "location_id", "month"]].merge(calendar, on=["sku", "month"])
    cells = cells.merge(learned.assign(_learned=True), on=["sku", "location_id"], how="left")
    return cells[cells["_learned"].isna()].drop(columns="_learned")
