"""Smoke tests of benchmarks/intermittent_accuracy.py on a few Superstore series: the rows and
figures it prints, and the monthly series it builds. No timing is asserted.
"""

from __future__ import annotations

import re

from tests.benchmark_scripts import require_data, row, script

FIGURE = r"-?\d+\.\d+"



def _needs_data(module) -> None:
    require_data(module.SUPERSTORE_CSV.exists(),
                 f"Superstore data absent at {module.SUPERSTORE_CSV}")



def test_intermittent_accuracy_scores_the_engine_and_the_baselines(capsys):
    benchmark = script("intermittent_accuracy")
    _needs_data(benchmark)
    code = benchmark.main(["--series", "20", "--models", "seasonal_naive,croston_sba",
                        "--workers", "1"])
    output = capsys.readouterr().out

    assert code == 0
    assert re.search(r"9994 lines, \d+ product\|region series; \d+ with a sale before 2019-01 "
                     r"\(\d+ first sold in the holdout left out\), 20 kept", output)
    assert "holdout 2019-01..2019-12 (12 months)" in output
    assert re.search(r"\d+ of 20 series have demand in the holdout", output)
    assert re.search(rf"engine time: {FIGURE} s", output)
    # every model in the engine's forecast frame has a row, and the selected ones a count
    selected = re.search(r"selected: (.*) \(of 20 series", output)
    assert selected is not None
    chosen = dict(part.rsplit(" ", 1) for part in selected.group(1).split(", "))
    # seasonal naive on regular series, the rest on the sparse ones (window_average: few
    # demands, possibly obsolete, or too short to backtest)
    assert set(chosen) <= {"seasonal_naive", "croston_sba", "mean", "window_average"}
    assert sum(int(count) for count in chosen.values()) == 20
    for model, count in chosen.items():
        fields = row(output, model)
        assert fields[1] == "engine" and fields[3] == count
    # model, source, series, selected_by, rmsse, bias, wape, mean_fcst, mean_actual
    assert row(output, "selected")[1:4] == ["engine", "20", "20"]
    for baseline, source in (("mean_last_12", "script"), ("zero", "script"),
                             ("ADIDA", "statsforecast"), ("IMAPA", "statsforecast"),
                             ("TSB", "statsforecast")):
        fields = row(output, baseline)
        assert fields[1:4] == [source, "20", "<NA>"]
        rmsse, bias, wape, mean_fcst, mean_actual = map(float, fields[4:])
        assert rmsse >= 0 and wape >= 0 and bias >= -1 and mean_fcst >= 0 and mean_actual > 0
    zero = row(output, "zero")
    assert zero[5:7] == ["-1.000", "1.000"] and zero[7] == "0.000"
    assert "by the engine's choice: mean RMSSE | pooled bias" in output


def test_series_start_at_the_first_sale_and_run_dense_to_the_data_end():
    benchmark = script("intermittent_accuracy")
    _needs_data(benchmark)
    history, holdout, counts = benchmark.load_superstore(benchmark.SUPERSTORE_CSV, 40)

    assert counts["lines"] == 9994
    assert counts["kept"] + counts["launched_in_holdout"] == counts["series"]
    assert history["unique_id"].nunique() == 40 and history["ds"].max().strftime("%Y-%m") \
        == "2018-12"
    first = history.groupby("unique_id")["y"].first()
    assert (first > 0).all()  # no zero months before a series' launch
    months = holdout.groupby("unique_id")["ds"].agg(["size", "min"])
    assert (months["size"] == 12).all() and (months["min"] == "2019-01-01").all()
    from_start, _, _ = benchmark.load_superstore(benchmark.SUPERSTORE_CSV, 40, fill_from="data")
    assert (from_start.groupby("unique_id").size() == 36).all()


def test_intermittent_accuracy_skips_without_the_data(capsys, tmp_path):
    benchmark = script("intermittent_accuracy")
    assert benchmark.main(["--data", str(tmp_path / "superstore_orders.csv")]) == 0
    assert capsys.readouterr().out.startswith("SKIPPED: Superstore data not found")
