"""Demand forecast per series: candidate models judged by rolling-origin backtest.

A series is one sku x location in long format `unique_id, ds, y` (monthly, month-start `ds`,
zeros present); its id is `series_id(sku, location_id)` = "sku|location_id".

Rules, per series of n months (see the constants and `ForecastSettings` for the numbers); each
series' class comes from sop_pipeline.demand.classification:

- Regular demand (smooth, erratic), n >= backtest.min_months(): seasonal naive, AutoETS,
  DynamicOptimizedTheta (AutoTheta on request), AutoCES, Prophet (only with two full years
  before the first origin, for the `prophet_max_series` series with the most volume over the last 12
  months: it costs ~0.1 s a fit) and `ensemble_median` (the median of AutoETS, AutoCES and
  DynamicOptimizedTheta) are backtested; series long enough get `max_windows` (6) origins,
  the others `windows` (3). The combination is selected: on M3 and PBS, switching a series
  to the single model with the best backtest score lost accuracy at every margin tried
  (benchmarks/README.md). Scores: WAPE + |bias| for regular series, RMSSE + |bias| for
  intermittent ones; they choose where no combination was fitted.
- Intermittent demand (intermittent, lumpy): ADIDA, IMAPA, TSB, the 12-month window average
  and `intermittent_mean` (their mean), plus Croston SBA for series with at least
  MIN_CROSTON_DEMANDS months with demand; seasonal naive is fitted as the FVA baseline but
  never selected.
- Fewer than MIN_DEMANDS months with demand, or `possibly_obsolete` (no demand in the last
  12 months): the 12-month window average, whatever scored better.
- Bias: the backtest bias, and whether it has the same sign in every window, is kept per
  series (and shown by family); it is reported, not acted on (selection.BIAS_LIMIT).
- 12 <= n < backtest.min_months(): too short to judge: seasonal naive (window average for
  sparse demand), unscored; n < 12 or an all-zero history: the mean of the last up-to-6
  months (up-to-12 for sparse demand), unscored.
- forecast value added (fva) = seasonal naive's WAPE minus the model's, on the same windows:
  positive when the model beats the naive baseline. `selection_rule` says which rule chose.
- Every value is clipped at 0 and ordered lower_95 <= lower_80 <= qty <= upper_80 <= upper_95.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np
import pandas as pd

from sop_pipeline.demand.candidates import (
    ALL_MODELS,
    INTERMITTENT_MODELS,
    LEVELS,
    PROPHET_PRIORS,
    REGULAR_MODELS,
    SEASON_LENGTH,
    Backtest,
    choose_prophet_priors,
    naive_forecast,
    run_batch,
)
from sop_pipeline.demand.classification import INTERMITTENT_CLASSES, classify
from sop_pipeline.demand.selection import (
    ACCURACY_COLUMNS,
    FORECAST_COLUMNS,
    score_backtests,
    select_models,
)
from sop_pipeline.engine import Engine, Task, label_of, run_tasks

logger = logging.getLogger(__name__)

# the flat averages: `mean` for short regular histories, the 12-month `window_average`
# (the statsforecast WindowAverage of the backtest) for sparse ones
AVERAGE_WINDOWS = {"mean": 6, "window_average": 12}
BATCHES_PER_WORKER = 4
PROPHET_EXTRA_MONTHS = 12  # Prophet wants two full years before its first backtest origin
PRIOR_SAMPLE_SERIES = 6  # series that choose Prophet's priors each cycle (4 x 3 fits each)
REGULAR_CLASSES = ("smooth", "erratic")
MIN_DEMANDS = 3  # fewer months with demand: the 12-month window average, no model
MIN_CROSTON_DEMANDS = 6  # Croston-type methods estimate an interval: several demands needed
WINDOW_MODELS = ("seasonal_naive", "window_average")  # fitted where a rule picks the average


# AutoTheta is available but not fitted by default: the combination holds its sibling
# DynamicOptimizedTheta, the combination is what is selected, and it costs ~30 ms a series.
DEFAULT_MODELS = tuple(m for m in ALL_MODELS if m != "auto_theta")


@dataclass(frozen=True)
class ForecastSettings:
    """What to forecast and how to judge it; the defaults suit monthly S&OP data."""

    horizon: int = 18
    models: tuple[str, ...] = DEFAULT_MODELS
    backtest: Backtest = field(default_factory=Backtest)
    prophet_max_series: int = 300
    workers: int = 1  # processes of the local engine
    engine: Engine = field(default_factory=Engine)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.models) - set(ALL_MODELS))
        if unknown or "seasonal_naive" not in self.models:
            raise ValueError(f"models must include seasonal_naive and be among {ALL_MODELS}, "
                             f"got {self.models}")
        if self.horizon < 1 or self.workers < 1:
            raise ValueError("horizon and workers must be at least 1")


def series_id(sku: str, location_id: str) -> str:
    """The unique_id of one sku x location series: "sku|location_id"."""
    return f"{sku}|{location_id}"


def split_series_id(unique_id: str) -> tuple[str, str]:
    """Back from a unique_id to (sku, location_id); the last "|" separates them."""
    sku, separator, location_id = unique_id.rpartition("|")
    if not separator:
        raise ValueError(f"not a sku|location_id series id: {unique_id!r}")
    return sku, location_id


def with_sku_location(frame: pd.DataFrame) -> pd.DataFrame:
    """`unique_id` replaced by its sku and location_id columns."""
    ids = frame["unique_id"].drop_duplicates()
    parts = pd.DataFrame([split_series_id(u) for u in ids], columns=["sku", "location_id"],
                         index=ids.to_numpy())
    return frame.join(parts, on="unique_id").drop(columns="unique_id")


def forecast_demand(
    history: pd.DataFrame,
    settings: ForecastSettings | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    events: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Forecast every series with every eligible model, backtest them and select one each.

    Returns (forecast, accuracy) with FORECAST_COLUMNS and ACCURACY_COLUMNS. Batches of
    series run on settings.engine (locally: a process pool when settings.workers > 1; Spark
    or Dask: a task per batch); a batch that fails raises TaskFailed naming the series that
    fail; on_progress(done, total)
    follows the series as batches finish (and each step is logged at DEBUG with `series_done`
    and `series_total` attributes, for a progress bar that cannot reach the callback). events
    (unique_id, ds, uplift_pct; past and future months) is Prophet's event regressor. Warnings
    the models raise (statsforecast's RuntimeWarnings) are logged once each with their count,
    not printed per fit.
    """
    settings = settings or ForecastSettings()
    history = _clean_history(history)
    stats = classify(history)
    if stats.empty:
        return pd.DataFrame(columns=FORECAST_COLUMNS), pd.DataFrame(columns=ACCURACY_COLUMNS)
    routes = _routes(stats, settings)
    stats["rule"] = routes["rule"]
    ids = routes.groupby(["kind", "models"]).groups
    forecasts = []
    for (kind, models), group in ids.items():
        part = history[history["unique_id"].isin(group)]
        if kind == "average":
            forecasts.append(_average_forecast(part, settings.horizon, models[0]))
        elif kind == "naive":
            forecasts.append(naive_forecast(part, settings.horizon))
    judged = routes[routes["kind"] == "judged"]
    scores = []
    if len(judged):
        regular = judged.index[judged["rule"] == "scored"]
        regular = regular[stats.loc[regular, "demand_class"].isin(REGULAR_CLASSES)]
        largest = _prophet_ids(history, regular, settings)
        priors = PROPHET_PRIORS[0]
        if largest:
            sample = history[history["unique_id"].isin(largest[:PRIOR_SAMPLE_SERIES])]
            priors = choose_prophet_priors(sample, settings.backtest)
            logger.info("prophet priors (changepoint, seasonality) chosen by backtest: %s",
                        priors)
        batches = judged.groupby(["models", "backtest"], sort=False).groups
        groups = [(history[history["unique_id"].isin(group)], models, backtest)
                  for (models, backtest), group in batches.items()]
        for forecast, scored in _run_batches(groups, settings, (frozenset(largest), priors),
                                             events, on_progress, len(stats)):
            forecasts.append(forecast)
            scores.append(scored)
    else:
        _report_progress(on_progress, len(stats), len(stats))
    forecast = _clip(pd.concat([f for f in forecasts if len(f)], ignore_index=True))
    scores = [scored for scored in scores if len(scored)]
    scored = (pd.concat(scores, ignore_index=True) if scores
              else score_backtests(None, history, judged["backtest"]))
    return select_models(forecast, scored, stats)


