"""What the demand stage's tables must hold before anything is planned from them:

- demand_forecast: no forecast is negative or empty; every series has exactly one selected
  model, and that model forecasts every horizon month once;
- forecast_accuracy: every series has exactly one selected model, and no error measure is
  negative;
- consensus_demand: consensus = statistical + event + crm_pipeline + override, clipped at 0,
  and consensus_value = consensus x unit_price, once per sku, location and month (to the
  tolerance of sop_pipeline.checks, relative to the components' magnitudes).

Each rule returns 'table: what: N row(s), e.g. ...' strings (sop_pipeline.checks), empty
when the table holds.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from sop_pipeline.checks import differs, problems_of, rows_problem
from sop_pipeline.tables import SERIES_KEY, SERIES_MONTH_KEY

ERROR_MEASURES = ("wape", "mase", "rmsse", "rmse")


def forecast_problems(forecast: pd.DataFrame, months: Iterable[pd.Timestamp],
                      series: pd.DataFrame | None = None) -> list[str]:
    """demand_forecast rows against the cycle's horizon `months`; `series` (sku, location_id,
    e.g. forecast_accuracy's) are the series that must have a forecast, else the forecast's."""
    qty = forecast["forecast_qty"].astype(float)
    problems = problems_of("demand_forecast", forecast, {
        "forecast_qty negative": qty < 0, "forecast_qty empty": qty.isna()})
    selected = forecast[forecast["is_selected"].astype(bool)]
    models = selected.groupby(SERIES_KEY)["model"].nunique().rename("selected_models")
    every = (forecast if series is None else series)[SERIES_KEY].drop_duplicates()
    counted = every.merge(models.reset_index(), on=SERIES_KEY, how="left").fillna(
        {"selected_models": 0})
    problems += problems_of("demand_forecast", counted, {
        "series without exactly one selected model": counted["selected_models"] != 1})
    horizon = pd.DataFrame({"month": pd.to_datetime(list(months))})
    expected = every.merge(horizon, how="cross")
    got = selected.assign(month=pd.to_datetime(selected["month"])).groupby(
        SERIES_MONTH_KEY).size().rename("forecasts").reset_index()
    cells = expected.merge(got, on=SERIES_MONTH_KEY, how="outer").fillna({"forecasts": 0})
    missing, doubled = cells["forecasts"] == 0, cells["forecasts"] > 1
    outside = ~cells["month"].isin(horizon["month"])
    if missing.any():
        problems.append(rows_problem("demand_forecast", "horizon month without a selected "
                                     "forecast", cells, missing, SERIES_MONTH_KEY))
    problems += problems_of("demand_forecast", cells, {
        "horizon month forecast more than once by the selected model": doubled,
        "selected forecast outside the horizon": outside & ~missing}, SERIES_MONTH_KEY)
    return problems


def accuracy_problems(accuracy: pd.DataFrame) -> list[str]:
    """forecast_accuracy rows: one selected model per series, no negative error measure."""
    selected = (accuracy.assign(selected=accuracy["is_selected"].astype(bool))
                .groupby(SERIES_KEY, as_index=False)["selected"].sum())
    problems = problems_of("forecast_accuracy", selected, {
        "series without exactly one selected model": selected["selected"] != 1})
    problems += problems_of("forecast_accuracy", accuracy, {
        f"{measure} negative": accuracy[measure].astype(float) < 0
        for measure in ERROR_MEASURES if measure in accuracy.columns
    }, [*SERIES_KEY, "model", *ERROR_MEASURES])
    return problems


def consensus_problems(consensus: pd.DataFrame) -> list[str]:
    """consensus_demand rows: the consensus is the sum of its components (module docstring)."""
    components = [consensus[column] for column in ("statistical_qty", "event_qty",
                                                   "crm_pipeline_qty", "override_qty")]
    parts = sum(components).clip(lower=0)
    shown = [*SERIES_MONTH_KEY, "statistical_qty", "event_qty", "crm_pipeline_qty",
             "override_qty", "consensus_qty", "unit_price", "consensus_value"]
    return problems_of("consensus_demand", consensus, {
        "consensus_qty != statistical + event + crm_pipeline + override (>= 0)":
            differs(consensus["consensus_qty"], parts, *components),
        "consensus_value != consensus_qty x unit_price":
            differs(consensus["consensus_value"],
                    consensus["consensus_qty"] * consensus["unit_price"]),
        "sku, location and month more than once":
            consensus.duplicated(SERIES_MONTH_KEY, keep=False),
    }, shown)
