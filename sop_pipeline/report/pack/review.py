"""The pack's review sections: headline figures, gap to budget, forecast waterfall, alerts."""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sop_pipeline.report.number_format import compact, missing
from sop_pipeline.report.pack.contents import Section
from sop_pipeline.report.pack.reader import Warehouse
from sop_pipeline.report.pack.style import (
    INK,
    MUTED,
    PALETTE,
    SEVERITY_COLOURS,
    count_text,
    floats,
    html_text,
    month_text,
    pct,
    plan_boundary,
    sentence,
    signed_compact,
    signed_pct,
    versus,
)
from sop_pipeline.review.actions import ACTION_KINDS
from sop_pipeline.review.alerts import ALERT_KINDS, SEVERITY_ORDER, sort_alerts
from sop_pipeline.review.variance import ALL_FAMILIES

TOP_ALERTS = 20
SEVERITIES = tuple(SEVERITY_ORDER)  # high first


def headline_section(wh: Warehouse) -> Section:
    summary = wh.cycle_rows("cycle_summary")
    if summary.empty:
        return Section("headline", "No headline figures: cycle_summary has no row for this "
                       "cycle.", empty="no-data")
    s = summary.iloc[0].to_dict()
    s = {k: (None if missing(v) else v) for k, v in s.items()}
    peak_where = s["peak_work_center"] or "no work centres"
    currency = wh.currency()
    tiles = [
        ("WAPE lag 1", s["wape_lag1"], ".1%", "forecast error, month just closed"),
        ("WAPE lag 3", s["wape_lag3"], ".1%", "forecast made 3 months ahead"),
        ("Bias lag 1", s["bias_lag1"], "+.1%", "positive = over-forecast"),
        ("FVA lag 1", s["fva_lag1"], "+.1%", "gain over seasonal naive"),
        (f"FY revenue outlook ({currency})", s["consensus_value_fy"], ".3~s",
         f"budget {compact(s['budget_value_fy'])}" if s["budget_value_fy"] else "no budget"),
        ("Peak utilisation", s["peak_utilisation"], ".0%", peak_where),
        ("At stockout risk", s["skus_at_stockout_risk"], ",.0f", "sku-locations"),
        ("Unmet demand", s["unmet_qty"], ",.0f", "units over the horizon"),
        (f"Inventory value ({currency})", s["inventory_value_m3"], ".3~s", "end of month 3"),
        ("High alerts", s["alerts_high"], ",.0f",
         f"medium {count_text(s['alerts_medium'])} · low {count_text(s['alerts_low'])}"),
    ]
    figure = go.Figure()
    for i, (title, value, value_format, note) in enumerate(tiles):
        subtitle = note if value is not None else "not available yet"
        indicator = dict(
            mode="number", value=None if value is None else float(value),
            number={"valueformat": value_format, "font": {"size": 34}},
            title={"text": f"{title}<br><span style='font-size:0.75em;color:{MUTED}'>"
                           f"{html_text(subtitle)}</span>", "font": {"size": 15}},
            domain={"row": i // 5, "column": i % 5},
        )
        if title.startswith("FY revenue outlook") and value is not None and s["budget_value_fy"]:
            indicator.update(mode="number+delta", delta={
                "reference": float(s["budget_value_fy"]), "relative": True,
                "valueformat": "+.1%", "font": {"size": 16}})
        if title == "Peak utilisation" and value is not None and value > 1:
            indicator["number"]["font"]["color"] = SEVERITY_COLOURS["high"]
        figure.add_trace(go.Indicator(**indicator))
    figure.update_layout(grid={"rows": 2, "columns": 5, "pattern": "independent"},
                         height=300, margin={"t": 40, "b": 10, "l": 10, "r": 10})

    parts = []
    if s["consensus_value_fy"] is not None and s["budget_value_fy"]:
        parts.append(f"FY revenue outlook {currency} {compact(s['consensus_value_fy'])}, "
                     f"{versus(s['consensus_value_fy'] / s['budget_value_fy'])} budget")
    if s["peak_utilisation"] is not None:
        parts.append(f"peak load {pct(s['peak_utilisation'], 0)} ({peak_where})")
    parts.append(f"{count_text(s['skus_at_stockout_risk'])} sku-locations at risk of stockout")
    parts.append(f"{count_text(s['alerts_high'])} high alerts")
    return Section("headline", sentence("; ".join(parts)), figure)


def budget_section(wh: Warehouse) -> Section:
    gaps = wh.cycle_rows("variance_budget")
    if gaps.empty:
        if wh.rows("marts.fct_budget"):
            return Section("budget", "variance_budget has no rows for this cycle although a "
                           "budget is loaded.", empty="no-data")
        return Section("budget", "No budget loaded (erp/budget is optional), so there is no "
                       "gap to budget to show.", empty="no-budget")
    gaps = gaps.sort_values(["month", "family"])
    families = sorted(gaps["family"].unique())
    currency = wh.currency()
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                           subplot_titles=(f"Gap to budget by family and month ({currency})",
                                           "Cumulative fiscal-year gap, all families"))
    for i, family in enumerate(families):
        rows = gaps[gaps["family"] == family]
        figure.add_trace(go.Bar(
            x=rows["month"].tolist(), y=floats(rows["gap_value"]), name=family,
            marker={"color": PALETTE[i % len(PALETTE)],
                    "opacity": [1.0 if b == "actual" else 0.6 for b in rows["basis"]]},
            customdata=rows["basis"].tolist(),
            hovertemplate=f"%{{x|%b %Y}}: %{{y:,.0f}} {currency} (%{{customdata}})"),
            row=1, col=1)
    totals = (gaps.groupby(["fiscal_year", "month"])[["cumulative_gap_value", "gap_value"]]
              .sum().reset_index())
    for i, (fiscal_year, rows) in enumerate(totals.groupby("fiscal_year")):
        figure.add_trace(go.Scatter(
            x=rows["month"].tolist(), y=floats(rows["cumulative_gap_value"]),
            name="cumulative FY gap", mode="lines+markers", fill="tozeroy",
            line={"color": INK, "width": 2.5}, legendgroup="cumulative", showlegend=i == 0,
            hovertemplate=f"FY{fiscal_year}, %{{x|%b %Y}}: %{{y:,.0f}} {currency}"
                          "<extra></extra>"),
            row=2, col=1)
    boundary = plan_boundary(wh.cycle)
    for row in (1, 2):
        figure.add_vline(x=boundary, line_dash="dot", line_color=MUTED, row=row, col=1)
        figure.add_hline(y=0, line_color="#9ca3af", line_width=1, row=row, col=1)
    figure.update_yaxes(tickformat="~s")
    figure.update_yaxes(title_text=f"gap ({currency})", row=1, col=1)
    figure.update_yaxes(title_text=f"cumulative gap ({currency})", row=2, col=1)
    figure.update_layout(barmode="relative", height=560, margin={"t": 50},
                         legend={"orientation": "h", "y": -0.08})

    fiscal_year = _current_fiscal_year(gaps, wh.cycle)
    year = gaps[gaps["fiscal_year"] == fiscal_year]
    plan, budget = year["plan_value"].sum(), year["budget_value"].sum()
    gap = plan - budget
    text = (f"FY{fiscal_year}: actuals to date plus consensus come to {currency} "
            f"{compact(plan)}, {currency} {compact(abs(gap))} "
            f"{'above' if gap >= 0 else 'below'} budget")
    if budget:
        text += f" ({signed_pct(plan / budget - 1)})"
    by_family = year.groupby("family")["gap_value"].sum()
    if len(by_family) > 1:
        worst = by_family.idxmin() if gap < 0 else by_family.idxmax()
        text += (f"; largest family gap: {worst} {currency} "
                 f"{signed_compact(by_family[worst])}")
    return Section("budget", sentence(text), figure, notes=(
        "Gap = plan value - budget value. Left of the dotted line, months closed before the "
        "cycle (actual net value, solid bars); right of it, the consensus value (lighter "
        "bars). The cumulative gap restarts at each fiscal year's first month.",))