def _routes(stats: pd.DataFrame, settings: ForecastSettings) -> pd.DataFrame:
    """Per series: kind (average, naive, judged), the models to fit, the backtest, the rule.

    See the module docstring for the rules; `rule` is what selection starts from ("scored":
    the backtest decides).
    """
    min_months = settings.backtest.min_months()
    regular_models = tuple(m for m in settings.models if m in REGULAR_MODELS)
    intermittent_models = tuple(m for m in settings.models if m in INTERMITTENT_MODELS)
    without_croston = tuple(m for m in intermittent_models if m != "croston_sba")
    rows = {}
    for unique_id, series in stats.iterrows():
        sparse_rule = _rule_for_few(series)
        sparse = sparse_rule is not None or series["demand_class"] in INTERMITTENT_CLASSES
        if series["n"] < SEASON_LENGTH or series["total"] <= 0:
            rows[unique_id] = ("average", ("window_average" if sparse else "mean",), None,
                               sparse_rule or "short_history")
        elif series["n"] < min_months:
            rows[unique_id] = (("average", ("window_average",)) if sparse
                               else ("naive", ("seasonal_naive",))) + (
                None, sparse_rule or "too_short_to_backtest")
        else:
            if sparse_rule is not None:
                models = WINDOW_MODELS
            elif sparse:
                models = (intermittent_models if series["demands"] >= MIN_CROSTON_DEMANDS
                          else without_croston)
            else:
                models = regular_models
            rows[unique_id] = ("judged", models, settings.backtest.for_length(series["n"]),
                               sparse_rule or "scored")
    return pd.DataFrame.from_dict(rows, orient="index",
                                  columns=["kind", "models", "backtest", "rule"])


