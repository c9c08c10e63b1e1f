"""The S&OP pack on a small hand-made warehouse (complete, self-contained, renders in Chromium)
and on the demo company run through the pipeline (a decision pack of its meetings)."""

import base64
import html
import json
import math
import os
import re
import subprocess
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from sop_pipeline.report.browser import find_chromium
from sop_pipeline.report.pack import (
    build_pack,
    chart_figures,
    pack_path,
    pack_problems,
    pack_sections,
    write_pack,
)
from sop_pipeline.report.sparkline import sparkline_markdown
from sop_pipeline.tables import BASELINE, OUTPUT_TABLES
from sop_pipeline.warehouse import ensure_output_table
from tests.conftest import COMPANY_CYCLES

CYCLE = pd.Timestamp("2026-10-01")
HORIZON = pd.date_range(CYCLE, periods=6, freq="MS")
FAMILIES = {"BIK-1": "Bikes", "BIK-2": "Bikes", "PRT-1": "Parts"}
SERIES = [("BIK-1", "PLT1"), ("BIK-1", "DC1"), ("BIK-2", "PLT1"), ("PRT-1", "DC1")]
WORK_CENTRES = ("WC-ASSY", "WC-PAINT")
PREVIOUS = pd.Timestamp("2026-09-01")
# The sections that make the pack a decision pack (issue 12).
DECISION_SECTIONS = ("decisions", "scenarios", "changes", "assumptions", "balance",
                     "production", "fva")
# The events and overrides the consensus assumes: (sku, location, month) -> its columns.
ASSUMED = {
    **{("BIK-1", "PLT1", month): {"event_qty": 20.0, "override_qty": 0.0,
                                  "event_names": "Winter promo; Dealer days"}
       for month in HORIZON[2:4]},
    ("BIK-2", "PLT1", HORIZON[1]): {"event_qty": 0.0, "override_qty": 12.0,
                                    "override_author": "a.martin",
                                    "override_reason": "Tender won"},
    ("PRT-1", "DC1", HORIZON[0]): {"event_qty": 0.0, "override_qty": -8.0,
                                   "override_reason": "Destocking"},
}


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
    assert _takeaway(page, "decisions") == (
        "7 decisions followed: 1 overdue: D-02 (purchasing.lead, 2 months late); 1 due by "
        "Nov 2026 (D-05); 2 new this cycle (D-05, D-06); 4 open, 2 done and 1 dropped in all. "
        "The cycle keeps the baseline plan: no decision adopts a scenario.")
    assert _takeaway(page, "scenarios") == (
        "3 scenarios against the baseline: promotion earns the most, CHF +12 k of margin after "
        "supply cost, CHF 15 k more lost sales; the cycle keeps the baseline.")
    assert _takeaway(page, "fva") == (
        "Forecasts of Sep 2026 at lag 1: WAPE 32.0 % for seasonal naive and 24.0 % for the "
        "consensus; value added: statistical +6.0 points, events +1.0 points, CRM pipeline "
        "+0.0 points, overrides +1.0 points; of the overrides, a.martin's helped most "
        "(+4.0 points) and j.doe's least (-2.0 points).")
    assert _takeaway(page, "changes") == (
        "Over the 5 months both plans cover (Oct 2026 to Feb 2027), this cycle's consensus is "
        "100 units above last cycle's (+5.0 %), CHF +149 k; largest move: Bikes CHF +150 k.")
    assert _takeaway(page, "balance") == (
        "The plan serves 99.2 % of 2,400 units of demand over 6 months, leaving 20 units "
        "unmet, most of it in Bikes (20 units); 1 family-month falls below the 95 % target, "
        "the first Bikes in Dec 2026.")
    assert _takeaway(page, "production") == (
        "In Sep 2026 production completed 90 units against 100 planned (-10.0 %, CHF -4,000); "
        "purchases received 55 units against 50 planned (+10.0 %, CHF +25).")
    assert _takeaway(page, "assumptions") == (
        "The consensus assumes 2 events adding 40 units (CHF +32 k) and overrides by 2 "
        "authors adding a net +4 units (CHF +3,200); the largest override is a.martin's "
        "\"Tender won\", CHF +9,600.")