def waterfall_section(wh: Warehouse) -> Section:
    accuracy = wh.cycle_rows("variance_forecast_by_family")
    if accuracy.empty:
        return Section("waterfall", "Not enough history yet: the waterfall compares the "
                       "forecasts earlier cycles made for the month that just closed, so it "
                       "fills in once earlier cycles have run (backfill them to build it).",
                       empty="not-enough-history")
    accuracy = accuracy.sort_values(["family", "lag"])
    target = accuracy["target_month"].max()
    accuracy = accuracy[accuracy["target_month"] == target]
    families = sorted(set(accuracy["family"]) - {ALL_FAMILIES})
    overall = accuracy[accuracy["family"] == ALL_FAMILIES]  # the waterfall's pooled rows
    figure = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                           subplot_titles=("WAPE by lag (lower is better)",
                                           "Forecast value added over seasonal naive"))
    lines = [("All families", overall, INK, 3)] + [
        (family, accuracy[accuracy["family"] == family], PALETTE[i % len(PALETTE)], 1.5)
        for i, family in enumerate(families)]
    for name, rows, colour, width in lines:
        figure.add_trace(go.Scatter(
            x=rows["lag"].astype(int).tolist(), y=floats(rows["wape"]), name=name,
            mode="lines+markers", line={"color": colour, "width": width}, legendgroup=name),
            row=1, col=1)
        figure.add_trace(go.Bar(
            x=rows["lag"].astype(int).tolist(), y=floats(rows["fva"]), name=name,
            marker={"color": colour}, legendgroup=name, showlegend=False), row=1, col=2)
    figure.add_hline(y=0, line_color="#9ca3af", line_width=1, row=1, col=2)
    figure.update_xaxes(title_text="lag (months before the target month)", dtick=1)
    figure.update_yaxes(tickformat=".0%", rangemode="tozero", title_text="WAPE", row=1, col=1)
    figure.update_yaxes(tickformat="+.0%", title_text="naive WAPE - WAPE", row=1, col=2)
    figure.update_layout(height=420, barmode="group", margin={"t": 50})

    overall = overall.dropna(subset=["wape"]).sort_values("lag")
    text = f"Forecasts of {month_text(target)}"
    if overall.empty:
        return Section("waterfall", sentence(text + ": no actuals to score them against"),
                       figure)
    near = overall[overall["lag"] == 1] if (overall["lag"] == 1).any() else overall.head(1)
    near, far = near.iloc[0], overall.iloc[-1]
    text += f": WAPE {pct(near['wape'])} at lag {int(near['lag'])}"
    if far["lag"] != near["lag"]:
        text += f" and {pct(far['wape'])} at lag {int(far['lag'])}"
    if not missing(near["fva"]):
        verb = "beat" if near["fva"] >= 0 else "trailed"
        text += (f"; at lag {int(near['lag'])} the forecast {verb} seasonal naive by "
                 f"{abs(near['fva']) * 100:.1f} points")
    return Section("waterfall", sentence(text), figure, notes=(
        "WAPE = sum |forecast - actual| / sum actual over the family's sku-locations; lag = "
        "months between the forecasting cycle and the month forecast.",))


