"""The S&OP pack on a small hand-made warehouse: complete, self-contained, renders in Chromium."""

import json
import math
import os
import re
import subprocess

import duckdb
import pandas as pd
import pytest

from sop_pipeline.report.browser import find_chromium
from sop_pipeline.report.pack import (
    build_pack,
    chart_figures,
    pack_problems,
    pack_sections,
    write_pack,
)
from sop_pipeline.report.sparkline import sparkline_markdown
from sop_pipeline.tables import OUTPUT_TABLES
from sop_pipeline.warehouse import ensure_output_table

CYCLE = pd.Timestamp("2026-10-01")
HORIZON = pd.date_range(CYCLE, periods=6, freq="MS")
FAMILIES = {"BIK-1": "Bikes", "BIK-2": "Bikes", "PRT-1": "Parts"}
SERIES = [("BIK-1", "PLT1"), ("BIK-1", "DC1"), ("BIK-2", "PLT1"), ("PRT-1", "DC1")]
WORK_CENTRES = ("WC-ASSY", "WC-PAINT")


@pytest.fixture
def con(tmp_path):
    """A warehouse of one cycle: 2 families, 3 skus, 2 locations, 2 work centres, 6 months."""
    connection = duckdb.connect(str(tmp_path / "sop.duckdb"))
    _build_warehouse(connection)
    yield connection
    connection.close()


def test_every_section_has_a_takeaway_and_a_chart_with_data(con):
    page = build_pack(con, CYCLE)

    assert pack_problems(page, allowed_empty={}) == []
    figures = _figures(page)
    for section_id in pack_sections():
        section = _section(page, section_id)
        assert "data-empty" not in section[: section.index(">")]
        assert re.search(r'<p class="takeaway">[^<]{20,}</p>', section), section_id
        data = figures[f"chart-{section_id}"]
        assert any(_has_point(trace) for trace in data), section_id
    assert set(figures) == {f"chart-{s}" for s in pack_sections()}
    assert set(chart_figures(page)) == set(figures)


