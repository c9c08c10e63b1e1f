"""Smoke tests of the benchmark scripts on tiny inputs: the rows and figures they print.

No timing is asserted: the machine is shared and the figures are for reading, not gating.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from sop_pipeline.demand.candidates import Backtest, run_batch
from sop_pipeline.demand.forecast import ForecastSettings, forecast_demand
from tests.benchmark_scripts import FIGURE, require_data, row, script


def test_pbs_accuracy_scores_every_model_and_the_selection(capsys):
    pbs = script("pbs_accuracy")
    require_data(pbs.PBS_CSV.exists(), f"PBS data absent at {pbs.PBS_CSV}")
    code = pbs.main(["--series", "6", "--models", "seasonal_naive,auto_ets", "--workers", "1",
                     "--plain-prophet-series", "2"])
    output = capsys.readouterr().out

    assert code == 0
    assert "PBS scripts: 6 series kept of 336" in output
    assert "(192 months), holdout 12 months" in output
    selected_by = 0
    for model in ("seasonal_naive", "auto_ets"):
        _, series, chosen, wape, mean_mase, median_mase, _ = row(output, model)
        assert series == "6" and 0 < float(wape) < 1
        assert float(mean_mase) > 0 and float(median_mase) > 0
        selected_by += int(chosen)
    assert selected_by == 6
    assert row(output, "selected")[1:3] == ["6", "6"]
    assert re.search(rf"plain Prophet\(\)\s+2\s+<NA>\s+{FIGURE}", output)
    assert re.search(rf"selected vs seasonal naive on its 6 series: WAPE {FIGURE} vs {FIGURE}",
                     output)
    assert re.search(rf"selected vs AutoETS on its \d+ series: WAPE {FIGURE} vs {FIGURE}", output)
    assert "target (selected below seasonal naive and at or below AutoETS)" in output
    assert re.search(rf"auto_ets +\d+ series, .* of volume: holdout {FIGURE} vs {FIGURE}", output)


def test_the_benchmark_scores_with_the_code_behind_the_stored_backtest_figures():
    # 30 months: 12 before the first origin (the lag-1 MASE scale); 36: seasonal; 48: 6 origins
    rng = np.random.default_rng(4)
    season = np.array([50, 60, 80, 120, 160, 200, 210, 180, 130, 90, 60, 50], dtype=float)
    history = pd.concat([
        pd.DataFrame({"unique_id": f"S{n}|L", "y": np.tile(season, 4)[:n] + rng.normal(0, 20, n),
                      "ds": pd.date_range(end="2026-09-01", periods=n, freq="MS")})
        for n in (30, 36, 48)
    ], ignore_index=True)
    settings = ForecastSettings(models=("seasonal_naive",))
    _, accuracy = forecast_demand(history, settings)

    # each series with the backtest the engine gives its length (6 origins for 48 months)
    parts = []
    for _, series in history.groupby("unique_id"):
        backtest = Backtest().for_length(len(series))
        _, errors = run_batch(series, settings.models, settings.horizon, backtest, frozenset())
        insample = series.iloc[:len(series) - backtest.first_origin()]
        parts.append(script("pbs_accuracy").series_scores(
            errors.assign(qty=errors["qty"].clip(lower=0)), insample))
    benchmark = pd.concat(parts, ignore_index=True)

    columns = ["wape", "mase", "bias", "rmse"]
    stored = accuracy.set_index(["unique_id", "model"])[columns]
    pd.testing.assert_frame_equal(benchmark.set_index(["unique_id", "model"])[columns], stored,
                                  check_exact=True)
    assert stored.notna().all().all()


def test_pbs_accuracy_skips_without_the_data(capsys, tmp_path):
    pbs = script("pbs_accuracy")
    assert pbs.main(["--data", str(tmp_path / "PBS_monthly.csv")]) == 0
    assert capsys.readouterr().out.startswith("SKIPPED: PBS data not found")


def test_forecast_speed_prints_throughput_memory_and_the_plain_loop(capsys):
    speed = script("forecast_speed")
    code = speed.main(["--series", "10", "--plain-series", "2", "--workers", "1",
                       "--prophet-max-series", "2"])
    output = capsys.readouterr().out

    assert code == 0
    assert output.startswith("series: 10 from generated demo company")
    assert re.search(rf"engine, models seasonal_naive,\S*prophet\S*: {FIGURE} s, "
                     rf"{FIGURE} series/s", output)
    assert re.search(rf"statsforecast models only .*: {FIGURE} s, {FIGURE} series/s", output)
    assert re.search(rf"=> \S*prophet\S* stage ~ -?{FIGURE} s", output)
    assert "issue target 10,000 series" in output
    assert re.search(r"peak memory \(ru_maxrss\): this process \d+ MiB", output)
    assert re.search(r"peak memory \(sampled sum of RSS.*\): [1-9]\d* MiB", output)
    assert re.search(rf"plain loop .*: 2 series in {FIGURE} s", output)
    assert re.search(rf"ratio engine/plain loop \(series per second\): {FIGURE}x", output)


def test_monthly_demand_is_dense_zero_filled_and_skips_cancelled_lines():
    speed = script("forecast_speed")
    orders = pd.DataFrame({
        "order_date": pd.to_datetime(["2025-01-15", "2025-01-20", "2025-03-03", "2025-02-10",
                                      "2025-04-30"]),
        "sku": ["A", "A", "A", "B", "B"],
        "location_id": ["L1", "L1", "L1", "L1", "L1"],
        "quantity": [3, 2, 4, 7, 5],
        "status": ["invoiced", None, "Shipped", "open", "cancelled"],
    })
    history = speed.monthly_demand(orders)

    by_series = {uid: list(part["y"]) for uid, part in history.groupby("unique_id")}
    # every series runs to April, the extract's last month (a cancelled line still counts there)
    assert by_series == {"A|L1": [5.0, 0.0, 4.0, 0.0], "B|L1": [7.0, 0.0, 0.0]}
    assert history["ds"].min() == pd.Timestamp("2025-01-01")
