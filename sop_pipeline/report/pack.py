"""The S&OP pack: one self-contained HTML report per cycle for the executive S&OP meeting.

Seven sections (`pack_sections()`), each a heading, a one-line takeaway computed from the
data and a plotly chart, or a stated reason there is none. Everything is read from the working
warehouse for one cycle. plotly.js is inlined once, so the file opens offline; chart div ids
are fixed and no timestamp is written, so the same warehouse gives the same bytes.
`pack_problems` is the completeness check (tests, asset checks): every section present, every
chart with data, no resource fetched from the network.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sop_pipeline.cycle import month_start
from sop_pipeline.review.variance import ALL_FAMILIES
from sop_pipeline.tables import OUTPUT_TABLES

SECTIONS: tuple[tuple[str, str], ...] = (
    ("headline", "Headline"),
    ("demand", "Demand"),
    ("capacity", "Capacity"),
    ("inventory", "Inventory"),
    ("budget", "Gap to budget"),
    ("waterfall", "Forecast waterfall"),
    ("alerts", "Alerts"),
)
# Sections that may legitimately carry no chart, and the only reason each may give: the
# waterfall before earlier cycles exist, capacity for a company without work centres (a
# distributor), the budget when no budget was loaded (erp/budget is optional). Any other
# empty section (a table not built for the cycle) is a problem.
ALLOWED_EMPTY: Mapping[str, tuple[str, ...]] = {
    "waterfall": ("not-enough-history",),
    "capacity": ("no-work-centres",),
    "budget": ("no-budget",),
}
ALERT_KINDS = (
    "projected_stockout", "below_safety_stock", "excess_stock", "capacity_overload",
    "late_purchase_order", "supplier_lead_time", "biased_forecast",
)
SEVERITIES = ("high", "medium", "low")
TOP_ALERTS = 20
RISKY_SKU_LOCATIONS = 6
HISTORY_MONTHS = 24
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

_BLOCKS = "▁▂▃▄▅▆▇█"
_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                  "modeBarButtonsToRemove": ["select2d", "lasso2d"]}
_INK, _FORECAST, _CONSENSUS, _MUTED = "#1f2937", "#2563eb", "#ea580c", "#6b7280"
_SEVERITY_COLOURS = {"high": "#dc2626", "medium": "#f59e0b", "low": "#9ca3af"}
_NO_FAMILY = "(no family)"
# Vega's Tableau-10, reordered so families do not take the forecast orange or the alert red.
_PALETTE = ("#4C78A8", "#72B7B2", "#54A24B", "#B279A2", "#9D755D", "#EECA3B", "#FF9DA6",
            "#BAB0AC", "#F58518", "#E45756")


def pack_sections() -> tuple[str, ...]:
    """Section ids of the pack, in page order (each is an HTML id and `chart-<id>`)."""
    return tuple(section_id for section_id, _ in SECTIONS)


def build_pack(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp) -> str:
    """The pack of one cycle as a self-contained HTML page."""
    warehouse = _Warehouse(con, month_start(cycle_month))
    builders: dict[str, Callable[[_Warehouse], _Section]] = {
        "headline": _headline, "demand": _demand, "capacity": _capacity,
        "inventory": _inventory, "budget": _budget, "waterfall": _waterfall,
        "alerts": _alerts,
    }
    return _render_page(warehouse.cycle, [builders[s](warehouse) for s in pack_sections()])


def pack_path(warehouse_dir: Path, cycle_month: pd.Timestamp) -> Path:
    """Where a cycle's pack lives: <warehouse_dir>/packs/sop_pack_YYYY-MM.html."""
    return Path(warehouse_dir) / "packs" / f"sop_pack_{month_start(cycle_month):%Y-%m}.html"


