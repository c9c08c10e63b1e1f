"""Smoke test of benchmarks/reconciliation.py on tiny inputs: the rows and figures it prints.

No timing or accuracy is asserted: the figures are for reading, not gating.
"""

from __future__ import annotations

import re

from tests.benchmark_scripts import FIGURE, require_data, script

METHODS = ("base", "bottom_up", "mint_shrink", "mint_shrink_nonneg", "ols", "wls_struct")



def _rows(output: str, title: str, header: list[str]) -> dict[str, list[str]]:
    """The table under the first line starting with `title`: method -> its other fields."""
    lines = output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(title))
    start = next(i for i in range(at, len(lines)) if lines[i].split()[:len(header)] == header)
    rows = {}
    for line in lines[start + 1:]:
        fields = line.split()
        if not fields or fields[0] not in METHODS:
            break
        rows[fields[0]] = fields[1:]
    return rows


def _check_tables(output: str, title: str, levels: list[str]) -> dict[str, list[str]]:
    """Both tables under `title` hold every method, with a figure per level and `all`."""
    wapes = _rows(output, title, ["method", *levels, "all"])
    assert list(wapes) == list(METHODS)
    for method, fields in wapes.items():
        wape_all, seconds, reconcile, negatives, gap = fields[len(levels):]
        assert all(0 < float(value) < 2 for value in fields[:len(levels) + 1]), method
        assert float(seconds) >= float(reconcile) >= 0 and int(negatives) >= 0
        assert float(gap) >= 0 and float(wape_all) > 0
    # a bottom-up forecast is coherent by construction and leaves the bottom base untouched
    assert float(wapes["bottom_up"][-1]) == 0
    assert wapes["bottom_up"][levels.index("bottom")] == wapes["base"][levels.index("bottom")]
    mases = _rows(output.split(title, 1)[1], "MASE per level", ["method", *levels, "all"])
    assert list(mases) == list(METHODS)
    assert all(float(value) > 0 for fields in mases.values() for value in fields)
    return wapes


def test_reconciliation_on_a_pbs_subset_prints_every_method_per_level(capsys):
    reconciliation = script("reconciliation")
    require_data(reconciliation.PBS_CSV.exists(), f"PBS data absent at {reconciliation.PBS_CSV}")
    code = reconciliation.main(["--dataset", "pbs", "--bottom-series", "16", "--models",
                                "auto_ets,seasonal_naive", "--workers", "1"])
    output = capsys.readouterr().out

    assert code == 0
    assert "PBS scripts: 16 bottom series (Concession|Type|ATC2) kept of 336" in output
    assert re.search(r"hierarchy total 1, ATC1 \d+, ATC2 \d+, bottom 16 = \d+ series", output)
    levels = ["total", "ATC1", "ATC2", "bottom"]
    for model in ("AutoETS", "SeasonalNaive"):
        section = output.split(f"base model {model}(", 1)[1]
        _check_tables(section, "holdout 2007-07..2008-06 (history 192 months)", levels)
        _check_tables(section, "rolling: 2 origins 6 months apart", levels)
        assert re.search(rf"mint_shrink +2007-07 {FIGURE} vs {FIGURE} .*pooled {FIGURE} vs",
                         section)
    # seasonal naive forecasts add up already: every linear method returns them unchanged
    naive = _rows(output.split("base model SeasonalNaive(", 1)[1], "holdout",
                  ["method", *levels, "all"])
    assert {tuple(naive[m][:5]) for m in ("base", "bottom_up", "mint_shrink", "ols",
                                          "wls_struct")} == {tuple(naive["base"][:5])}
    assert "the base forecasts are coherent already" in output


def test_reconciliation_on_a_small_demo_company_clips_at_zero(capsys):
    reconciliation = script("reconciliation")
    code = reconciliation.main(["--dataset", "demo", "--skus", "5", "--models", "auto_ets",
                                "--origins", "1", "--workers", "1"])
    output = capsys.readouterr().out

    assert code == 0
    assert "demo company: generate_company(skus=5, locations=2, seed=7" in output
    assert re.search(r"hierarchy total 1, family \d+, sku 5, bottom \d+ = \d+ series; months "
                     r"2022-01..2025-12 \(48\)", output)
    wapes = _check_tables(output, "holdout 2025-01..2025-12 (history 36 months)",
                          ["total", "family", "sku", "bottom"])
    assert int(wapes["mint_shrink_nonneg"][-2]) == 0  # no negatives from the QP variant
    assert "rolling:" not in output
    assert re.search(rf"wls_struct +2025-01 {FIGURE} vs {FIGURE} \([+-]\d+\.\d%\); lower at "
                     r"\d of 4 levels", output)


def test_monthly_series_are_zero_filled_over_every_month_without_cancelled_lines():
    import pandas as pd

    reconciliation = script("reconciliation")
    orders = pd.DataFrame({
        "order_date": ["2025-01-15", "2025-01-20", "2025-03-03", "2025-02-10", "2025-04-30"],
        "sku": ["A", "A", "A", "B", "B"],
        "location_id": ["L1", "L1", "L1", "L1", "L1"],
        "quantity": [3, 2, 4, 7, 5],
        "status": ["invoiced", None, "shipped", "open", "cancelled"],
    })
    series = reconciliation.monthly_sku_location(orders)

    by_sku = {sku: list(part["y"]) for sku, part in series.groupby("sku")}
    assert by_sku == {"A": [5.0, 0.0, 4.0, 0.0], "B": [0.0, 7.0, 0.0, 0.0]}
    assert list(series["ds"].unique()) == list(pd.date_range("2025-01-01", periods=4, freq="MS"))
