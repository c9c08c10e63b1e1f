"""Consensus demand: the statistical forecast plus the weighted CRM pipeline, then overrides.

The consensus rule, per sku x location x horizon month:

- consensus = statistical + event uplift + weighted open pipeline. Open deals are demand on
  top of the statistical baseline: the baseline is built from order history and cannot know
  them. event_qty = statistical x the stated uplift_pct of known events (plan/events) the
  selected forecast did not learn from history (see sop_pipeline.demand.events).
- Then planner overrides (plan/overrides): an absolute `quantity` replaces that result, a
  `pct_change` scales it by (1 + pct_change). Consensus is never negative. How overrides are
  checked and split over cells: sop_pipeline.demand.overrides.
- override_qty = consensus - statistical - event - pipeline (0 where no override applies).

CRM pipeline, as of the cut-off (the first day of cycle_month):

- Deals count when open (status 'open') and last updated before the cut-off. The CRM extract
  holds only each deal's latest version, so a deal changed after the cut-off is left out: its
  state at the cut-off is unknown.
- weighted qty = quantity x probability; probability from the deal, else from its stage
  (DEFAULT_STAGE_PROBABILITY unless given; matched ignoring case), else 0; clipped to [0, 1].
- The weighted qty lands in the month of expected_close_date. An overdue open deal (expected
  close before the cycle month) still counts, in the cycle month. Months past the horizon drop.
- Deals carry no location: each sku-month is split across the sku's locations in proportion
  to the sku's statistical forecast per location over the whole horizon (equally when that
  forecast is all zero). A sku with no statistical forecast at all keeps its pipeline on a
  row with location_id None, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from sop_pipeline.cycle import distinct_months, month_start, month_starts
from sop_pipeline.demand.overrides import apply_overrides
from sop_pipeline.tables import OUTPUT_TABLES, SERIES_MONTH_KEY, nullable_text

DEFAULT_STAGE_PROBABILITY: dict[str, float] = {
    "prospecting": 0.1,
    "qualification": 0.25,
    "proposal": 0.5,
    "negotiation": 0.75,
}
PIPELINE_COLUMNS = ["sku", "location_id", "month", "crm_pipeline_qty"]
DEAL_COLUMNS = [
    "deal_id",
    "sku",
    "month",
    "quantity",
    "probability",
    "probability_source",
    "weighted_qty",
]
CONSENSUS_COLUMNS = OUTPUT_TABLES["consensus_demand"].stage_columns


def consensus_demand(
    statistical: pd.DataFrame,
    crm: pd.DataFrame,
    overrides: pd.DataFrame | None,
    items: pd.DataFrame,
    events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Statistical + events + CRM pipeline + overrides per sku x location x month, with value.

    statistical: sku, location_id, month, qty; crm: crm_pipeline output; items: sku, family,
    unit_price; events: sku, location_id, month, uplift_pct, event_names (the stated uplifts
    to apply). Pipeline cells without a statistical row are kept with statistical 0. A sku
    missing from items gets no family, price or value (NaN). Check overrides against the horizon
    and the location master first (validate_overrides); here only the other rules are checked.
    """
    statistical_qty = _summed(
        statistical.rename(columns={"qty": "statistical_qty"}), "statistical_qty"
    )
    pipeline_qty = _summed(crm, "crm_pipeline_qty")
    base = statistical_qty.merge(pipeline_qty, on=SERIES_MONTH_KEY, how="outer").fillna(
        {"statistical_qty": 0.0, "crm_pipeline_qty": 0.0}
    )
    base = _with_events(base, events)
    consensus = apply_overrides(base, overrides, items).merge(
        items[["sku", "family", "unit_price"]].drop_duplicates("sku"), on="sku", how="left"
    )
    consensus["unit_price"] = consensus["unit_price"].astype(float)
    consensus["consensus_value"] = consensus["consensus_qty"] * consensus["unit_price"]
    for column in ("location_id", "event_names"):
        consensus[column] = nullable_text(consensus[column])
    return consensus[CONSENSUS_COLUMNS].sort_values(SERIES_MONTH_KEY, ignore_index=True)