def test_the_decision_sections_list_what_the_meeting_decides_from(con):
    page = build_pack(con, CYCLE)
    figures = chart_figures(page)

    scenarios = _table_rows(_section(page, "scenarios"))
    assert [row[0] for row in scenarios] == ["baseline (adopted)", "extra_shift",
                                             "late_supplier", "promotion"]
    assert scenarios[1][2:] == ["1.25 M", "625 k", "567 k", "0", "100.0 %", "36 k",
                                "95.0 %", "3 / 12 / 9", "+10 k"]
    assert '<tr class="adopted"><td>baseline (adopted)</td>' in _section(page, "scenarios")
    chart = figures["chart-scenarios"]["data"]
    assert [trace["name"] for trace in chart] == [
        "earns: margin - overtime - holding", "lost sales", "inventory value (average month end)"]
    assert chart[0]["x"] == ["extra_shift", "late_supplier", "promotion"]
    assert _values(chart[1]["y"]) == [-10_000, 30_000, 15_000]

    decisions = _table_rows(_section(page, "decisions"))
    assert [(row[0], row[1]) for row in decisions] == [
        ("D-02", "overdue 2 months"), ("D-05", "due (new)"), ("D-06", "new"), ("D-04", "open"),
        ("D-01", "done"), ("D-03", "dropped")]  # D-00 closed in March: left out
    assert decisions[3][3:] == ["ops.director", "Sep 2026", "Dec 2026", "open", "extra_shift",
                                "Because."]
    assert "(1 closed more than 2 cycles ago not shown)" in _section(page, "decisions")
    timeline = figures["chart-decisions"]["data"]
    assert {trace["y"][0] for trace in timeline} == {row[0] for row in decisions}

    authors = _table_rows(_section(page, "fva"))
    assert authors == [["a.martin", "1", "2", "24.0 %", "20.0 %", "+4.0 points"],
                       ["j.doe", "1", "2", "18.0 %", "20.0 %", "-2.0 points"]]
    stairstep = figures["chart-fva"]["data"][0]
    assert stairstep["x"] == ["seasonal naive", "statistical", "+ events", "+ CRM pipeline",
                              "+ overrides (consensus)"]
    assert stairstep["line"]["shape"] == "hv"

    assert _table_rows(_section(page, "changes")) == [
        ["Bikes", "1,500", "1,650", "+150", "+10.0 %", "+150 k"],
        ["Parts", "500", "450", "-50", "-10.0 %", "-750"]]
    assert _table_rows(_section(page, "balance")) == [
        ["Bikes", "1,800", "1,500", "20", "98.9 %", "Dec 2026 (93.3 %)"],
        ["Parts", "600", "500", "0", "100.0 %", ""]]
    assert _table_rows(_section(page, "production")) == [
        ["production", "Bikes", "100", "90", "-10", "40 k", "36 k", "-4,000"],
        ["purchase", "Parts", "50", "55", "+5", "250", "275", "+25"]]

    overrides, events = _tables(_section(page, "assumptions"))
    assert overrides == [
        ["(no author)", "Parts", "PRT-1", "Oct 2026", "PRT-1 @ DC1: -10 %", "Destocking", "-8",
         "-6,400"],
        ["a.martin", "Bikes", "BIK-2", "Nov 2026", "BIK-2 @ PLT1: set to 40 units",
         "Tender won", "+12", "+9,600"]]
    assert events == [  # the past promotion left out; the launch had no effect in the plan
        ["Winter promo", "Bikes", "Dec 2026 to Jan 2027", "15 %", "+30", "+24 k"],
        ["Dealer days", "BIK-1", "Dec 2026 to Jan 2027", "5 %", "+10", "+8,000"],
        ["Spring launch", "PRT-1", "Mar 2027", "10 %", "none (learned or outside the plan)",
         ""]]