def test_pack_is_self_contained_with_one_plotly_copy(con):
    page = build_pack(con, CYCLE)

    tags = re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", page, flags=re.I)
    assert not [t for t in tags if re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", t)]
    # plotly.js mentions URLs in its code; the page's own markup and CSS name none
    markup = re.sub(r"<script\b[^>]*>.*?</script>", "", page, flags=re.S | re.I)
    assert not re.findall(r"https?://", markup)
    assert page.count("* plotly.js v") == 1
    fetching = page.replace("</head>", '<script src="https://cdn.plot.ly/p.js"></script></head>')
    assert pack_problems(fetching) == ["fetches from the network: https://cdn.plot.ly/p.js"]
    assert build_pack(con, CYCLE) == page  # deterministic


def test_takeaways_come_from_the_cycle_data(con):
    page = build_pack(con, CYCLE)

    assert "2.0 % below budget; peak load 125 % (WC-ASSY 2026-12)" in _takeaway(page, "headline")
    assert "3 high alerts" in _takeaway(page, "headline")
    assert "WC-ASSY in Dec 2026" in _takeaway(page, "capacity")
    assert _takeaway(page, "demand").startswith(
        "Consensus for the next 6 months: 3,120 units, 8.3 % above the same months last year")
    assert _takeaway(page, "alerts").startswith("24 alerts: 3 high")
    assert "Forecasts of Sep 2026: WAPE 20.0 % at lag 1" in _takeaway(page, "waterfall")
    assert _takeaway(page, "inventory").startswith("2 sku-locations are projected to stock out")
    assert _takeaway(page, "budget").startswith("FY2026")
    assert len(re.findall(r"<tr><td><span class=\"badge", _section(page, "alerts"))) == 20
    assert "conservative" in _section(page, "demand")


def test_many_large_orders_to_release_never_push_the_risks_off_the_page(con):
    _insert(con, "alerts", [
        {"kind": "release_now", "severity": "high", "entity": f"SKU-{i:02d}@DC1",
         "month": HORIZON[1].date(), "message": f"Release order {i}.", "value": 0.0,
         "threshold": 0.0, "value_at_risk": 1e6 + i} for i in range(30)])
    section = _section(build_pack(con, CYCLE), "alerts")
    _, risks, actions = section.split('<table class="alerts">')
    assert "Top 20 of 24 risks" in risks and "Top 20 of 30 actions" in actions
    first = re.search(r'<tr><td><span class="badge (\w+)">.*?</td><td>([^<]+)</td>', risks)
    assert first.group(1) == "high"  # the high risks lead their own table
    assert "projected stockout" in risks and "Alert number 0" in risks  # the high stockout
    assert "release now" not in risks and "release now" in actions


def test_the_money_section_names_the_currency_on_every_money_axis(con):
    page = build_pack(con, CYCLE)

    assert _takeaway(page, "money").startswith(
        "Over the plan's 6 months the demand served brings CHF 1.21 M of revenue at a gross "
        "margin of CHF 604 k (50.0 %), for CHF 557 k of supply cost")
    assert ("loses CHF 10 k of sales (10 units, most in Bikes), a fill rate of 99.6 %"
            in _takeaway(page, "money"))
    assert "CHF 120 k at its peak, Mar 2027" in _takeaway(page, "money")
    layouts = {chart: figure["layout"] for chart, figure in chart_figures(page).items()}
    money = [_axis_title(layouts["chart-money"], f"yaxis{n}") for n in ("", 2, 3, 4)]
    assert money == ["revenue, margin (CHF)", "supply cost (CHF)",
                     "inventory value (CHF)", "lost sales (CHF)"]
    assert _axis_title(layouts["chart-budget"], "yaxis") == "gap (CHF)"
    assert _axis_title(layouts["chart-budget"], "yaxis2") == "cumulative gap (CHF)"
    assert _axis_title(layouts["chart-demand"], "yaxis") == "units a month"
    assert {_axis_title(layouts["chart-inventory"], axis) for axis in layouts["chart-inventory"]
            if axis.startswith("yaxis")} == {"stock (units)"}
    assert "FY revenue outlook (CHF)" in _section(page, "headline")

    con.execute("DELETE FROM plan_financials")
    page = build_pack(con, CYCLE)
    assert pack_problems(page) == ["section 'money' has no chart (reason: no-data)"]
    assert "gap (EUR)" in json.dumps(chart_figures(page)["chart-budget"]["layout"])


def test_waterfall_without_history_says_so_and_only_there(con):
    con.execute("DELETE FROM variance_forecast_by_family")
    page = build_pack(con, CYCLE)

    waterfall = _section(page, "waterfall")
    assert 'data-empty="not-enough-history"' in waterfall
    assert "Not enough history yet" in waterfall
    assert "chart-waterfall" not in page
    assert pack_problems(page) == []
    assert pack_problems(page, allowed_empty={}) == [
        "section 'waterfall' has no chart (reason: not-enough-history)"]

    con.execute("DELETE FROM inventory_projection")
    problems = pack_problems(build_pack(con, CYCLE))
    assert problems == ["section 'inventory' has no chart (reason: no-data)"]


def test_distributor_without_work_centres(con):
    con.execute("DELETE FROM capacity_plan")
    page = build_pack(con, CYCLE)

    assert 'data-empty="no-work-centres"' in _section(page, "capacity")
    assert "No work centres" in _takeaway(page, "capacity")
    assert pack_problems(page) == []

    con.execute("CREATE TABLE marts.dim_work_centers AS SELECT 'WC-ASSY' AS work_center_id")
    assert pack_problems(build_pack(con, CYCLE)) == [
        "section 'capacity' has no chart (reason: no-data)"]


def test_empty_warehouse_builds_and_reports_what_is_missing(tmp_path):
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as empty:
        page = build_pack(empty, CYCLE)
        for table in OUTPUT_TABLES.values():
            ensure_output_table(empty, table)
        assert build_pack(empty, CYCLE).count("<section ") == len(pack_sections())

    problems = pack_problems(page)  # capacity, budget, waterfall: empty for a stated reason
    assert [p.split("'")[1] for p in problems] == ["headline", "demand", "inventory", "money"]
    assert "No alerts this cycle" in page


def test_write_pack_replaces_the_file_atomically(con, tmp_path):
    out_dir = tmp_path / "packs"
    (out_dir).mkdir()
    (out_dir / "sop_pack_2026-10.html").write_text("old")

    path = write_pack(con, CYCLE, tmp_path)

    assert path == out_dir / "sop_pack_2026-10.html"
    assert path.read_text(encoding="utf-8") == build_pack(con, CYCLE)
    assert sorted(p.name for p in out_dir.iterdir()) == ["sop_pack_2026-10.html"]


def test_pack_renders_in_headless_chromium(con, tmp_path):
    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no chromium, chromium-browser or google-chrome on PATH")
        pytest.skip("no chromium, chromium-browser or google-chrome on PATH "
                    "(apt-get install -y chromium); set CI=true to make this a failure")
    path = write_pack(con, CYCLE, tmp_path)

    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--virtual-time-budget=10000", "--enable-logging=stderr", "--v=0",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=180, check=False)

    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    chart_ids = [f"chart-{s}" for s in pack_sections()]
    starts = [dom.index(f'id="{chart_id}"') for chart_id in chart_ids]
    for chart_id, start, end in zip(chart_ids, starts, [*starts[1:], len(dom)], strict=True):
        assert "main-svg" in dom[start:end], f"{chart_id} was not drawn"
    errors = [line for line in result.stderr.splitlines()
              if "CONSOLE" in line and ("Uncaught" in line or "Error" in line)]
    assert errors == []


def test_sparkline_markdown():
    assert sparkline_markdown([1, 2, 5, 7, 9, 6]) == "`▁▂▅▆█▅` min 1 · max 9"
    assert sparkline_markdown([3, None, float("nan"), 3]) == "`▄  ▄` min 3 · max 3"
    assert sparkline_markdown([]) == "(no data)"
    long = sparkline_markdown(range(100), width=10)
    assert long == "`▁▂▃▃▄▅▆▆▇█` min 4.5 · max 94.5"  # bucket means 4.5, 14.5, ...
    assert sparkline_markdown([0, 12_500, 2_000_000]) == "`▁▁█` min 0 · max 2 M"


# --- helpers ----------------------------------------------------------------------------------


def _figures(page: str) -> dict[str, list]:
    """Traces of every plotly chart on the page, read from its Plotly.newPlot call."""
    decoder = json.JSONDecoder()
    return {m.group(1): decoder.raw_decode(page, m.end())[0]
            for m in re.finditer(r'Plotly\.newPlot\(\s*"([\w-]+)",\s*', page)}


def _has_point(trace: dict) -> bool:
    kind = trace.get("type")
    values = {"indicator": [trace.get("value")], "heatmap": trace.get("z")}.get(
        kind, trace.get("x") if trace.get("orientation") == "h" else trace.get("y"))
    if isinstance(values, dict):  # typed array: non-empty binary data
        return bool(values.get("bdata"))
    flat = [v for item in values or [] for v in (item if isinstance(item, list) else [item])]
    return any(v is not None and not (isinstance(v, float) and math.isnan(v)) for v in flat)


def _axis_title(layout: dict, axis: str) -> str:
    return (layout[axis].get("title") or {}).get("text", "")


def _section(page: str, section_id: str) -> str:
    return re.search(rf'<section [^>]*id="{section_id}".*?</section>', page, flags=re.S).group(0)


def _takeaway(page: str, section_id: str) -> str:
    takeaway = re.search(r'<p class="takeaway">(.*?)</p>', _section(page, section_id))
    return takeaway.group(1).replace("&#x27;", "'")


def _insert(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict]) -> None:
    ensure_output_table(con, OUTPUT_TABLES[name])
    frame = pd.DataFrame(rows).assign(cycle_month=CYCLE.date())
    con.register("incoming", frame)
    con.execute(f"INSERT INTO main.{name} BY NAME SELECT * FROM incoming")
    con.unregister("incoming")


