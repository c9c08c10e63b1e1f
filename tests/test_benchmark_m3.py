"""Smoke tests of benchmarks/m3_accuracy.py: the rows it prints on a few M3 series, and the
published scores of the competition's forecasts that its loading and scoring reproduce.

No timing is asserted: the machine is shared and the figures are for reading, not gating.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from tests.benchmark_scripts import FIGURE, require_data, row, script


@pytest.fixture
def m3():
    """The script, or a skip (a failure in CI) when the M3 data is absent."""
    m3_script = script("m3_accuracy")
    missing = [n for n in (m3_script.SERIES_CSV, m3_script.COMPETITORS_CSV)
               if not (m3_script.M3_DIR / n).exists()]
    require_data(not missing, f"M3 data absent: {', '.join(missing)} not in {m3_script.M3_DIR}")
    return m3_script



def test_m3_accuracy_scores_every_model_the_selection_and_the_competitors(m3, capsys):
    code = m3.main(["--series", "4", "--models", "seasonal_naive,auto_ets", "--workers", "1"])
    output = capsys.readouterr().out

    assert code == 0
    assert "M3 monthly: 4 series of 1428 (" in output
    assert re.search(rf"engine time: {FIGURE} s \({FIGURE} series/s\)", output)
    selected_by = 0
    for model in ("seasonal_naive", "auto_ets"):
        _, series, chosen, smape, mase, wape, bias = row(output, model)
        assert series == "4" and 0 < float(smape) < 200 and float(mase) > 0
        assert 0 < float(wape) < 1 and re.fullmatch(r"[+-]\d+\.\d{3}", bias)
        selected_by += int(chosen)
    assert selected_by == 4
    assert row(output, "selected")[1:3] == ["4", "4"]
    for competitor in ("THETA", "ForecastPro"):
        assert row(output, competitor)[1:3] == ["4", "<NA>"]
    assert "SOURCE.txt check skipped: its scores are for all 1428 series" in output
    assert re.search(rf"selected smape {FIGURE}: rank \d+ of 25 with the 24 M3 methods", output)
    assert "by M3 category, selected vs THETA:" in output
    assert row(output, "category")[1:] == ["series", "smape_sel", "smape_THETA", "mase_sel",
                                            "mase_THETA", "wape_sel", "wape_THETA"]
    assert row(output, "all")[1] == "4"


def test_m3_loading_and_scoring_reproduce_the_published_competitor_scores(m3):
    history, test, info, total = m3.load_m3(m3.M3_DIR / m3.SERIES_CSV)
    errors = m3.competitor_errors(m3.M3_DIR / m3.COMPETITORS_CSV, test)
    scored = m3.series_scores(errors[errors["model"].isin(m3.COMPETITORS)], history)

    assert total == len(info) == 1428 and len(test) == 1428 * m3.HORIZON
    assert (~info["calendar"]).sum() == 29  # OTHER series dated years 1..6 in the source
    means = scored.groupby("model")[["smape", "mase"]].mean().round({"smape": 2, "mase": 3})
    for model in m3.COMPETITORS:
        assert tuple(means.loc[model]) == m3.PUBLISHED[model][:2]


def test_series_without_a_calendar_get_consecutive_synthetic_months_by_t():
    m3 = script("m3_accuracy")
    raw = pd.DataFrame({"series_id": ["A"] * 3 + ["B"] * 2, "t": [1, 2, 3, 1, 2],
                        "month": ["1-11-01", "1-12-01", "2-01-01", "1990-10-01", "1990-11-01"]})
    assert list(m3.month_starts(raw)) == list(pd.to_datetime(
        ["2000-11-01", "2000-12-01", "2001-01-01", "1990-10-01", "1990-11-01"]))
    with pytest.raises(ValueError, match="not consecutive"):
        m3.month_starts(raw.assign(t=[1, 2, 4, 1, 2]))


def test_m3_accuracy_skips_without_the_data(capsys, tmp_path):
    assert script("m3_accuracy").main(["--data", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("SKIPPED: M3 data not found")