def test_every_new_chart_names_its_units_on_every_axis(con):
    layouts = {chart: figure["layout"] for chart, figure in chart_figures(build_pack(
        con, CYCLE)).items()}

    def titles(section: str, prefix: str) -> list[str]:
        layout = layouts[f"chart-{section}"]
        return [_axis_title(layout, axis) for axis in sorted(layout) if axis.startswith(prefix)]

    assert titles("scenarios", "yaxis") == ["scenario - baseline (CHF, over the horizon)"]
    assert titles("decisions", "xaxis") == ["month (decided → due)"]
    assert titles("fva", "yaxis") == ["WAPE (% of actual units)",
                                      "previous step's WAPE - this step's",
                                      "WAPE before - after the override"]
    assert titles("changes", "yaxis") == ["consensus (units a month)", "change (CHF)"]
    assert titles("assumptions", "yaxis") == [
        "units added to the consensus (below 0: removed)"]
    assert titles("balance", "yaxis") == ["units a month", "fill rate (% of demand served)"]
    assert titles("production", "yaxis") == ["production in Sep 2026 (units)",
                                             "purchase in Sep 2026 (units)"]
    target = [s for s in layouts["chart-balance"]["shapes"] if s["y0"] == s["y1"]]
    assert [s["y0"] for s in target] == [0.95]


def test_the_pack_shows_the_adopted_plan(con):
    con.execute("UPDATE plan_version SET scenario = 'extra_shift', decision_id = 'D-04', "
                "decided_by = 'ops.director', decided_in = DATE '2026-09-01'")
    for name, table in OUTPUT_TABLES.items():
        if table.plans_scenarios:
            con.execute(f"INSERT INTO {name} SELECT * REPLACE ('extra_shift' AS scenario) "
                        f"FROM {name}")
    con.execute("UPDATE plan_financials SET lost_sales_qty = 0, lost_sales_value = 0, "
                "served_qty = demand_qty WHERE scenario = 'extra_shift'")
    page = build_pack(con, CYCLE)

    assert pack_problems(page, allowed_empty={}) == []
    assert _takeaway(page, "money").startswith(
        "The adopted plan, scenario extra_shift: over the plan's 6 months the demand served")
    assert "it serves all demand" in _takeaway(page, "money")
    assert _takeaway(page, "scenarios").endswith(
        "the cycle adopts extra_shift: CHF +10 k of margin after supply cost, CHF 10 k less "
        "lost sales, CHF +1,000 of stock on average.")
    assert _takeaway(page, "decisions").endswith(
        "The cycle adopts scenario extra_shift, decided by ops.director (D-04 in Sep 2026).")
    assert "<b>extra_shift</b><br>(adopted)" in chart_figures(page)["chart-scenarios"][
        "data"][0]["x"]
    assert [row[0] for row in _table_rows(_section(page, "scenarios"))][:2] == [
        "baseline", "extra_shift (adopted)"]

    con.execute("DELETE FROM plan_financials WHERE scenario = 'extra_shift'")
    assert pack_problems(build_pack(con, CYCLE)) == [
        "section 'money' has no chart (reason: no-data)"]