def write_pack(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp, warehouse_dir: Path
               ) -> Path:
    """Write the cycle's pack to pack_path() atomically (temp file, then rename over)."""
    target = pack_path(warehouse_dir, cycle_month)
    out_dir = target.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    page = build_pack(con, cycle_month)
    handle, temp_name = tempfile.mkstemp(dir=out_dir, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(page)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target


def pack_problems(
    page: str, allowed_empty: Mapping[str, tuple[str, ...]] = ALLOWED_EMPTY
) -> list[str]:
    """What makes a pack incomplete: a missing section, a section without a chart (unless
    `allowed_empty` lets it give its reason), a chart without data, a network resource."""
    problems = []
    figures = chart_figures(page)
    for section_id in pack_sections():
        opening = re.search(rf'<section\b[^>]*\bid="{section_id}"[^>]*>', page)
        if opening is None:
            problems.append(f"section {section_id!r} is missing")
            continue
        figure = figures.get(f"chart-{section_id}")
        if figure is None:
            reason = re.search(r'data-empty="([^"]*)"', opening.group(0))
            reason = reason.group(1) if reason else "none given"
            if reason not in allowed_empty.get(section_id, ()):
                problems.append(f"section {section_id!r} has no chart (reason: {reason})")
            continue
        if not any(_trace_has_points(trace) for trace in figure["data"]):
            problems.append(f"chart of section {section_id!r} has no data point")
    problems.extend(f"fetches from the network: {ref}" for ref in _external_references(page))
    return problems


def chart_figures(page: str) -> dict[str, dict]:
    """The plotly figures of a page as {div id: {"data": [...], "layout": {...}}}."""
    decoder = json.JSONDecoder()
    figures = {}
    for call in re.finditer(r'Plotly\.newPlot\(\s*"([^"]+)",\s*', page):
        data, end = decoder.raw_decode(page, call.end())
        end = re.compile(r"\s*,\s*").match(page, end).end()
        layout, _ = decoder.raw_decode(page, end)
        figures[call.group(1)] = {"data": data, "layout": layout}
    return figures


def sparkline_markdown(values: Iterable[float | None], width: int = 24) -> str:
    """A one-line unicode block chart with its range, e.g. "`▁▂▅▆█▅` min 1 · max 9".

    Longer series are averaged into `width` buckets; missing values show as a space.
    """
    if width < 1:
        raise ValueError("width must be at least 1")
    series = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    series[~np.isfinite(series)] = np.nan
    if len(series) > width:
        series = np.array([
            np.nanmean(chunk) if np.isfinite(chunk).any() else np.nan
            for chunk in np.array_split(series, width)
        ])
    finite = series[np.isfinite(series)]
    if finite.size == 0:
        return "(no data)"
    low, high = float(finite.min()), float(finite.max())
    chars = []
    for value in series:
        if not np.isfinite(value):
            chars.append(" ")
        elif high == low:
            chars.append(_BLOCKS[3])
        else:
            chars.append(_BLOCKS[int((value - low) / (high - low) * 7 + 0.5)])
    return f"`{''.join(chars)}` min {_compact(low)} · max {_compact(high)}"


def find_chromium() -> str | None:
    """Path of a Chromium or Chrome on PATH (headless rendering and screenshots), or None."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


# --- reading the warehouse --------------------------------------------------------------------


@dataclass(frozen=True)
class _Section:
    id: str
    takeaway: str
    figure: go.Figure | None = None
    empty: str | None = None  # why there is no chart: an ALLOWED_EMPTY reason, or "no-data"
    notes: tuple[str, ...] = ()
    extra_html: str = ""


class _Warehouse:
    """One cycle's view of the working database; a missing table reads as empty."""

    def __init__(self, con: duckdb.DuckDBPyConnection, cycle: pd.Timestamp):
        self.con = con
        self.cycle = cycle
        self.tables = {
            f"{schema}.{name}" for schema, name in con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() "
                "UNION ALL SELECT schema_name, view_name FROM duckdb_views() "
                "WHERE NOT internal").fetchall()
        }

    def has(self, table: str) -> bool:
        return table in self.tables

    def rows(self, table: str) -> int:
        if not self.has(table):
            return 0
        return self.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def cycle_rows(self, name: str) -> pd.DataFrame:
        """This cycle's rows of an output table, with its documented columns."""
        columns = OUTPUT_TABLES[name].column_names
        if not self.has(f"main.{name}"):
            return pd.DataFrame(columns=columns)
        frame = self.query(f"SELECT * FROM main.{name} WHERE cycle_month = $cycle")
        return frame.reindex(columns=columns)

    def query(self, sql: str) -> pd.DataFrame:
        """Run SQL with `$cycle` bound to the cycle's first day; month columns as Timestamps."""
        params = {"cycle": self.cycle.date()} if "$cycle" in sql else {}
        frame = self.con.execute(sql, params).df()
        for column in ("month", "target_month", "cycle_month"):
            if column in frame:
                frame[column] = pd.to_datetime(frame[column])
        return frame


# --- sections ---------------------------------------------------------------------------------


