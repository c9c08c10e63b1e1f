"""Candidate models on one batch of series: rolling-origin backtest, then the final forecast.

Backtest: `windows` origins `step` months apart, each forecasting `backtest_horizon` months;
the last origin ends `backtest_horizon` months before the end of the history. Every candidate
is scored on the same windows. By default (`Backtest.refit=False`) the statsforecast models
with a forward step (the last flag of STATSFORECAST_MODELS) are fitted at the first origin and
carried forward to the later ones (parameters kept, states updated with the new months), as a
planner would between model reviews; the others and Prophet refit at every origin; the
final forecast always comes from a fresh fit on the whole history. statsforecast models run
vectorised over the batch; Prophet runs per series and only where it is allowed
(`prophet_ids`).

Combinations (`COMBINATIONS`): `ensemble_median`, the month-by-month median of AutoETS, AutoCES
and DynamicOptimizedTheta, for regular demand; `intermittent_mean`, the mean of ADIDA, IMAPA,
TSB and the 12-month window average, for intermittent demand. Both are backtested on the same
windows as their members, like any other candidate.

Intervals (80 % and 95 %): the model's own where it has them (seasonal naive, AutoETS,
AutoTheta, Prophet's 80 %), otherwise the empirical quantiles of the model's absolute backtest
errors for that series (Croston SBA, the ensemble, Prophet's 95 %).

Prophet's changepoint and seasonality priors are chosen once per cycle by backtest on a
sample of the largest series (`choose_prophet_priors`) and used for every Prophet series.
Known events (`events`: unique_id, ds, uplift_pct; see sop_pipeline.demand.events) are a
multiplicative regressor of Prophet in every fit whose training months hold an event.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from sop_pipeline.demand.metrics import SEASON_LENGTH, wape

os.environ.setdefault("NIXTLA_ID_AS_COL", "1")

logger = logging.getLogger(__name__)

LEVELS = (80, 95)
PROPHET_SAMPLES = 300
PROPHET_SEED = 0
EVENT_REGRESSOR = "uplift_pct"
# (changepoint_prior_scale, seasonality_prior_scale) tried per cycle; the first is Prophet's
# default. A stiffer or a more flexible trend, and a damped seasonality.
PROPHET_PRIORS: tuple[tuple[float, float], ...] = ((0.05, 10.0), (0.5, 10.0), (0.01, 10.0),
                                                   (0.05, 1.0))

# name in our tables → (statsforecast class name, constructor kwargs, own intervals, has a
# forward step: carried to later backtest origins without a refit)
STATSFORECAST_MODELS: dict[str, tuple[str, dict, bool, bool]] = {
    "seasonal_naive": ("SeasonalNaive", {"season_length": SEASON_LENGTH}, True, True),
    # no damped trends: half the model search, and no less accurate on PBS (WAPE 0.0962 vs
    # 0.0963 with them; benchmarks/README.md)
    "auto_ets": ("AutoETS", {"season_length": SEASON_LENGTH, "damped": False}, True, True),
    "auto_theta": ("AutoTheta", {"season_length": SEASON_LENGTH}, True, True),
    "dynamic_theta": ("DynamicOptimizedTheta", {"season_length": SEASON_LENGTH}, True, True),
    # AutoCES's own intervals cost 20x its fit (341 vs 16 ms a series): residual ones instead
    "auto_ces": ("AutoCES", {"season_length": SEASON_LENGTH}, False, True),
    # intermittent demand: methods that need few demands, and Croston for series with enough
    "croston_sba": ("CrostonSBA", {}, False, False),
    "adida": ("ADIDA", {}, False, False),
    "imapa": ("IMAPA", {}, False, False),
    "tsb": ("TSB", {"alpha_d": 0.1, "alpha_p": 0.1}, False, False),
    "window_average": ("WindowAverage", {"window_size": 12}, False, False),
}
# Combinations, backtested like any other candidate: name → (members, how they combine).
# Regular demand: the median of three model families (exponential smoothing, complex
# exponential smoothing, theta), as in SCUM (Petropoulos & Svetunkov, 2020); intermittent:
# the mean of the demand-rate methods.
COMBINATIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "ensemble_median": (("auto_ets", "auto_ces", "dynamic_theta"), "median"),
    "intermittent_mean": (("adida", "imapa", "tsb", "window_average"), "mean"),
}
ALL_MODELS = (*STATSFORECAST_MODELS, "prophet", *COMBINATIONS)
# Who is fitted on what (forecast.py routes each series by its demand class).
REGULAR_MODELS = ("seasonal_naive", "auto_ets", "auto_theta", "dynamic_theta", "auto_ces",
                  "prophet", "ensemble_median")
INTERMITTENT_MODELS = ("seasonal_naive", "croston_sba", "adida", "imapa", "tsb",
                       "window_average", "intermittent_mean")


@dataclass(frozen=True)
class Backtest:
    """Where the rolling origins are: windows x backtest_horizon months, `step` apart."""

    windows: int = 3
    step: int = 3
    horizon: int = 12
    # False: statsforecast models with a forward step (seasonal naive, AutoETS, AutoTheta,
    # DynamicOptimizedTheta, AutoCES) are fitted at the first origin only and carried to the
    # later ones with their parameters kept and their states updated. The intermittent-demand
    # methods and Prophet refit.
    refit: bool = False
    # Series long enough get this many origins instead: more windows, less noise in the
    # choice of a model (the scores of 3 overlapping windows follow noise).
    max_windows: int = 6

    def min_months(self) -> int:
        """History needed to backtest: a full season before the first origin."""
        return SEASON_LENGTH + self.horizon + (self.windows - 1) * self.step

    def first_origin(self) -> int:
        """Months from the first backtest origin to the end of the history."""
        return self.horizon + (self.windows - 1) * self.step

    def for_length(self, months: int) -> Backtest:
        """The backtest a series of `months` gets: max_windows origins where it has room."""
        longer = replace(self, windows=max(self.windows, self.max_windows))
        return longer if months >= longer.min_months() else self


def run_batch(
    history: pd.DataFrame,
    models: tuple[str, ...],
    horizon: int,
    backtest: Backtest,
    prophet_ids: frozenset[str],
    prophet_priors: tuple[float, float] = PROPHET_PRIORS[0],
    events: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(forecast, errors) for every series of a batch that is long enough to backtest.

    forecast: unique_id, ds, model, qty, lower_80, upper_80, lower_95, upper_95.
    errors: unique_id, model, window, ds, y, qty (the backtest forecasts and actuals).
    """
    _quiet()
    sf_models = [m for m in models if m in STATSFORECAST_MODELS]
    forecasts, errors = [], []
    if sf_models:
        f, e = _statsforecast(history, sf_models, horizon, backtest)
        forecasts.append(f)
        errors.append(e)
    if "prophet" in models:
        uplifts = {} if events is None else {
            str(unique_id): frame.set_index("ds")["uplift_pct"]
            for unique_id, frame in events.groupby("unique_id")}
        for unique_id, series in history[history["unique_id"].isin(prophet_ids)].groupby(
            "unique_id"
        ):
            f, e = _prophet_series(str(unique_id), series, horizon, backtest, prophet_priors,
                                   uplifts.get(str(unique_id)))
            forecasts.append(f)
            errors.append(e)
    forecast = pd.concat(forecasts, ignore_index=True)
    error_frame = pd.concat(errors, ignore_index=True)
    for name, (members, how) in COMBINATIONS.items():
        if name in models:
            combined, combined_errors = _combination(forecast, error_frame, name, members, how)
            forecast = pd.concat([forecast, combined], ignore_index=True)
            error_frame = pd.concat([error_frame, combined_errors], ignore_index=True)
    return _residual_intervals(forecast, error_frame), error_frame