def test_decision_sections_without_their_inputs_say_why(con):
    con.execute("DELETE FROM scenario_kpis WHERE scenario <> 'baseline'")
    con.execute("DELETE FROM decision_log")
    for name in ("variance_fva_stairstep", "variance_plan_drift", "variance_plan_vs_actual"):
        con.execute(f"DELETE FROM {name}")
    con.execute("UPDATE consensus_demand SET event_qty = 0, override_qty = 0")
    page = build_pack(con, CYCLE)

    assert pack_problems(page) == []
    assert pack_problems(page, allowed_empty={}) == [
        "section 'decisions' has no chart (reason: no-decisions)",
        "section 'scenarios' has no chart (reason: no-scenarios)",
        "section 'changes' has no chart (reason: not-enough-history)",
        "section 'assumptions' has no chart (reason: no-assumptions)",
        "section 'production' has no chart (reason: not-enough-history)",
        "section 'fva' has no chart (reason: not-enough-history)"]
    assert [row[0] for row in _table_rows(_section(page, "scenarios"))] == [
        "baseline (adopted)"]  # the baseline's figures still show
    assert "No what-if scenario: only the baseline" in _section(page, "scenarios")

    con.execute("DELETE FROM supply_plan WHERE cycle_month = DATE '2026-09-01'")
    _insert(con, "variance_plan_vs_actual", [{
        "month": PREVIOUS.date(), "family": "Bikes", "supply_type": "production",
        "planned_qty": 0.0, "actual_qty": 10.0}])
    production = _section(build_pack(con, CYCLE), "production")
    assert 'data-empty="not-enough-history"' in production  # no plan of its own cycle

    con.execute("DELETE FROM scenario_kpis")
    con.execute("DELETE FROM supply_plan")
    assert pack_problems(build_pack(con, CYCLE)) == [
        "section 'scenarios' has no chart (reason: no-data)",
        "section 'balance' has no chart (reason: no-data)"]


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

    problems = pack_problems(page)  # capacity, budget, waterfall...: empty for a stated reason
    assert [p.split("'")[1] for p in problems] == [
        "headline", "scenarios", "money", "demand", "assumptions", "balance", "inventory"]
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
    chromium = _chromium()
    path = write_pack(con, CYCLE, tmp_path)

    dom = _rendered_dom(chromium, path, tmp_path)

    chart_ids = [f"chart-{s}" for s in pack_sections()]
    starts = [dom.index(f'id="{chart_id}"') for chart_id in chart_ids]
    for chart_id, start, end in zip(chart_ids, starts, [*starts[1:], len(dom)], strict=True):
        assert "main-svg" in dom[start:end], f"{chart_id} was not drawn"
    for section_id in DECISION_SECTIONS:  # the decision pack's sections, each with its chart
        section = _section(dom, section_id)
        assert f'id="chart-{section_id}"' in section and "main-svg" in section, section_id
        assert '<table class="data">' in section, section_id


def test_demo_company_pack_renders_in_headless_chromium(company, tmp_path):
    chromium = _chromium()
    _, warehouse = company

    dom = _rendered_dom(chromium, pack_path(warehouse, COMPANY_CYCLES[-1]), tmp_path)

    for section_id in pack_sections():
        section = _section(dom, section_id)
        assert "main-svg" in section, f"chart of {section_id} was not drawn"


def test_demo_company_pack_is_a_decision_pack(company):
    """The demo's meetings (sop_pipeline.demo.meeting) as the pack of its latest cycle shows
    them: three scenarios, the extra shift adopted, D-02 overdue."""
    _, warehouse = company
    page = pack_path(warehouse, COMPANY_CYCLES[-1]).read_text(encoding="utf-8")

    assert pack_problems(page, allowed_empty={}) == []
    scenarios = _table_rows(_section(page, "scenarios"))
    assert [row[0] for row in scenarios] == ["baseline", "extra_shift (adopted)",
                                             "late_supplier", "promotion"]
    assert len(chart_figures(page)["chart-scenarios"]["data"][0]["x"]) == 3
    decisions = _takeaway(page, "decisions")
    assert "1 overdue: D-02 (purchasing.lead, 2 months late)" in decisions
    assert decisions.endswith(
        "The cycle adopts scenario extra_shift, decided by ops.director (D-04 in Sep 2026).")
    listed = {row[0]: row[1] for row in _table_rows(_section(page, "decisions"))}
    assert listed == {"D-02": "overdue 2 months", "D-04": "open", "D-01": "done",
                      "D-03": "dropped"}
    assert _takeaway(page, "money").startswith("The adopted plan, scenario extra_shift:")
    assert _takeaway(page, "fva").startswith("Forecasts of Sep 2026 at lag 1: WAPE")
    assert _takeaway(page, "changes").startswith("Over the 17 months both plans cover")
    assert _takeaway(page, "production").startswith("In Sep 2026 production completed")
    assert _takeaway(page, "balance").startswith("The plan serves")
    authors = {row[0] for row in _tables(_section(page, "assumptions"))[0]}
    assert authors == {"a.martin", "j.doe", "m.rossi"}  # the demo's plan/overrides

    first = pack_path(warehouse, COMPANY_CYCLES[0]).read_text(encoding="utf-8")
    assert pack_problems(first) == []
    for section_id in ("fva", "changes", "production"):  # no earlier cycle yet
        assert 'data-empty="not-enough-history"' in _section(first, section_id), section_id


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


