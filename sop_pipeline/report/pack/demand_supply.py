"""The pack's plan sections: demand (history, forecast, consensus), capacity and inventory."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sop_pipeline.report.number_format import compact, missing
from sop_pipeline.report.pack.contents import Section
from sop_pipeline.report.pack.reader import Warehouse
from sop_pipeline.report.pack.style import (
    CONSENSUS,
    FORECAST,
    INK,
    MUTED,
    PALETTE,
    SEVERITY_COLOURS,
    floats,
    month_text,
    pct,
    plan_boundary,
    sentence,
    signed_pct,
    versus,
)
from sop_pipeline.tables import SERIES_KEY

RISKY_SKU_LOCATIONS = 6
HISTORY_MONTHS = 24
_NO_FAMILY = "(no family)"


def demand_section(wh: Warehouse) -> Section:
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
        return Section("demand", "No demand history, forecast or consensus for this cycle.",
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
    figure.add_vline(x=plan_boundary(wh.cycle), line_dash="dot", line_color=MUTED)
    return Section(
        "demand", _demand_takeaway(wh.cycle, actuals, forecast, consensus), figure,
        notes=("Pick a family in the menu at the top left. History: units ordered in the last "
               f"{HISTORY_MONTHS} months (cancelled lines left out).",
               "The 80 % and 95 % bands are the selected models' prediction intervals summed "
               "over the family's sku-locations: summing bounds treats the series' errors as "
               "moving together, so the family bands are conservative (wider than the true "
               "ones)."))


def capacity_section(wh: Warehouse) -> Section:
    plan = wh.cycle_rows("capacity_plan")
    if plan.empty:
        if wh.rows("marts.dim_work_centers"):
            return Section("capacity", "capacity_plan has no rows for this cycle although "
                           "work centres exist.", empty="no-data")
        return Section("capacity", "No work centres: nothing is made in house (a "
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
    text = [[("" if missing(v) else f"<b>{v:.0%}</b>" if v > 1 else f"{v:.0%}")
             for v in row] for row in grid.to_numpy()]

    figure = make_subplots(rows=2, cols=1, vertical_spacing=0.16, row_heights=[0.55, 0.45],
                           subplot_titles=("Required hours / available hours (bold: over 100 %)",
                                           "Booked: open orders + supply plan / available hours"))
    figure.add_trace(go.Heatmap(
        z=[floats(row) for row in grid.to_numpy()], x=labels, y=centres, text=text,
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
            x=rows["month"].tolist(), y=floats(rows["planned_utilisation"]), name=centre,
            mode="lines+markers", line={"color": PALETTE[i % len(PALETTE)]}), row=2, col=1)
    figure.add_hline(y=1, line_dash="dash", line_color=SEVERITY_COLOURS["high"], row=2, col=1,
                     annotation_text="100 %", annotation_position="top right")
    figure.update_xaxes(type="category", row=1, col=1)
    figure.update_yaxes(tickformat=".0%", rangemode="tozero", row=2, col=1,
                        title_text="(committed + planned) / available")
    figure.update_layout(height=260 + 36 * len(centres) + 240, margin={"t": 40, "b": 40},
                         legend={"y": 0.2, "title": {"text": "planned"}})

    required = plan.dropna(subset=["utilisation"])
    if required.empty:
        return Section("capacity", "No work centre has available hours this cycle.", figure)
    peak = required.loc[required["utilisation"].idxmax()]
    over = int((required["utilisation"] > 1).sum())
    where = f"{peak['work_center_id']} in {month_text(peak['month'])}"
    if over:
        text = (f"{over} work-centre months need more than 100 % of their hours; peak "
                f"{pct(peak['utilisation'], 0)} at {where}")
    else:
        text = (f"Every work centre stays within its hours: peak "
                f"{pct(peak['utilisation'], 0)} at {where}")
    planned = plan["planned_utilisation"].dropna()
    if not planned.empty:
        text += (f"; with the open production orders, the supply plan books at most "
                 f"{pct(planned.max(), 0)}")
    return Section("capacity", sentence(text), figure)


def inventory_section(wh: Warehouse) -> Section:
    projection = wh.cycle_rows("inventory_projection")
    if projection.empty:
        return Section("inventory", "inventory_projection has no rows for this cycle.",
                       empty="no-data")
    projection = projection.assign(
        stockout=projection["status"].eq("stockout"),
        below=projection["status"].eq("below_safety_stock"),
        margin=projection["closing_qty"] - projection["safety_stock_qty"].fillna(0))
    risk = (projection.groupby(SERIES_KEY)
            .agg(stockout=("stockout", "sum"), below=("below", "sum"), margin=("margin", "min"),
                 months=("month", "count"))
            .reset_index())
    risk["risk_months"] = risk["stockout"] + risk["below"]
    risk = risk.sort_values(["risk_months", "stockout", "margin", *SERIES_KEY],
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
            x=series["month"].tolist(), y=floats(series["closing_qty"]), name="closing stock",
            mode="lines", line={"color": FORECAST, "width": 2}, legendgroup="closing",
            showlegend=first), **place)
        figure.add_trace(go.Scatter(
            x=series["month"].tolist(), y=floats(series["safety_stock_qty"]),
            name="safety stock", mode="lines", line={"color": MUTED, "dash": "dash"},
            legendgroup="safety", showlegend=first), **place)
        for status, colour, label in (("stockout", "high", "stockout"),
                                      ("below", "medium", "below safety stock")):
            flagged = series[series[status]]
            figure.add_trace(go.Scatter(
                x=flagged["month"].tolist(), y=floats(flagged["closing_qty"]), name=label,
                mode="markers", marker={"color": SEVERITY_COLOURS[colour], "size": 7},
                legendgroup=status, showlegend=first), **place)
    figure.add_hline(y=0, line_color="#d1d5db", line_width=1, row="all", col="all")
    figure.update_xaxes(tickformat="%b %y")
    figure.update_yaxes(title_text="stock (units)", title_standoff=4)
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
    return Section("inventory", sentence(text), figure, notes=(
        f"The {len(top)} sku-locations with the most months in stockout or below safety "
        "stock (ties: more stockout months, then the lowest stock against safety stock).",))


def _demand_traces(actuals: pd.DataFrame, forecast: pd.DataFrame, consensus: pd.DataFrame,
                   visible: bool) -> list[go.Scatter]:
    band = forecast.index.tolist()

    def edge(column: str, name: str, fill: str | None, alpha: float) -> go.Scatter:
        return go.Scatter(
            x=band, y=floats(forecast.get(column, [])), name=name, mode="lines",
            line={"width": 0}, fill=fill, fillcolor=f"rgba(37, 99, 235, {alpha})",
            showlegend=fill is not None, hoverinfo="skip", visible=visible)

    return [
        edge("upper_95", "95 % interval", None, 0.12),
        edge("lower_95", "95 % interval", "tonexty", 0.12),
        edge("upper_80", "80 % interval", None, 0.22),
        edge("lower_80", "80 % interval", "tonexty", 0.22),
        go.Scatter(x=band, y=floats(forecast.get("forecast_qty", [])),
                   name="statistical forecast", mode="lines",
                   line={"color": FORECAST, "dash": "dash"}, visible=visible),
        go.Scatter(x=consensus.index.tolist(), y=floats(consensus.get("qty", [])),
                   name="consensus", mode="lines+markers",
                   line={"color": CONSENSUS, "width": 2.5}, marker={"size": 5},
                   visible=visible),
        go.Scatter(x=actuals.index.tolist(), y=floats(actuals.get("qty", [])),
                   name="actual orders", mode="lines", line={"color": INK, "width": 2},
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
    text = f"Consensus for the next {len(months)} months: {compact(plan)} units"
    year_before = actuals[actuals["month"].isin([m - pd.DateOffset(months=12) for m in months])]
    if year_before["qty"].sum() > 0:
        text += f", {versus(plan / year_before['qty'].sum())} the same months last year"
        change = (ahead.groupby("family")["qty"].sum()
                  / year_before.groupby("family")["qty"].sum() - 1)
        change = change[np.isfinite(change)]
        if len(change) > 1:
            family = change.abs().sort_values(ascending=False, kind="stable").index[0]
            text += f" (largest change: {family} {signed_pct(change[family])})"
    statistical = forecast.loc[forecast["month"].isin(months), "forecast_qty"].sum()
    if statistical > 0:
        text += f"; {versus(plan / statistical)} the statistical forecast"
    return sentence(text)


def _empty_monthly() -> pd.DataFrame:
    return pd.DataFrame({"month": pd.Series(dtype="datetime64[ns]"),
                         "family": pd.Series(dtype=object), "qty": pd.Series(dtype=float)})