def _combination(forecast: pd.DataFrame, errors: pd.DataFrame, name: str,
                 members: tuple[str, ...], how: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The members' median or mean, month by month, in the backtest and in the forecast."""
    fitted = forecast[forecast["model"].isin(members)]
    combined = (fitted.groupby(["unique_id", "ds"], as_index=False)["qty"].agg(how)
                .assign(model=name, **{f"{side}_{level}": np.nan for level in LEVELS
                                       for side in ("lower", "upper")}))
    backtest = (errors[errors["model"].isin(members)]
                .groupby(["unique_id", "window", "ds"], as_index=False)
                .agg(y=("y", "first"), qty=("qty", how))
                .assign(model=name))
    return combined, backtest


def naive_forecast(history: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Seasonal naive with its own intervals and no backtest (series too short to judge)."""
    _quiet()
    forecast, _ = _statsforecast(history, ["seasonal_naive"], horizon, None)
    return forecast


def _statsforecast(
    history: pd.DataFrame, names: list[str], horizon: int, backtest: Backtest | None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    from statsforecast import StatsForecast, models  # deferred: numba compiles on import

    def build(own_intervals: bool, forward: bool) -> list:
        return [
            getattr(models, cls)(alias=name, **kwargs)
            for name, (cls, kwargs, own, steps) in STATSFORECAST_MODELS.items()
            if name in names and (own, steps) == (own_intervals, forward)
        ]

    forecasts, errors = [], []
    for own_intervals, forward in ((True, True), (False, True), (False, False)):
        candidates = build(own_intervals, forward)
        if not candidates:
            continue
        sf = StatsForecast(models=candidates, freq="MS", n_jobs=1)
        if backtest is not None:
            # a model without a forward step refits at every origin
            cv = sf.cross_validation(df=history, h=backtest.horizon, n_windows=backtest.windows,
                                     step_size=backtest.step, refit=backtest.refit or not forward)
            errors.append(_long_errors(cv, [m.alias for m in candidates]))
        levels = list(LEVELS) if own_intervals else None
        forecasts.append(_long_forecast(
            sf.forecast(df=history, h=horizon, level=levels), [m.alias for m in candidates]
        ))
    return (pd.concat(forecasts, ignore_index=True),
            pd.concat(errors, ignore_index=True) if errors else None)


def _long_errors(cv: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    cv = cv.assign(window=cv.groupby("unique_id")["cutoff"].rank(method="dense").astype(int) - 1)
    long = cv.melt(id_vars=["unique_id", "ds", "window", "y"], value_vars=names,
                   var_name="model", value_name="qty")
    return long[["unique_id", "model", "window", "ds", "y", "qty"]]


def _long_forecast(wide: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    frames = []
    for name in names:
        frame = wide[["unique_id", "ds"]].assign(model=name, qty=wide[name].to_numpy())
        for level in LEVELS:
            for side, tag in (("lower", "lo"), ("upper", "hi")):
                column = f"{name}-{tag}-{level}"
                frame[f"{side}_{level}"] = wide[column].to_numpy() if column in wide else np.nan
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def choose_prophet_priors(history: pd.DataFrame, backtest: Backtest) -> tuple[float, float]:
    """The (changepoint, seasonality) prior pair with the lowest pooled backtest WAPE.

    Forecasts are clipped at 0 as in the backtest scores; a sample without demand in its
    windows (no WAPE) keeps Prophet's default priors.
    """
    _quiet()
    scores = {}
    for priors in PROPHET_PRIORS:
        errors = pd.concat([
            prophet_backtest(str(unique_id), series, backtest, priors)
            for unique_id, series in history.groupby("unique_id")
        ])
        scores[priors] = wape(errors["y"], errors["qty"].clip(lower=0))
    return min(PROPHET_PRIORS, key=lambda priors: np.nan_to_num(scores[priors], nan=np.inf))


def prophet_backtest(
    unique_id: str, series: pd.DataFrame, backtest: Backtest, priors: tuple[float, float],
    uplift: np.ndarray | None = None,
) -> pd.DataFrame:
    """Prophet's forecasts and the actuals at every backtest origin of one series.

    uplift: the event regressor over the series' months (None: no events).
    """
    ds, y = series["ds"].reset_index(drop=True), series["y"].to_numpy(dtype=float)
    errors = []
    for window in range(backtest.windows):
        end = len(y) - backtest.horizon - (backtest.windows - 1 - window) * backtest.step
        window_uplift = None if uplift is None else uplift[:end + backtest.horizon]
        qty, _, _ = _prophet(ds[:end], y[:end], backtest.horizon, 0, priors, window_uplift)
        errors.append(pd.DataFrame({
            "unique_id": unique_id, "model": "prophet", "window": window,
            "ds": ds[end:end + backtest.horizon].to_numpy(), "y": y[end:end + backtest.horizon],
            "qty": qty,
        }))
    return pd.concat(errors, ignore_index=True)


def _prophet_series(
    unique_id: str, series: pd.DataFrame, horizon: int, backtest: Backtest,
    priors: tuple[float, float], events: pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Prophet on one series: one fit per backtest origin, then the final fit with intervals.

    events: uplift_pct indexed by month (None: no events for this series).
    """
    ds, y = series["ds"].reset_index(drop=True), series["y"].to_numpy(dtype=float)
    future = pd.date_range(ds.iloc[-1] + pd.offsets.MonthBegin(1), periods=horizon, freq="MS")
    uplift = None if events is None else (
        events.reindex(ds.tolist() + list(future), fill_value=0.0).to_numpy(dtype=float))
    errors = prophet_backtest(unique_id, series, backtest, priors, uplift)
    qty, lower, upper = _prophet(ds, y, horizon, PROPHET_SAMPLES, priors, uplift)
    forecast = pd.DataFrame({
        "unique_id": unique_id, "ds": future, "model": "prophet", "qty": qty,
        "lower_80": lower, "upper_80": upper, "lower_95": np.nan, "upper_95": np.nan,
    })
    return forecast, errors


def _prophet(ds: pd.Series, y: np.ndarray, horizon: int, samples: int,
             priors: tuple[float, float] = PROPHET_PRIORS[0],
             uplift: np.ndarray | None = None,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prophet for monthly business data: yearly seasonality only, seeded 80 % interval.

    uplift: event regressor over ds then the horizon; used when the training months hold one.
    """
    from prophet import Prophet

    _quiet()
    changepoint_prior, seasonality_prior = priors
    model = Prophet(yearly_seasonality=True, weekly_seasonality=False, daily_seasonality=False,
                    interval_width=0.8, uncertainty_samples=samples,
                    changepoint_prior_scale=changepoint_prior,
                    seasonality_prior_scale=seasonality_prior)
    train = pd.DataFrame({"ds": ds.to_numpy(), "y": y})
    future = pd.DataFrame({"ds": pd.date_range(ds.iloc[-1] + pd.offsets.MonthBegin(1),
                                                periods=horizon, freq="MS")})
    if uplift is not None and np.any(uplift[:len(ds)]):
        model.add_regressor(EVENT_REGRESSOR, mode="multiplicative")
        train[EVENT_REGRESSOR] = uplift[:len(ds)]
        future[EVENT_REGRESSOR] = uplift[len(ds):len(ds) + horizon]
    # L-BFGS, not prophet's small-data default Newton: same fit, far faster on short series.
    model.fit(train, algorithm="LBFGS")
    state = np.random.get_state()
    np.random.seed(PROPHET_SEED)  # prophet samples its interval from numpy's global generator
    try:
        prediction = model.predict(future)
    finally:
        np.random.set_state(state)
    qty = prediction["yhat"].to_numpy()
    if not samples:
        return qty, qty, qty
    return qty, prediction["yhat_lower"].to_numpy(), prediction["yhat_upper"].to_numpy()


def _residual_intervals(forecast: pd.DataFrame, errors: pd.DataFrame) -> pd.DataFrame:
    """Fill missing interval bounds with quantiles of the series' absolute backtest errors."""
    abs_error = (errors["y"] - errors["qty"]).abs()
    spread = (
        errors.assign(abs_error=abs_error)
        .groupby(["unique_id", "model"])["abs_error"]
        .quantile([level / 100 for level in LEVELS])
        .unstack()
        .set_axis([f"q{level}" for level in LEVELS], axis=1)
        .reset_index()
    )
    merged = forecast.merge(spread, on=["unique_id", "model"], how="left")
    for level in LEVELS:
        half = merged[f"q{level}"]
        merged[f"lower_{level}"] = merged[f"lower_{level}"].fillna(merged["qty"] - half)
        merged[f"upper_{level}"] = merged[f"upper_{level}"].fillna(merged["qty"] + half)
    return merged.drop(columns=[f"q{level}" for level in LEVELS])


def _quiet() -> None:
    """Silence cmdstanpy's per-fit lines and prophet's chatter (importing prophet resets it)."""
    import prophet  # noqa: F401

    logging.getLogger("cmdstanpy").disabled = True
    logging.getLogger("prophet").setLevel(logging.ERROR)