def _chromium() -> str:
    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no chromium, chromium-browser or google-chrome on PATH")
        pytest.skip("no chromium, chromium-browser or google-chrome on PATH "
                    "(apt-get install -y chromium); set CI=true to make this a failure")
    return chromium


def _rendered_dom(chromium: str, path: Path, tmp_path: Path) -> str:
    """The page's DOM once headless Chromium has run its scripts; no script error allowed."""
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--virtual-time-budget=10000", "--enable-logging=stderr", "--v=0",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines()
              if "CONSOLE" in line and ("Uncaught" in line or "Error" in line)]
    assert errors == []
    return result.stdout


def _values(values) -> list:
    """A trace's values, plain or in plotly's typed-array encoding."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]),
                             dtype=np.dtype(values["dtype"])).tolist()
    return list(values)


def _tables(section: str) -> list[list[list[str]]]:
    """The body rows of each data table of a section, as cell texts."""
    return [[[html.unescape(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
             for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.split("<tbody>")[1])]
            for body in re.findall(r'<table class="data">(.*?)</table>', section, flags=re.S)]


def _table_rows(section: str) -> list[list[str]]:
    """The body rows of the section's first data table."""
    return _tables(section)[0]


def _axis_title(layout: dict, axis: str) -> str:
    return (layout[axis].get("title") or {}).get("text", "")


def _section(page: str, section_id: str) -> str:
    return re.search(rf'<section [^>]*id="{section_id}".*?</section>', page, flags=re.S).group(0)


def _takeaway(page: str, section_id: str) -> str:
    takeaway = re.search(r'<p class="takeaway">(.*?)</p>', _section(page, section_id))
    return takeaway.group(1).replace("&#x27;", "'")


def _insert(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict]) -> None:
    """Rows into an output table: of CYCLE unless they name their cycle_month, and of the
    baseline in a table of scenarios unless they name their scenario."""
    table = OUTPUT_TABLES[name]
    ensure_output_table(con, table)
    frame = pd.DataFrame(rows)
    if "cycle_month" not in frame:
        frame["cycle_month"] = CYCLE.date()
    if table.plans_scenarios and "scenario" not in frame:
        frame["scenario"] = BASELINE
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
         "statistical_qty": 110.0 + 10 * i, "crm_pipeline_qty": 5.0,
         "consensus_qty": 115.0 + 10 * i, "unit_price": 800.0,
         "consensus_value": (115.0 + 10 * i) * 800, **ASSUMED.get((sku, location, month), {
             "event_qty": 0.0, "override_qty": 0.0})}
        for i, (sku, location) in enumerate(SERIES) for month in HORIZON
    ])
    con.execute("CREATE SCHEMA staging")
    con.execute("""CREATE TABLE staging.stg_plan__events AS SELECT * FROM (VALUES
        ('Old promo', DATE '2025-12-01', DATE '2026-01-01', NULL, 'Bikes', 0.2),
        ('Winter promo', DATE '2026-12-01', DATE '2027-01-01', NULL, 'Bikes', 0.15),
        ('Dealer days', DATE '2026-12-01', DATE '2027-01-01', 'BIK-1', NULL, 0.05),
        ('Spring launch', DATE '2027-03-01', DATE '2027-03-01', 'PRT-1', NULL, 0.1))
        AS t(name, start_month, end_month, sku, family, uplift_pct)""")
    con.execute("""CREATE TABLE staging.stg_plan__overrides AS SELECT * FROM (VALUES
        (DATE '2026-11-01', 'BIK-2', NULL, 'PLT1', 40.0, NULL, 'Tender won', 'a.martin'),
        (DATE '2026-10-01', 'PRT-1', NULL, 'DC1', NULL, -0.1, 'Destocking', NULL))
        AS t(month, sku, family, location_id, quantity, pct_change, reason, author)""")
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
    _build_decision_tables(con)
    for name in OUTPUT_TABLES:
        ensure_output_table(con, OUTPUT_TABLES[name])