def _rule_for_few(series: pd.Series) -> str | None:
    """possibly_obsolete or few_demands where a series gets the window average, else None."""
    if series["possibly_obsolete"]:
        return "possibly_obsolete"
    if 0 < series["demands"] < MIN_DEMANDS:
        return "few_demands"
    return None


def _run_batches(
    groups: list[tuple[pd.DataFrame, tuple[str, ...], Backtest]], settings: ForecastSettings,
    prophet: tuple[frozenset[str], tuple[float, float]], events: pd.DataFrame | None,
    on_progress: Callable[[int, int], None] | None, total: int,
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Yield (forecast, scores) per batch, as the engine finishes them (sop_pipeline.engine:
    in this process, a spawn process pool, Spark or Dask).

    groups: (history, candidate models, backtest) triples; each group's series are split
    into batches. prophet: the series Prophet may try and its priors.
    """
    series = sum(history["unique_id"].nunique() for history, _, _ in groups)
    done = total - series
    slots = settings.engine.slots(settings.workers)
    tasks = [Task(label_of("series", batch["unique_id"].unique()),
                  (batch, models, settings.horizon, backtest, *prophet,
                   None if events is None else
                   events[events["unique_id"].isin(batch["unique_id"])]),
                  size=batch["unique_id"].nunique())
             for history, models, backtest in groups
             for batch in _batches(history, series, slots)]
    caught: Counter[tuple[str, str, str]] = Counter()
    for task, (result, batch_warnings) in run_tasks(settings.engine, fit_batch, tasks,
                                                    settings.workers):
        caught.update(batch_warnings)
        done += task.size
        _report_progress(on_progress, done, total)
        yield result
    for (category, message, where), count in caught.items():
        logger.warning("%s raised %d times while fitting: %s (%s)", category, count, message,
                       where)


def fit_batch(*job) -> tuple[tuple[pd.DataFrame, pd.DataFrame], Counter[tuple[str, str, str]]]:
    """The engines' task: run_batch and its backtests scored (forecast, scores), with the
    warnings raised counted by (category, message, file:line) instead of printed (in a worker
    they would reach no log). When the batch fails, each of its series is fitted alone to
    name the ones that fail.

    Scores are per series, so a batch at a time gives the scores of all at once; the backtest
    errors (a row per series, model, window and month: 36 to 72 rows per score) stay in the
    task."""
    batch, _, _, backtest, *_ = job
    with warnings.catch_warnings(record=True) as raised:
        warnings.simplefilter("always")
        try:
            forecast, errors = run_batch(*job)
        except Exception as exc:
            raise ForecastError(f"forecast failed for series {_failing_series(job)}: "
                                f"{type(exc).__name__}: {exc}") from exc
        scored = score_backtests(errors, batch,
                                 pd.Series(backtest, index=batch["unique_id"].unique()))
    return (forecast, scored), Counter(
        (w.category.__name__, str(w.message), f"{os.path.basename(w.filename)}:{w.lineno}")
        for w in raised)


class ForecastError(ValueError):
    """A batch of series could not be forecast; the message names the series that fail."""


def _failing_series(job: tuple) -> list[str]:
    """The series of a failed batch that fail when fitted on their own."""
    history, *rest = job
    failing = []
    for unique_id, series in history.groupby("unique_id", sort=True):
        try:
            run_batch(series, *rest)
        except Exception:
            failing.append(str(unique_id))
    return failing


def _report_progress(on_progress: Callable[[int, int], None] | None, done: int,
                     total: int) -> None:
    """The callback, and a DEBUG record carrying the counts for listeners of this logger."""
    if on_progress is not None:
        on_progress(done, total)
    logger.debug("forecast: %d of %d series done", done, total,
                 extra={"series_done": done, "series_total": total})


def _prophet_ids(history: pd.DataFrame, regular: pd.Index, settings: ForecastSettings
                 ) -> list[str]:
    """The series Prophet may try, largest recent volume first: long enough, and the largest."""
    if "prophet" not in settings.models:
        return []
    candidates = history[history["unique_id"].isin(regular)]
    length = candidates.groupby("unique_id").size()
    long_enough = length.index[length >= settings.backtest.min_months() + PROPHET_EXTRA_MONTHS]
    recent = (candidates[candidates["unique_id"].isin(long_enough)]
              .groupby("unique_id")["y"].apply(lambda y: y.iloc[-12:].sum()))
    return list(recent.nlargest(settings.prophet_max_series).index)


def _average_forecast(history: pd.DataFrame, horizon: int, model: str) -> pd.DataFrame:
    """Flat mean of the last AVERAGE_WINDOWS[model] months (fewer when the history is
    shorter), +/- z times their standard deviation."""
    window_months = AVERAGE_WINDOWS[model]
    rows = []
    for unique_id, series in history.groupby("unique_id"):
        window = series["y"].to_numpy()[-window_months:]
        future = pd.date_range(series["ds"].iloc[-1] + pd.offsets.MonthBegin(1),
                               periods=horizon, freq="MS")
        frame = pd.DataFrame({"unique_id": unique_id, "ds": future, "model": model,
                              "qty": window.mean()})
        for level in LEVELS:
            half = NormalDist().inv_cdf(0.5 + level / 200) * window.std()
            frame[f"lower_{level}"] = frame["qty"] - half
            frame[f"upper_{level}"] = frame["qty"] + half
        rows.append(frame)
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=FORECAST_COLUMNS)


def _clip(forecast: pd.DataFrame) -> pd.DataFrame:
    """Non-negative and nested: lower_95 <= lower_80 <= qty <= upper_80 <= upper_95."""
    out = forecast.copy()
    out["qty"] = out["qty"].clip(lower=0)
    out["lower_80"] = np.minimum(out["lower_80"], out["qty"]).clip(lower=0)
    out["upper_80"] = np.maximum(out["upper_80"], out["qty"])
    out["lower_95"] = np.minimum(out["lower_95"], out["lower_80"]).clip(lower=0)
    out["upper_95"] = np.maximum(out["upper_95"], out["upper_80"])
    return out


def _batches(history: pd.DataFrame, total: int, slots: int) -> Iterator[pd.DataFrame]:
    """Whole series grouped into about BATCHES_PER_WORKER batches per slot of the engine."""
    batch_size = max(1, math.ceil(total / (slots * BATCHES_PER_WORKER)))
    codes, _ = pd.factorize(history["unique_id"], sort=True)
    for _, batch in history.groupby(codes // batch_size, sort=True):
        yield batch


def _clean_history(history: pd.DataFrame) -> pd.DataFrame:
    """Typed, sorted copy of the history; rejects missing columns, nan, duplicate or gaps."""
    missing = {"unique_id", "ds", "y"} - set(history.columns)
    if missing:
        raise ValueError(f"history lacks columns {sorted(missing)}")
    clean = history[["unique_id", "ds", "y"]].copy()
    clean["unique_id"] = clean["unique_id"].astype(str)
    clean["ds"] = pd.to_datetime(clean["ds"])
    clean["y"] = clean["y"].astype(float)
    if clean["y"].isna().any():
        raise ValueError(f"history has {int(clean['y'].isna().sum())} rows with y = nan")
    duplicated = clean.duplicated(["unique_id", "ds"])
    if duplicated.any():
        raise ValueError(f"history has {int(duplicated.sum())} duplicate (unique_id, ds) rows")
    span = clean.groupby("unique_id")["ds"].agg(["min", "max", "size"])
    months = (span["max"].dt.year - span["min"].dt.year) * 12 + (
        span["max"].dt.month - span["min"].dt.month
    ) + 1
    gapped = span.index[months != span["size"]]
    if len(gapped):
        raise ValueError(
            f"history must be dense monthly (zeros included): {len(gapped)} series miss months, "
            f"e.g. {list(gapped[:3])}"
        )
    return clean.sort_values(["unique_id", "ds"], ignore_index=True)