def crm_pipeline(
    deals: pd.DataFrame,
    cycle_month: pd.Timestamp,
    months: Iterable[pd.Timestamp],
    statistical: pd.DataFrame,
    stage_probability: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Probability-weighted open pipeline per sku x location x month of the horizon.

    Overdue open deals count in the cycle month; each sku-month is split across locations by
    the sku's statistical forecast share; a sku without any forecast gets location_id None.
    """
    horizon = distinct_months(months)
    by_deal = pipeline_by_deal(deals, cycle_month, horizon, stage_probability)
    pipeline = by_deal.groupby(["sku", "month"], as_index=False)["weighted_qty"].sum()
    split = pipeline.merge(_location_shares(statistical, horizon), on="sku", how="left")
    # A sku absent from the forecast has no location to split over: it keeps its whole qty.
    split["crm_pipeline_qty"] = split["weighted_qty"] * split["share"].fillna(1.0)
    split["location_id"] = nullable_text(split["location_id"])
    return split[PIPELINE_COLUMNS].sort_values(SERIES_MONTH_KEY, ignore_index=True)


def pipeline_by_deal(
    deals: pd.DataFrame,
    cycle_month: pd.Timestamp,
    months: Iterable[pd.Timestamp],
    stage_probability: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """The deals that make the pipeline, one row each with its month and weighted qty (audit).

    probability_source says where the probability came from: 'deal', 'stage' or 'none' (0).
    """
    cutoff = month_start(cycle_month)
    if stage_probability is None:
        stage_probability = DEFAULT_STAGE_PROBABILITY
    stages = {
        str(stage).strip().lower(): float(probability)
        for stage, probability in stage_probability.items()
    }
    status = deals["status"].astype(str).str.strip().str.lower()
    updated_at = pd.to_datetime(deals["updated_at"])
    open_deals = deals[(status == "open") & (updated_at < cutoff)].copy()

    deal_probability = pd.to_numeric(open_deals["probability"], errors="coerce")
    stage = open_deals["stage"].astype("string").str.strip().str.lower()
    stage_based = stage.map(stages).astype(float)
    open_deals["probability_source"] = np.select(
        [deal_probability.notna(), stage_based.notna()], ["deal", "stage"], default="none"
    )
    open_deals["probability"] = (
        deal_probability.fillna(stage_based).fillna(0.0).clip(lower=0.0, upper=1.0)
    )
    open_deals["quantity"] = open_deals["quantity"].astype(float)
    open_deals["weighted_qty"] = open_deals["quantity"] * open_deals["probability"]
    close_month = month_starts(open_deals["expected_close_date"])
    open_deals["month"] = close_month.where(close_month >= cutoff, cutoff)
    in_horizon = open_deals["month"].isin(distinct_months(months))
    return open_deals.loc[in_horizon, DEAL_COLUMNS].sort_values(
        ["month", "sku", "deal_id"], ignore_index=True
    )


# --- helpers -------------------------------------------------------------------------------------


def _location_shares(statistical: pd.DataFrame, horizon: list[pd.Timestamp]) -> pd.DataFrame:
    """Each sku's share of its horizon forecast per location (equal when the sku sums to 0)."""
    forecast = statistical.assign(
        month=month_starts(statistical["month"]), qty=statistical["qty"].astype(float)
    )
    forecast = forecast[forecast["month"].isin(horizon)]
    per_location = forecast.groupby(["sku", "location_id"], as_index=False)["qty"].sum()
    per_location["qty"] = per_location["qty"].clip(lower=0.0)
    by_sku = per_location.groupby("sku")["qty"]
    total, count = by_sku.transform("sum"), by_sku.transform("size")
    per_location["share"] = np.where(
        total > 0, per_location["qty"] / total.where(total > 0), 1.0 / count
    )
    return per_location[["sku", "location_id", "share"]]


def _with_events(base: pd.DataFrame, events: pd.DataFrame | None) -> pd.DataFrame:
    """base plus event_qty = statistical_qty x uplift_pct and event_names, per cell."""
    if events is None or events.empty:
        return base.assign(event_qty=0.0, event_names=None)
    cells = events.assign(month=month_starts(events["month"]))[
        [*SERIES_MONTH_KEY, "uplift_pct", "event_names"]]
    merged = base.merge(cells, on=SERIES_MONTH_KEY, how="left")
    merged["event_qty"] = merged["statistical_qty"] * merged["uplift_pct"].fillna(0.0)
    merged["event_names"] = nullable_text(merged["event_names"])
    return merged.drop(columns="uplift_pct")


def _summed(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """`name` summed per sku, location and month; rows without a location are kept."""
    monthly = frame.assign(month=month_starts(frame["month"]), **{name: frame[name].astype(float)})
    return monthly.groupby(SERIES_MONTH_KEY, as_index=False, dropna=False)[name].sum()