def _build_decision_tables(con: duckdb.DuckDBPyConnection) -> None:
    """What the decision sections read: scenarios, decisions, the stairstep, the drift, the
    supply plan (this cycle and the last) and last month's plan vs actual."""
    kpis = {  # revenue, gross margin, supply cost, lost sales value, inventory value, peak
        BASELINE: (1_210_000, 605_000, 557_000, 10_000, 35_000, 1.00),
        "extra_shift": (1_250_000, 625_000, 567_000, 0, 36_000, 0.95),
        "late_supplier": (1_180_000, 590_000, 560_000, 40_000, 33_000, 1.00),
        "promotion": (1_300_000, 650_000, 590_000, 25_000, 38_000, 1.05),
    }
    base = kpis[BASELINE]
    _insert(con, "scenario_kpis", [
        {"scenario": name, "description": "" if name == BASELINE else f"What if: {name}",
         "currency": "CHF", "revenue": revenue, "cost_of_goods": revenue - margin,
         "gross_margin": margin, "production_cost": supply * 0.8,
         "purchase_cost": supply * 0.2, "overtime_cost": 0.0, "holding_cost": 0.0,
         "supply_cost": supply, "lost_sales_qty": lost / 1000, "lost_sales_value": lost,
         "fill_rate": 1 - lost / (revenue + lost), "inventory_value": stock,
         "days_of_cover": 15.0, "peak_utilisation": peak, "alerts_high": 3,
         "alerts_medium": 12, "alerts_low": 9,
         "margin_vs_baseline": (margin - supply) - (base[1] - base[2]),
         "lost_sales_vs_baseline": lost - base[3], "inventory_vs_baseline": stock - base[4]}
        for name, (revenue, margin, supply, lost, stock, peak) in kpis.items()])
    _insert(con, "plan_version", [{"scenario": BASELINE, "decision_id": None,
                                   "decided_by": None, "decided_in": None}])
    decisions = {  # id: decided in, title, adopts, owner, due, status (at CYCLE)
        "D-00": ("2026-01", "Close the old warehouse", None, "ceo", "2026-03", "done"),
        "D-01": ("2026-06", "Review the stock of BIK-1", None, "supply.planner", "2026-09",
                 "done"),
        "D-02": ("2026-07", "Qualify a second supplier", None, "purchasing.lead", "2026-08",
                 "open"),
        "D-03": ("2026-08", "Run the Bikes promotion", "promotion", "sales.director",
                 "2026-11", "dropped"),
        "D-04": ("2026-09", "Adopt the extra shift plan", "extra_shift", "ops.director",
                 "2026-12", "open"),
        "D-05": ("2026-10", "Renegotiate the chain price", None, "purchasing.lead", "2026-11",
                 "open"),
        "D-06": ("2026-10", "Launch the e-bike", None, "sales.director", "2027-03", "open"),
    }
    closed_before = {"D-00": "2026-03", "D-01": "2026-09", "D-03": "2026-09"}
    log = []
    for decision_id, (decided, title, adopts, owner, due, status) in decisions.items():
        due_month = pd.Timestamp(f"{due}-01")
        overdue = status == "open" and due_month < CYCLE
        row = {"decision_id": decision_id, "decided_in": pd.Timestamp(f"{decided}-01").date(),
               "title": title, "adopted_scenario": adopts, "owner": owner,
               "due_month": due_month.date(), "status": status, "rationale": "Because.",
               "is_overdue": overdue,
               "months_overdue": (CYCLE.year - due_month.year) * 12 + CYCLE.month
               - due_month.month if overdue else 0}
        log.append(row)
        if decision_id in closed_before:  # the cycle it was first closed in
            log.append({**row, "cycle_month": pd.Timestamp(
                f"{closed_before[decision_id]}-01").date()})
    log = [{"cycle_month": CYCLE.date(), **row} for row in log]
    _insert(con, "decision_log", log)

    steps = ("seasonal_naive", "statistical", "events", "crm_pipeline", "overrides")
    step_wape = (0.30, 0.24, 0.23, 0.23, 0.22)
    _insert(con, "variance_fva_stairstep", [
        {"target_month": PREVIOUS.date(), "family": family, "lag": lag, "step": step,
         "step_order": order + 1, "author": "all", "series": 4, "forecast_qty": 100.0,
         "actual_qty": 100.0, "wape": wape + 0.02 * lag + shift, "bias": 0.01,
         "fva": None if order == 0 else step_wape[order - 1] - wape,
         "fva_vs_naive": step_wape[0] - wape}
        for family, shift in (("all", 0.0), ("Bikes", 0.05))
        for lag in (1, 2, 3)
        for order, (step, wape) in enumerate(zip(steps, step_wape, strict=True))
    ] + [
        {"target_month": PREVIOUS.date(), "family": "all", "lag": 1, "step": "overrides",
         "step_order": 5, "author": author, "series": 2, "forecast_qty": 50.0,
         "actual_qty": 50.0, "wape": 0.2, "bias": 0.0, "fva": fva, "fva_vs_naive": 0.1}
        for author, fva in (("a.martin", 0.04), ("j.doe", -0.02))])
    drift = []
    for family, previous, now, price in (("Bikes", 300.0, 330.0, 1000.0),
                                         ("Parts", 100.0, 90.0, 15.0)):
        drift += [{"family": family, "month": month.date(), "previous_qty": previous,
                   "consensus_qty": now, "change_qty": now - previous,
                   "change_pct": now / previous - 1, "previous_value": previous * price,
                   "consensus_value": now * price, "change_value": (now - previous) * price}
                  for month in HORIZON[:5]]
    frame = pd.DataFrame(drift)
    totals = frame.groupby("month", as_index=False).sum(numeric_only=True)
    drift += totals.assign(family="all", change_pct=totals["change_qty"]
                           / totals["previous_qty"]).to_dict("records")
    _insert(con, "variance_plan_drift", drift)

    plan = []
    for cycle, months in ((CYCLE, HORIZON), (PREVIOUS, [PREVIOUS])):
        for sku, location in SERIES:
            make = sku.startswith("BIK")
            for i, month in enumerate(months):
                unmet = 20.0 if (sku, location, i) == ("BIK-1", "PLT1", 2) else 0.0
                plan.append({
                    "cycle_month": cycle.date(), "sku": sku, "location_id": location,
                    "month": month.date(), "make_or_buy": "make" if make else "buy",
                    "demand_qty": 100.0, "scheduled_receipts_qty": 20.0 * (i == 0),
                    "planned_production_qty": 80.0 * make,
                    "planned_purchase_qty": 80.0 * (not make), "opening_qty": 50.0,
                    "closing_qty": 50.0, "unmet_qty": unmet, "safety_stock_qty": 25.0})
    _insert(con, "supply_plan", plan)
    _insert(con, "variance_plan_vs_actual", [
        {"month": PREVIOUS.date(), "family": family, "supply_type": supply_type,
         "planned_qty": planned, "actual_qty": actual, "variance_qty": actual - planned,
         "planned_value": planned * cost, "actual_value": actual * cost,
         "variance_value": (actual - planned) * cost}
        for family, supply_type, planned, actual, cost in (
            ("Bikes", "production", 100.0, 90.0, 400.0),
            ("Parts", "purchase", 50.0, 55.0, 5.0))])