def _headline(wh: _Warehouse) -> _Section:
    summary = wh.cycle_rows("cycle_summary")
    if summary.empty:
        return _Section("headline", "No headline figures: cycle_summary has no row for this "
                        "cycle.", empty="no-data")
    s = summary.iloc[0].to_dict()
    s = {k: (None if _missing(v) else v) for k, v in s.items()}
    peak_where = s["peak_work_center"] or "no work centres"
    tiles = [
        ("WAPE lag 1", s["wape_lag1"], ".1%", "forecast error, month just closed"),
        ("WAPE lag 3", s["wape_lag3"], ".1%", "forecast made 3 months ahead"),
        ("Bias lag 1", s["bias_lag1"], "+.1%", "positive = over-forecast"),
        ("FVA lag 1", s["fva_lag1"], "+.1%", "gain over seasonal naive"),
        ("FY revenue outlook", s["consensus_value_fy"], ".3~s",
         f"budget {_compact(s['budget_value_fy'])}" if s["budget_value_fy"] else "no budget"),
        ("Peak utilisation", s["peak_utilisation"], ".0%", peak_where),
        ("At stockout risk", s["skus_at_stockout_risk"], ",.0f", "sku-locations"),
        ("Unmet demand", s["unmet_qty"], ",.0f", "units over the horizon"),
        ("Inventory value", s["inventory_value_m3"], ".3~s", "end of month 3"),
        ("High alerts", s["alerts_high"], ",.0f",
         f"medium {_count(s['alerts_medium'])} · low {_count(s['alerts_low'])}"),
    ]
    figure = go.Figure()
    for i, (title, value, value_format, note) in enumerate(tiles):
        subtitle = note if value is not None else "not available yet"
        indicator = dict(
            mode="number", value=None if value is None else float(value),
            number={"valueformat": value_format, "font": {"size": 34}},
            title={"text": f"{title}<br><span style='font-size:0.75em;color:{_MUTED}'>"
                           f"{_text(subtitle)}</span>", "font": {"size": 15}},
            domain={"row": i // 5, "column": i % 5},
        )
        if title == "FY revenue outlook" and value is not None and s["budget_value_fy"]:
            indicator.update(mode="number+delta", delta={
                "reference": float(s["budget_value_fy"]), "relative": True,
                "valueformat": "+.1%", "font": {"size": 16}})
        if title == "Peak utilisation" and value is not None and value > 1:
            indicator["number"]["font"]["color"] = _SEVERITY_COLOURS["high"]
        figure.add_trace(go.Indicator(**indicator))
    figure.update_layout(grid={"rows": 2, "columns": 5, "pattern": "independent"},
                         height=300, margin={"t": 40, "b": 10, "l": 10, "r": 10})

    parts = []
    if s["consensus_value_fy"] is not None and s["budget_value_fy"]:
        parts.append(f"FY revenue outlook {_compact(s['consensus_value_fy'])}, "
                     f"{_versus(s['consensus_value_fy'] / s['budget_value_fy'])} budget")
    if s["peak_utilisation"] is not None:
        parts.append(f"peak load {_pct(s['peak_utilisation'], 0)} ({peak_where})")
    parts.append(f"{_count(s['skus_at_stockout_risk'])} sku-locations at risk of stockout")
    parts.append(f"{_count(s['alerts_high'])} high alerts")
    return _Section("headline", _sentence("; ".join(parts)), figure)


def _demand(wh: _Warehouse) -> _Section:
    actuals = _empty_monthly()
    if wh.has("marts.fct_monthly_demand"):
        actuals = wh.query(
            f"""SELECT month, coalesce(family, '{_NO_FAMILY}') AS family, sum(order_qty) AS qty
                FROM marts.fct_monthly_demand
                WHERE month < $cycle AND month >= $cycle - INTERVAL {HISTORY_MONTHS} MONTH
                GROUP BY ALL""")
    forecast = pd.DataFrame(columns=["month", "family", "forecast_qty", "lower_80", "upper_80",
                                     "lower_95", "upper_95"])
    if wh.has("main.demand_forecast"):
        families = ("SELECT sku, any_value(family) AS family FROM marts.dim_items GROUP BY sku"
                    if wh.has("marts.dim_items") else
                    "SELECT sku, any_value(family) AS family FROM main.consensus_demand "
                    "WHERE cycle_month = $cycle GROUP BY sku"
                    if wh.has("main.consensus_demand") else
                    "SELECT NULL::VARCHAR AS sku, NULL::VARCHAR AS family")
        forecast = wh.query(
            f"""WITH families AS ({families})
                SELECT f.month, coalesce(i.family, '{_NO_FAMILY}') AS family,
                       sum(f.forecast_qty) AS forecast_qty,
                       sum(f.lower_80) AS lower_80, sum(f.upper_80) AS upper_80,
                       sum(f.lower_95) AS lower_95, sum(f.upper_95) AS upper_95
                FROM main.demand_forecast AS f LEFT JOIN families AS i USING (sku)
                WHERE f.cycle_month = $cycle AND f.is_selected
                GROUP BY ALL""")
    consensus = _empty_monthly()
    if wh.has("main.consensus_demand"):
        consensus = wh.query(
            f"""SELECT month, coalesce(family, '{_NO_FAMILY}') AS family,
                       sum(consensus_qty) AS qty
                FROM main.consensus_demand WHERE cycle_month = $cycle GROUP BY ALL""")
    if actuals.empty and forecast.empty and consensus.empty:
        return _Section("demand", "No demand history, forecast or consensus for this cycle.",
                        empty="no-data")

    families = sorted(set(actuals["family"]) | set(forecast["family"]) | set(consensus["family"]))
    groups = ["All families", *families]
    figure = go.Figure()
    per_group = 0
    for g, group in enumerate(groups):
        def pick(frame: pd.DataFrame, group: str = group) -> pd.DataFrame:
            chosen = frame if group == "All families" else frame[frame["family"] == group]
            return chosen.drop(columns="family").groupby("month").sum().sort_index()

        traces = _demand_traces(pick(actuals), pick(forecast), pick(consensus), visible=g == 0)
        per_group = len(traces)
        figure.add_traces(traces)
    buttons = []
    for g, group in enumerate(groups):
        visible = [g == t // per_group for t in range(per_group * len(groups))]
        buttons.append({"label": group, "method": "update",
                        "args": [{"visible": visible}, {"title.text": f"Demand: {group}"}]})
    figure.update_layout(
        title={"text": "Demand: All families", "x": 0.5},
        updatemenus=[{"buttons": buttons, "x": 0, "xanchor": "left", "y": 1.18,
                      "yanchor": "top", "showactive": True}],
        height=460, hovermode="x unified",
        yaxis={"title": {"text": "units a month"}, "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.12}, margin={"t": 80},
    )
    figure.add_vline(x=_boundary(wh.cycle), line_dash="dot", line_color=_MUTED)
    return _Section(
        "demand", _demand_takeaway(wh.cycle, actuals, forecast, consensus), figure,
        notes=("Pick a family in the menu at the top left. History: units ordered in the last "
               f"{HISTORY_MONTHS} months (cancelled lines left out).",
               "The 80 % and 95 % bands are the selected models' prediction intervals summed "
               "over the family's sku-locations: summing bounds treats the series' errors as "
               "moving together, so the family bands are conservative (wider than the true "
               "ones)."))


def _demand_traces(actuals: pd.DataFrame, forecast: pd.DataFrame, consensus: pd.DataFrame,
                   visible: bool) -> list[go.Scatter]:
    band = forecast.index.tolist()

    def edge(column: str, name: str, fill: str | None, alpha: float) -> go.Scatter:
        return go.Scatter(
            x=band, y=_floats(forecast.get(column, [])), name=name, mode="lines",
            line={"width": 0}, fill=fill, fillcolor=f"rgba(37, 99, 235, {alpha})",
            showlegend=fill is not None, hoverinfo="skip", visible=visible)

    return [
        edge("upper_95", "95 % interval", None, 0.12),
        edge("lower_95", "95 % interval", "tonexty", 0.12),
        edge("upper_80", "80 % interval", None, 0.22),
        edge("lower_80", "80 % interval", "tonexty", 0.22),
        go.Scatter(x=band, y=_floats(forecast.get("forecast_qty", [])),
                   name="statistical forecast", mode="lines",
                   line={"color": _FORECAST, "dash": "dash"}, visible=visible),
        go.Scatter(x=consensus.index.tolist(), y=_floats(consensus.get("qty", [])),
                   name="consensus", mode="lines+markers",
                   line={"color": _CONSENSUS, "width": 2.5}, marker={"size": 5},
                   visible=visible),
        go.Scatter(x=actuals.index.tolist(), y=_floats(actuals.get("qty", [])),
                   name="actual orders", mode="lines", line={"color": _INK, "width": 2},
                   visible=visible),
    ]


def _demand_takeaway(cycle: pd.Timestamp, actuals: pd.DataFrame, forecast: pd.DataFrame,
                     consensus: pd.DataFrame) -> str:
    """The next (up to) 12 months of consensus against the same months a year before."""
    ahead = consensus[consensus["month"] < cycle + pd.DateOffset(months=12)]
    months = sorted(ahead["month"].unique())
    if not months:
        return "No consensus demand for this cycle."
    plan = ahead["qty"].sum()
    text = f"Consensus for the next {len(months)} months: {_compact(plan)} units"
    year_before = actuals[actuals["month"].isin([m - pd.DateOffset(months=12) for m in months])]
    if year_before["qty"].sum() > 0:
        text += f", {_versus(plan / year_before['qty'].sum())} the same months last year"
        change = (ahead.groupby("family")["qty"].sum()
                  / year_before.groupby("family")["qty"].sum() - 1)
        change = change[np.isfinite(change)]
        if len(change) > 1:
            family = change.abs().sort_values(ascending=False, kind="stable").index[0]
            text += f" (largest change: {family} {_signed_pct(change[family])})"
    statistical = forecast.loc[forecast["month"].isin(months), "forecast_qty"].sum()
    if statistical > 0:
        text += f"; {_versus(plan / statistical)} the statistical forecast"
    return _sentence(text)


def _capacity(wh: _Warehouse) -> _Section:
    plan = wh.cycle_rows("capacity_plan")
    if plan.empty:
        if wh.rows("marts.dim_work_centers"):
            return _Section("capacity", "capacity_plan has no rows for this cycle although "
                            "work centres exist.", empty="no-data")
        return _Section("capacity", "No work centres: nothing is made in house (a "
                        "distributor), so there is no capacity to plan.",
                        empty="no-work-centres")
    for column in ("utilisation", "planned_utilisation"):
        plan[column] = plan[column].astype(float).replace([np.inf, -np.inf], np.nan)
    centres = sorted(plan["work_center_id"].unique(), reverse=True)  # first at the top
    months = sorted(plan["month"].unique())
    labels = [f"{pd.Timestamp(m):%b %y}" for m in months]
    grid = plan.pivot_table(index="work_center_id", columns="month", values="utilisation",
                            aggfunc="first").reindex(index=centres, columns=months)
    peak_value = float(np.nanmax(grid.to_numpy())) if grid.notna().any().any() else 1.0
    top = max(1.5, peak_value)
    full = 1 / top
    scale = [[0, "#1a9850"], [full * 0.5, "#a6d96a"], [full * 0.85, "#d9ef8b"],
             [full, "#fee08b"], [full + (1 - full) * 0.25, "#f46d43"], [1, "#a50026"]]
    text = [[("" if _missing(v) else f"<b>{v:.0%}</b>" if v > 1 else f"{v:.0%}")
             for v in row] for row in grid.to_numpy()]

    figure = make_subplots(rows=2, cols=1, vertical_spacing=0.16, row_heights=[0.55, 0.45],
                           subplot_titles=("Required hours / available hours (bold: over 100 %)",
                                           "Planned utilisation (supply plan, with build-ahead)"))
    figure.add_trace(go.Heatmap(
        z=[_floats(row) for row in grid.to_numpy()], x=labels, y=centres, text=text,
        texttemplate="%{text}", textfont={"size": 11}, zmin=0, zmax=top, colorscale=scale,
        xgap=2, ygap=2,
        hovertemplate="%{y}, %{x}: %{z:.0%} of available hours<extra></extra>",
        colorbar={"title": {"text": "load"}, "len": 0.5, "y": 0.78, "tickformat": ".0%",
                  "tickvals": [0, 0.5, 1, top], "ticktext": ["0 %", "50 %", "100 % full",
                                                             f"{top:.0%}"]}),
        row=1, col=1)
    for i, centre in enumerate(sorted(plan["work_center_id"].unique())):
        rows = plan[plan["work_center_id"] == centre].sort_values("month")
        figure.add_trace(go.Scatter(
            x=rows["month"].tolist(), y=_floats(rows["planned_utilisation"]), name=centre,
            mode="lines+markers", line={"color": _PALETTE[i % len(_PALETTE)]}), row=2, col=1)
    figure.add_hline(y=1, line_dash="dash", line_color=_SEVERITY_COLOURS["high"], row=2, col=1,
                     annotation_text="100 %", annotation_position="top right")
    figure.update_xaxes(type="category", row=1, col=1)
    figure.update_yaxes(tickformat=".0%", rangemode="tozero", row=2, col=1)
    figure.update_layout(height=260 + 36 * len(centres) + 240, margin={"t": 40, "b": 40},
                         legend={"y": 0.2, "title": {"text": "planned"}})

    required = plan.dropna(subset=["utilisation"])
    if required.empty:
        return _Section("capacity", "No work centre has available hours this cycle.", figure)
    peak = required.loc[required["utilisation"].idxmax()]
    over = int((required["utilisation"] > 1).sum())
    where = f"{peak['work_center_id']} in {_month_label(peak['month'])}"
    if over:
        text = (f"{over} work-centre months need more than 100 % of their hours; peak "
                f"{_pct(peak['utilisation'], 0)} at {where}")
    else:
        text = (f"Every work centre stays within its hours: peak "
                f"{_pct(peak['utilisation'], 0)} at {where}")
    planned = plan["planned_utilisation"].dropna()
    if not planned.empty:
        text += f"; the supply plan's peak is {_pct(planned.max(), 0)}"
    return _Section("capacity", _sentence(text), figure)


def _inventory(wh: _Warehouse) -> _Section:
    projection = wh.cycle_rows("inventory_projection")
    if projection.empty:
        return _Section("inventory", "inventory_projection has no rows for this cycle.",
                        empty="no-data")
    projection = projection.assign(
        stockout=projection["status"].eq("stockout"),
        below=projection["status"].eq("below_safety_stock"),
        margin=projection["closing_qty"] - projection["safety_stock_qty"].fillna(0))
    risk = (projection.groupby(["sku", "location_id"])
            .agg(stockout=("stockout", "sum"), below=("below", "sum"), margin=("margin", "min"),
                 months=("month", "count"))
            .reset_index())
    risk["risk_months"] = risk["stockout"] + risk["below"]
    risk = risk.sort_values(["risk_months", "stockout", "margin", "sku", "location_id"],
                            ascending=[False, False, True, True, True])
    top = risk.head(RISKY_SKU_LOCATIONS)
    cols = min(3, len(top))
    rows = math.ceil(len(top) / cols)
    titles = [f"{r.sku} @ {r.location_id}: {r.risk_months} of {r.months} months at risk"
              for r in top.itertuples()]
    figure = make_subplots(rows=rows, cols=cols, subplot_titles=titles,
                           vertical_spacing=0.18 if rows > 1 else 0.1, horizontal_spacing=0.06)
    for i, r in enumerate(top.itertuples()):
        series = projection[(projection["sku"] == r.sku)
                            & (projection["location_id"] == r.location_id)].sort_values("month")
        place = {"row": i // cols + 1, "col": i % cols + 1}
        first = i == 0
        figure.add_trace(go.Scatter(
            x=series["month"].tolist(), y=_floats(series["closing_qty"]), name="closing stock",
            mode="lines", line={"color": _FORECAST, "width": 2}, legendgroup="closing",
            showlegend=first), **place)
        figure.add_trace(go.Scatter(
            x=series["month"].tolist(), y=_floats(series["safety_stock_qty"]),
            name="safety stock", mode="lines", line={"color": _MUTED, "dash": "dash"},
            legendgroup="safety", showlegend=first), **place)
        for status, colour, label in (("stockout", "high", "stockout"),
                                      ("below", "medium", "below safety stock")):
            flagged = series[series[status]]
            figure.add_trace(go.Scatter(
                x=flagged["month"].tolist(), y=_floats(flagged["closing_qty"]), name=label,
                mode="markers", marker={"color": _SEVERITY_COLOURS[colour], "size": 7},
                legendgroup=status, showlegend=first), **place)
    figure.add_hline(y=0, line_color="#d1d5db", line_width=1, row="all", col="all")
    figure.update_xaxes(tickformat="%b %y")
    figure.update_annotations(font_size=12)
    figure.update_layout(height=90 + 280 * rows, margin={"t": 50},
                         legend={"orientation": "h", "y": -0.08})

    stockout = int((risk["stockout"] > 0).sum())
    below = int(((risk["stockout"] == 0) & (risk["below"] > 0)).sum())
    worst = top.iloc[0]
    if worst["risk_months"] == 0:
        text = ("No sku-location is projected to stock out or fall below safety stock; "
                f"shown: the {len(top)} with the thinnest margin over safety stock")
    else:
        text = f"{stockout} sku-locations are projected to stock out"
        if below:
            text += f" and {below} more to dip below safety stock"
        text += (f"; the riskiest, {worst['sku']} at "
                f"{worst['location_id']}, is at risk in {worst['risk_months']} of "
                f"{worst['months']} months")
    return _Section("inventory", _sentence(text), figure, notes=(
        f"The {len(top)} sku-locations with the most months in stockout or below safety "
        "stock (ties: more stockout months, then the lowest stock against safety stock).",))


def _budget(wh: _Warehouse) -> _Section:
    gaps = wh.cycle_rows("variance_budget")
    if gaps.empty:
        if wh.rows("marts.fct_budget"):
            return _Section("budget", "variance_budget has no rows for this cycle although a "
                            "budget is loaded.", empty="no-data")
        return _Section("budget", "No budget loaded (erp/budget is optional), so there is no "
                        "gap to budget to show.", empty="no-budget")
    gaps = gaps.sort_values(["month", "family"])
    families = sorted(gaps["family"].unique())
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                           subplot_titles=("Gap to budget by family and month (value)",
                                           "Cumulative fiscal-year gap, all families"))
    for i, family in enumerate(families):
        rows = gaps[gaps["family"] == family]
        figure.add_trace(go.Bar(
            x=rows["month"].tolist(), y=_floats(rows["gap_value"]), name=family,
            marker={"color": _PALETTE[i % len(_PALETTE)],
                    "opacity": [1.0 if b == "actual" else 0.6 for b in rows["basis"]]},
            customdata=rows["basis"].tolist(),
            hovertemplate="%{x|%b %Y}: %{y:,.0f} (%{customdata})"), row=1, col=1)
    totals = (gaps.groupby(["fiscal_year", "month"])[["cumulative_gap_value", "gap_value"]]
              .sum().reset_index())
    for i, (fiscal_year, rows) in enumerate(totals.groupby("fiscal_year")):
        figure.add_trace(go.Scatter(
            x=rows["month"].tolist(), y=_floats(rows["cumulative_gap_value"]),
            name="cumulative FY gap", mode="lines+markers", fill="tozeroy",
            line={"color": _INK, "width": 2.5}, legendgroup="cumulative", showlegend=i == 0,
            hovertemplate=f"FY{fiscal_year}, " + "%{x|%b %Y}: %{y:,.0f}<extra></extra>"),
            row=2, col=1)
    boundary = _boundary(wh.cycle)
    for row in (1, 2):
        figure.add_vline(x=boundary, line_dash="dot", line_color=_MUTED, row=row, col=1)
        figure.add_hline(y=0, line_color="#9ca3af", line_width=1, row=row, col=1)
    figure.update_yaxes(tickformat="~s")
    figure.update_layout(barmode="relative", height=560, margin={"t": 50},
                         legend={"orientation": "h", "y": -0.08})

    fiscal_year = _current_fiscal_year(gaps, wh.cycle)
    year = gaps[gaps["fiscal_year"] == fiscal_year]
    plan, budget = year["plan_value"].sum(), year["budget_value"].sum()
    gap = plan - budget
    text = (f"FY{fiscal_year}: actuals to date plus consensus come to {_compact(plan)}, "
            f"{_compact(abs(gap))} {'above' if gap >= 0 else 'below'} budget")
    if budget:
        text += f" ({_signed_pct(plan / budget - 1)})"
    by_family = year.groupby("family")["gap_value"].sum()
    if len(by_family) > 1:
        worst = by_family.idxmin() if gap < 0 else by_family.idxmax()
        text += f"; largest family gap: {worst} {_signed_compact(by_family[worst])}"
    return _Section("budget", _sentence(text), figure, notes=(
        "Gap = plan value - budget value. Left of the dotted line, months closed before the "
        "cycle (actual net value, solid bars); right of it, the consensus value (lighter "
        "bars). The cumulative gap restarts at each fiscal year's first month.",))


def _waterfall(wh: _Warehouse) -> _Section:
    accuracy = wh.cycle_rows("variance_forecast_by_family")
    if accuracy.empty:
        return _Section("waterfall", "Not enough history yet: the waterfall compares the "
                        "forecasts earlier cycles made for the month that just closed, so it "
                        "fills in once earlier cycles have run (backfill them to build it).",
                        empty="not-enough-history")
    accuracy = accuracy.sort_values(["family", "lag"])
    target = accuracy["target_month"].max()
    accuracy = accuracy[accuracy["target_month"] == target]
    families = sorted(set(accuracy["family"]) - {ALL_FAMILIES})
    overall = accuracy[accuracy["family"] == ALL_FAMILIES]
    if overall.empty:  # weight each family's WAPE by its actuals: the pooled WAPE
        weighted = accuracy.assign(abs_error=accuracy["wape"] * accuracy["actual_qty"],
                                   naive_error=accuracy["naive_wape"] * accuracy["actual_qty"])
        overall = weighted.groupby("lag")[["abs_error", "naive_error", "actual_qty"]].sum()
        overall = pd.DataFrame({
            "lag": overall.index, "wape": overall["abs_error"] / overall["actual_qty"],
            "fva": (overall["naive_error"] - overall["abs_error"]) / overall["actual_qty"]})
    figure = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                           subplot_titles=("WAPE by lag (lower is better)",
                                           "Forecast value added over seasonal naive"))
    lines = [("All families", overall, _INK, 3)] + [
        (family, accuracy[accuracy["family"] == family], _PALETTE[i % len(_PALETTE)], 1.5)
        for i, family in enumerate(families)]
    for name, rows, colour, width in lines:
        figure.add_trace(go.Scatter(
            x=rows["lag"].astype(int).tolist(), y=_floats(rows["wape"]), name=name,
            mode="lines+markers", line={"color": colour, "width": width}, legendgroup=name),
            row=1, col=1)
        figure.add_trace(go.Bar(
            x=rows["lag"].astype(int).tolist(), y=_floats(rows["fva"]), name=name,
            marker={"color": colour}, legendgroup=name, showlegend=False), row=1, col=2)
    figure.add_hline(y=0, line_color="#9ca3af", line_width=1, row=1, col=2)
    figure.update_xaxes(title_text="lag (months before the target month)", dtick=1)
    figure.update_yaxes(tickformat=".0%", rangemode="tozero", row=1, col=1)
    figure.update_yaxes(tickformat="+.0%", title_text="naive WAPE - WAPE", row=1, col=2)
    figure.update_layout(height=420, barmode="group", margin={"t": 50})

    overall = overall.dropna(subset=["wape"]).sort_values("lag")
    text = f"Forecasts of {_month_label(target)}"
    if overall.empty:
        return _Section("waterfall", _sentence(text + ": no actuals to score them against"),
                        figure)
    near = overall[overall["lag"] == 1] if (overall["lag"] == 1).any() else overall.head(1)
    near, far = near.iloc[0], overall.iloc[-1]
    text += f": WAPE {_pct(near['wape'])} at lag {int(near['lag'])}"
    if far["lag"] != near["lag"]:
        text += f" and {_pct(far['wape'])} at lag {int(far['lag'])}"
    if not _missing(near["fva"]):
        verb = "beat" if near["fva"] >= 0 else "trailed"
        text += (f"; at lag {int(near['lag'])} the forecast {verb} seasonal naive by "
                 f"{abs(near['fva']) * 100:.1f} points")
    return _Section("waterfall", _sentence(text), figure, notes=(
        "WAPE = sum |forecast - actual| / sum actual over the family's sku-locations; lag = "
        "months between the forecasting cycle and the month forecast.",))


def _alerts(wh: _Warehouse) -> _Section:
    alerts = wh.cycle_rows("alerts")
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    alerts = alerts.assign(rank=alerts["severity"].map(rank).fillna(len(rank)))
    alerts = alerts.sort_values(["rank", "kind", "entity", "month"], kind="stable")
    kinds = [*ALERT_KINDS, *sorted(set(alerts["kind"].dropna()) - set(ALERT_KINDS))]
    counts = (alerts.groupby(["kind", "severity"]).size()
              .unstack(fill_value=0).reindex(index=kinds, columns=SEVERITIES, fill_value=0))
    figure = go.Figure()
    labels = [k.replace("_", " ") for k in kinds]
    for severity in SEVERITIES:
        figure.add_trace(go.Bar(
            y=labels, x=[int(n) for n in counts[severity]], name=severity, orientation="h",
            marker={"color": _SEVERITY_COLOURS[severity]}))
    figure.update_layout(barmode="stack", height=80 + 34 * len(kinds),
                         yaxis={"autorange": "reversed"}, xaxis_title="alerts",
                         margin={"t": 20, "l": 160}, legend={"traceorder": "normal"})

    by_severity = alerts["severity"].value_counts()
    if alerts.empty:
        text = "No alerts this cycle"
    else:
        common = alerts.groupby("kind").size().reset_index(name="n")
        common = common.sort_values(["n", "kind"], ascending=[False, True]).iloc[0]
        text = (f"{len(alerts)} alerts: " + ", ".join(
            f"{int(by_severity.get(s, 0))} {s}" for s in SEVERITIES)
            + f"; most common: {common['kind'].replace('_', ' ')} ({int(common['n'])})")
    shown = alerts.head(TOP_ALERTS)
    return _Section("alerts", _sentence(text), figure,
                    extra_html=_alerts_table(shown, len(alerts)))


def _alerts_table(alerts: pd.DataFrame, total: int) -> str:
    if alerts.empty:
        return ""
    rows = "\n".join(
        f'<tr><td><span class="badge {html.escape(str(a.severity))}">'
        f"{_text(a.severity)}</span></td><td>{_text(str(a.kind).replace('_', ' '))}</td>"
        f"<td>{_text(a.entity)}</td><td>{_month_label(a.month)}</td>"
        f"<td>{_text(a.message)}</td></tr>"
        for a in alerts.itertuples())
    caption = f"Top {len(alerts)} of {total} alerts, high first"
    return (f'<table class="alerts"><caption>{caption}</caption><thead><tr><th>severity</th>'
            "<th>kind</th><th>entity</th><th>month</th><th>message</th></tr></thead>"
            f"<tbody>\n{rows}\n</tbody></table>")


# --- the page ---------------------------------------------------------------------------------


def _render_page(cycle: pd.Timestamp, sections: list[_Section]) -> str:
    titles = dict(SECTIONS)
    parts, plotly_included = [], False
    for section in sections:
        if section.figure is not None:
            section.figure.update_layout(template="plotly_white", font={"family": _FONTS})
            chart = section.figure.to_html(
                full_html=False, include_plotlyjs=not plotly_included,
                div_id=f"chart-{section.id}", config=_PLOTLY_CONFIG)
            plotly_included = True
            body = f'<div class="chart">{chart}</div>'
            empty_attribute = ""
        else:
            reason = section.empty or "no-data"
            body = f'<p class="empty">{_EMPTY_LABELS.get(reason, reason)}</p>'
            empty_attribute = f' data-empty="{reason}"'
        notes = "".join(f'<p class="note">{_text(n)}</p>' for n in section.notes)
        parts.append(
            f'<section id="{section.id}" class="pack-section"{empty_attribute}>\n'
            f"<h2>{_text(titles[section.id])}</h2>\n"
            f'<p class="takeaway">{_text(section.takeaway)}</p>\n'
            f"{body}\n{section.extra_html}{notes}\n</section>")
    toc = " · ".join(f'<a href="#{s}">{_text(t)}</a>' for s, t in SECTIONS)
    label = f"{cycle:%Y-%m}"
    return _PAGE.format(
        title=f"S&amp;OP pack, cycle {label}", css=_CSS, toc=toc,
        cycle=_month_label(cycle), cutoff=_month_label(cycle - pd.DateOffset(months=1)),
        sections="\n".join(parts))


_EMPTY_LABELS = {
    "not-enough-history": "Not enough history yet",
    "no-work-centres": "No work centres",
    "no-budget": "No budget loaded",
    "no-data": "No data for this cycle",
}
_FONTS = ("system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
          "'Liberation Sans', sans-serif")
_CSS = f"""
* {{ box-sizing: border-box; }}
body {{ font-family: {_FONTS}; color: {_INK}; background: #f3f4f6; margin: 0; }}
main {{ max-width: 1240px; margin: 0 auto; padding: 24px; }}
header h1 {{ font-size: 1.7rem; margin: 0 0 4px; }}
header p {{ color: {_MUTED}; margin: 0 0 12px; }}
nav {{ font-size: 0.9rem; margin-bottom: 16px; }}
nav a {{ color: {_FORECAST}; text-decoration: none; }}
section {{ background: #fff; border: 1px solid #e5e7eb; border-radius: 8px;
          padding: 16px 20px; margin-bottom: 18px; }}
h2 {{ font-size: 1.25rem; margin: 0 0 6px; }}
.takeaway {{ font-size: 1.05rem; border-left: 4px solid {_CONSENSUS}; padding-left: 10px;
            margin: 0 0 10px; }}
.empty {{ background: #f9fafb; border: 1px dashed #d1d5db; border-radius: 6px;
         padding: 28px; text-align: center; color: {_MUTED}; }}
.note {{ font-size: 0.82rem; color: {_MUTED}; margin: 6px 0 0; }}
table.alerts {{ border-collapse: collapse; width: 100%; font-size: 0.85rem; margin-top: 10px; }}
table.alerts caption {{ text-align: left; font-weight: 600; padding: 4px 0; }}
table.alerts th, table.alerts td {{ border-bottom: 1px solid #e5e7eb; padding: 5px 8px;
                                   text-align: left; vertical-align: top; }}
table.alerts td:nth-child(-n+4) {{ white-space: nowrap; }}
.badge {{ border-radius: 10px; padding: 1px 8px; color: #fff; font-size: 0.78rem; }}
.badge.high {{ background: {_SEVERITY_COLOURS['high']}; }}
.badge.medium {{ background: {_SEVERITY_COLOURS['medium']}; }}
.badge.low {{ background: {_SEVERITY_COLOURS['low']}; }}
footer {{ color: {_MUTED}; font-size: 0.8rem; }}
@page {{ size: A4 landscape; margin: 10mm; }}
@media print {{
  body {{ background: #fff; }}
  main {{ padding: 0; }}
  nav, .modebar-container {{ display: none; }}
  section {{ break-inside: avoid; page-break-inside: avoid; border: none; padding: 0 0 8px; }}
}}
"""
_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<main>
<header>
<h1>{title}</h1>
<p>Cycle {cycle}: actuals up to the end of {cutoff}, plans from {cycle}.</p>
</header>
<nav>{toc}</nav>
{sections}
<footer>Built by sop_pipeline.report.pack from the working warehouse.</footer>
</main>
</body>
</html>
"""


# --- small helpers ----------------------------------------------------------------------------


def _trace_has_points(trace: dict) -> bool:
    kind = trace.get("type", "scatter")
    if kind == "indicator":
        values = trace.get("value")
    elif kind in ("heatmap", "contour"):
        values = trace.get("z")
    elif kind == "bar" and trace.get("orientation") == "h":
        values = trace.get("x")
    else:
        values = trace.get("y")
    return any(not _missing(v) for v in _flatten(values))


def _flatten(values) -> list:
    if values is None:
        return []
    if isinstance(values, dict) and "bdata" in values:  # plotly's typed-array encoding
        return np.frombuffer(base64.b64decode(values["bdata"]),
                             dtype=np.dtype(values["dtype"])).tolist()
    if isinstance(values, list | tuple):
        return [v for item in values for v in _flatten(item)]
    return [values]


def _external_references(page: str) -> list[str]:
    """Script, stylesheet, image or frame sources and CSS urls on the network (script bodies
    such as plotly.js mention URLs in their code, so they are left out of the scan)."""
    tags = re.sub(r"(<script\b[^>]*>).*?(</script>)", r"\1\2", page, flags=re.S | re.I)
    found = re.findall(r"<(?:script|link|img|iframe|source|embed)\b[^>]*?\b(?:src|href)\s*=\s*"
                       r"[\"']?((?:https?:)?//[^\"'\s>]+)", tags, flags=re.I)
    found += re.findall(r"(?:@import|url\()\s*[\"']?((?:https?:)?//[^\"')\s]+)", tags,
                        flags=re.I)
    return found


def _current_fiscal_year(gaps: pd.DataFrame, cycle: pd.Timestamp) -> int:
    at_cycle = gaps.loc[gaps["month"] == cycle, "fiscal_year"]
    if not at_cycle.empty:
        return int(at_cycle.iloc[0])
    ahead = gaps.loc[gaps["month"] > cycle, "fiscal_year"]
    return int(ahead.min() if not ahead.empty else gaps["fiscal_year"].max())


def _empty_monthly() -> pd.DataFrame:
    return pd.DataFrame({"month": pd.Series(dtype="datetime64[ns]"),
                         "family": pd.Series(dtype=object), "qty": pd.Series(dtype=float)})


def _boundary(cycle: pd.Timestamp) -> str:
    """Half a month before the cycle: the line between history and plan on a month axis."""
    return f"{cycle - pd.Timedelta(days=15):%Y-%m-%d}"


def _month_label(month) -> str:
    return f"{pd.Timestamp(month):%b %Y}"


def _floats(values) -> list[float | None]:
    """Plain lists (not numpy) so the page's JSON stays readable; NaN becomes null."""
    return [None if _missing(v) else float(v) for v in values]


def _missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return not math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _text(value) -> str:
    """Data as HTML text (alert messages, family names can hold < or &)."""
    return html.escape(str(value), quote=False)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _count(value) -> str:
    return "0" if _missing(value) else f"{int(value):,}"


def _pct(value: float, digits: int = 1) -> str:
    return f"{value * 100:.{digits}f} %"


def _signed_pct(value: float) -> str:
    return f"{value * 100:+.1f} %"


def _versus(ratio: float) -> str:
    """A ratio to a reference in words: "4.2 % above", "1.0 % below", "level with"."""
    change = ratio - 1
    if abs(change) < 0.0005:
        return "level with"
    return f"{_pct(abs(change))} {'above' if change > 0 else 'below'}"


def _signed_compact(value: float) -> str:
    return ("+" if value >= 0 else "-") + _compact(abs(value))


def _compact(value: float | None) -> str:
    """1,234 below ten thousand, then 12.3 k, 4.56 M, 7.89 B."""
    if value is None or _missing(value):
        return "n/a"
    size = abs(value)
    for threshold, unit, suffix in ((1e9, 1e9, " B"), (1e6, 1e6, " M"), (1e4, 1e3, " k")):
        if size >= threshold:
            return f"{value / unit:.3g}{suffix}"
    return f"{value:,.0f}" if size >= 100 else f"{value:.3g}"