def _build_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA marts")
    con.execute("""CREATE TABLE marts.dim_items AS SELECT * FROM (VALUES
        ('BIK-1', 'City bike', 'Bikes', 400.0, 800.0),
        ('BIK-2', 'Road bike', 'Bikes', 600.0, 1200.0),
        ('PRT-1', 'Chain', 'Parts', 5.0, 15.0)) AS t(sku, description, family, unit_cost,
                                                     unit_price)""")
    history = [
        {"month": month, "sku": sku, "location_id": location, "family": FAMILIES[sku],
         "order_qty": float(100 + 10 * i + 30 * math.sin(month.month / 12 * 2 * math.pi)),
         "net_amount": 0.0, "order_lines": 3}
        for i, (sku, location) in enumerate(SERIES)
        for month in pd.date_range("2024-04-01", "2026-09-01", freq="MS")
    ]
    con.register("history", pd.DataFrame(history))
    con.execute("CREATE TABLE marts.fct_monthly_demand AS SELECT * FROM history")
    con.unregister("history")

    _insert(con, "demand_forecast", [
        {"sku": sku, "location_id": location, "month": month.date(), "model": model,
         "forecast_qty": qty, "lower_80": qty * 0.8, "upper_80": qty * 1.2,
         "lower_95": qty * 0.7, "upper_95": qty * 1.3, "is_selected": model == "auto_ets"}
        for i, (sku, location) in enumerate(SERIES)
        for month in HORIZON
        for model, qty in (("auto_ets", 110.0 + 10 * i), ("seasonal_naive", 90.0))
    ])
    _insert(con, "consensus_demand", [
        {"sku": sku, "location_id": location, "family": FAMILIES[sku], "month": month.date(),
         "statistical_qty": 110.0 + 10 * i, "event_qty": 0.0, "crm_pipeline_qty": 5.0,
         "override_qty": 0.0, "consensus_qty": 115.0 + 10 * i, "unit_price": 800.0,
         "consensus_value": (115.0 + 10 * i) * 800}
        for i, (sku, location) in enumerate(SERIES) for month in HORIZON
    ])
    _insert(con, "capacity_plan", [
        {"work_center_id": centre, "month": month.date(), "required_hours": 100.0 * load,
         "planned_hours": 100.0 * min(load, 1.0), "available_hours": 100.0,
         "utilisation": load, "planned_utilisation": min(load, 1.0),
         "overload_hours": max(0.0, 100.0 * (load - 1))}
        for centre, loads in zip(WORK_CENTRES, ([0.8, 0.95, 1.25, 1.1, 0.9, 0.7],
                                                [0.5, 0.6, 0.7, 0.6, 0.5, 0.4]), strict=True)
        for month, load in zip(HORIZON, loads, strict=True)
    ])
    closing = {("BIK-1", "PLT1"): [50, -10, -20, 5, 30, 40], ("BIK-1", "DC1"): [80] * 6,
               ("BIK-2", "PLT1"): [30, 20, -5, 10, 35, 45], ("PRT-1", "DC1"): [900] * 6}
    _insert(con, "inventory_projection", [
        {"sku": sku, "location_id": location, "month": month.date(), "closing_qty": float(qty),
         "safety_stock_qty": 25.0, "demand_qty": 100.0,
         "status": "stockout" if qty < 0 else "below_safety_stock" if qty < 25
         else "excess" if qty > 500 else "healthy"}
        for (sku, location), quantities in closing.items()
        for month, qty in zip(HORIZON, quantities, strict=True)
    ])
    _insert(con, "plan_financials", [
        {"month": month.date(), "family": family, "currency": "CHF", "demand_qty": 200.0,
         "served_qty": 200.0 - lost, "revenue": (200.0 - lost) * price,
         "cost_of_goods": (200.0 - lost) * price / 2, "gross_margin": (200.0 - lost) * price / 2,
         "gross_margin_pct": 0.5, "production_cost": 40_000.0, "purchase_cost": 5_000.0,
         "overtime_cost": 600.0 * (i == 2), "holding_cost": 800.0, "supply_cost": 46_400.0,
         "lost_sales_qty": lost, "lost_sales_value": lost * price,
         "fill_rate": (200.0 - lost) / 200, "inventory_qty": 100.0,
         "inventory_value": 10_000.0 * (i + 1), "days_of_cover": 15.0}
        for family, price in (("Bikes", 1000.0), ("Parts", 15.0))
        for i, month in enumerate(HORIZON)
        for lost in [10.0 if (family, i) == ("Bikes", 2) else 0.0]
    ])
    _insert(con, "variance_forecast_by_family", [
        {"target_month": pd.Timestamp("2026-09-01").date(), "family": family, "lag": lag,
         "series": 2, "forecast_qty": 100.0, "naive_qty": 100.0, "actual_qty": 100.0,
         "wape": wape + 0.05 * lag, "bias": 0.02, "naive_wape": wape + 0.08,
         "fva": 0.08 - 0.05 * lag}
        for family, wape in (("all", 0.15), ("Bikes", 0.12), ("Parts", 0.2))
        for lag in range(4)
    ])
    budget_rows = []
    for family, scale in (("Bikes", 1.0), ("Parts", 0.1)):
        cumulative = 0.0
        for month in pd.date_range("2026-07-01", "2027-03-01", freq="MS"):
            if month.month == 1:
                cumulative = 0.0
            gap = scale * (-8000.0 if month < CYCLE else 3000.0)
            cumulative += gap
            budget_rows.append({
                "family": family, "month": month.date(), "fiscal_year": month.year,
                "basis": "actual" if month < CYCLE else "consensus",
                "budget_qty": 100.0, "plan_qty": 100.0 + gap / 800, "gap_qty": gap / 800,
                "budget_value": scale * 100_000, "plan_value": scale * 100_000 + gap,
                "gap_value": gap, "cumulative_gap_qty": cumulative / 800,
                "cumulative_gap_value": cumulative})
    _insert(con, "variance_budget", budget_rows)
    _insert(con, "cycle_summary", [{
        "wape_lag1": 0.2, "wape_lag3": 0.3, "bias_lag1": 0.02, "fva_lag1": 0.03,
        "consensus_value_fy": 2_450_000.0, "budget_value_fy": 2_500_000.0,
        "gap_to_budget_pct": -0.02, "peak_utilisation": 1.25,
        "peak_work_center": "WC-ASSY 2026-12", "skus_at_stockout_risk": 2, "unmet_qty": 30.0,
        "inventory_value_m3": 123_456.0, "alerts_high": 3, "alerts_medium": 12,
        "alerts_low": 9}])
    severities = ["high"] * 3 + ["medium"] * 12 + ["low"] * 9
    kinds = ["projected_stockout", "capacity_overload", "below_safety_stock", "excess_stock"]
    _insert(con, "alerts", [
        {"kind": kinds[i % 4], "severity": severity, "entity": f"ENTITY-{i:02d}",
         "month": HORIZON[i % 6].date(), "message": f"Alert number {i} <needs> attention.",
         "value": float(i), "threshold": 0.0}
        for i, severity in enumerate(severities)
    ])
    for name in OUTPUT_TABLES:
        ensure_output_table(con, OUTPUT_TABLES[name])