def alerts_section(wh: Warehouse) -> Section:
    alerts = sort_alerts(wh.cycle_rows("alerts"))  # high first, then the largest value at risk
    kinds = [*ALERT_KINDS, *sorted(set(alerts["kind"].dropna()) - set(ALERT_KINDS))]
    counts = (alerts.groupby(["kind", "severity"]).size()
              .unstack(fill_value=0).reindex(index=kinds, columns=SEVERITIES, fill_value=0))
    figure = go.Figure()
    labels = [k.replace("_", " ") for k in kinds]
    for severity in SEVERITIES:
        figure.add_trace(go.Bar(
            y=labels, x=[int(n) for n in counts[severity]], name=severity, orientation="h",
            marker={"color": SEVERITY_COLOURS[severity]}))
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
    # risks and the orders to act on this month in two lists, so a month's many routine
    # releases never push a stockout off the page; each in sort_alerts' order
    action = alerts["kind"].isin(ACTION_KINDS)
    tables = (_alerts_table(alerts[~action], "risks", wh.currency())
              + _alerts_table(alerts[action], "actions this month (orders to release, "
                              "expedite, push out or cancel)", wh.currency()))
    return Section("alerts", sentence(text), figure, extra_html=tables)


def _alerts_table(alerts: pd.DataFrame, what: str, currency: str) -> str:
    """The top TOP_ALERTS of `alerts` in their order, with the value at risk in the currency."""
    total, alerts = len(alerts), alerts.head(TOP_ALERTS)
    if alerts.empty:
        return ""
    money = '<td style="text-align:right;white-space:nowrap">'
    rows = "\n".join(
        f'<tr><td><span class="badge {html.escape(str(a.severity))}">'
        f"{html_text(a.severity)}</span></td><td>{html_text(str(a.kind).replace('_', ' '))}</td>"
        f"<td>{html_text(a.entity)}</td><td>{month_text(a.month)}</td>"
        f"{money}{html_text(compact(a.value_at_risk))}</td>"
        f"<td>{html_text(a.message)}</td></tr>"
        for a in alerts.itertuples())
    caption = (f"Top {len(alerts)} of {total} {what}, high first, then by value at risk "
               f"({currency})")
    return (f'<table class="alerts"><caption>{caption}</caption><thead><tr><th>severity</th>'
            f"<th>kind</th><th>entity</th><th>month</th><th>value at risk ({currency})</th>"
            "<th>message</th></tr></thead>"
            f"<tbody>\n{rows}\n</tbody></table>")


def _current_fiscal_year(gaps: pd.DataFrame, cycle: pd.Timestamp) -> int:
    at_cycle = gaps.loc[gaps["month"] == cycle, "fiscal_year"]
    if not at_cycle.empty:
        return int(at_cycle.iloc[0])
    ahead = gaps.loc[gaps["month"] > cycle, "fiscal_year"]
    return int(ahead.min() if not ahead.empty else gaps["fiscal_year"].max())
