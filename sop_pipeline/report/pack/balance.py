"""The pack's balance section: supply against demand and the demand left unmet, by family and
month, and the service level it gives (fill rate) against the plan's target."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sop_pipeline.report.number_format import compact, missing
from sop_pipeline.report.pack.contents import Section
from sop_pipeline.report.pack.reader import Warehouse
from sop_pipeline.report.pack.style import (
    CONSENSUS,
    INK,
    MUTED,
    PALETTE,
    SEVERITY_COLOURS,
    floats,
    html_table,
    month_text,
    pct,
    sentence,
)
from sop_pipeline.supply.inventory import DEFAULT_SERVICE_LEVEL
from sop_pipeline.tables import BASELINE

# The supply a month receives, stacked in this order: supply_plan column, legend, colour.
RECEIPTS = (("scheduled_receipts_qty", "open orders due", MUTED),
            ("planned_production_qty", "planned production", INK),
            ("planned_purchase_qty", "planned purchases", "#72B7B2"))
QUANTITIES = ["demand_qty", *(column for column, _, _ in RECEIPTS), "unmet_qty"]
ALL_GROUP = "All families"
_NO_FAMILY = "(no family)"


def balance_section(wh: Warehouse, service_level: float | None = None) -> Section:
    """`service_level`: the safety stock's target (SopSettings.service_level), unless the
    adopted scenario sets its own; without either, the pipeline's default."""
    plan = wh.cycle_rows("supply_plan")
    if plan.empty:
        return Section("balance", "supply_plan has no rows for this cycle.", empty="no-data")
    balance = _by_family_month(wh, plan)
    target = _target_service_level(wh, service_level)
    families = sorted(balance["family"].unique())
    groups = [ALL_GROUP, *families]
    figure = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1, row_heights=[0.6, 0.4],
        subplot_titles=(f"Supply received, demand and unmet: {ALL_GROUP}",
                        "Fill rate: demand served / demand, by family"))
    totals = balance.groupby("month")[QUANTITIES].sum()
    for i, group in enumerate(groups):  # the service level row, always shown
        rows = totals if group == ALL_GROUP else (
            balance[balance["family"] == group].set_index("month"))
        figure.add_trace(go.Scatter(
            x=rows.index.tolist(), y=_fill_rate(rows), name=f"fill rate: {group}",
            mode="lines+markers", legendgroup="fill rate",
            line={"color": INK if group == ALL_GROUP else PALETTE[(i - 1) % len(PALETTE)],
                  "width": 3 if group == ALL_GROUP else 1.5},
            hovertemplate=f"{group}, %{{x|%b %Y}}: %{{y:.1%}} of demand served"
                          "<extra></extra>"), row=2, col=1)
    fixed = len(groups)
    per_group = 0
    for g, group in enumerate(groups):
        rows = totals if group == ALL_GROUP else (
            balance[balance["family"] == group].set_index("month"))
        traces = _balance_traces(rows, visible=g == 0)
        per_group = len(traces)
        for trace in traces:
            figure.add_trace(trace, row=1, col=1)
    buttons = []
    for g, group in enumerate(groups):
        visible = [True] * fixed + [g == t // per_group for t in range(per_group * len(groups))]
        title = f"Supply received, demand and unmet: {group}"
        buttons.append({"label": group, "method": "update",
                        "args": [{"visible": visible}, {"annotations[0].text": title}]})
    figure.add_hline(y=target, line_dash="dash", line_color=SEVERITY_COLOURS["medium"],
                     row=2, col=1, annotation_text=f"target service level {pct(target, 0)}",
                     annotation_position="bottom right")
    figure.update_xaxes(tickformat="%b %y")
    figure.update_yaxes(title_text="units a month", rangemode="tozero", row=1, col=1)
    figure.update_yaxes(title_text="fill rate (% of demand served)", tickformat=".0%",
                        row=2, col=1)
    figure.update_layout(
        barmode="stack", height=680, margin={"t": 90},
        updatemenus=[{"buttons": buttons, "x": 0, "xanchor": "left", "y": 1.12,
                      "yanchor": "top", "showactive": True}],
        legend={"orientation": "h", "y": -0.08})
    return Section("balance", _takeaway(balance, totals, target), figure,
                   extra_html=_family_table(balance), notes=(
        "Pick a family in the menu at the top left (the top chart). Supply received = open "
        "orders due + planned production + planned purchases arriving in the month (supply "
        "plan of the adopted scenario); unmet = demand the plan cannot serve, counted lost. "
        f"Target: the service level the safety stock is set for ({pct(target, 0)}); it is a "
        "chance of not running out in a month, so the fill rate of a sound plan runs above "
        "it.",))


def _by_family_month(wh: Warehouse, plan: pd.DataFrame) -> pd.DataFrame:
    """The supply plan summed by family (marts.dim_items) and month."""
    families = (wh.query("SELECT sku, any_value(family) AS family FROM marts.dim_items "
                         "GROUP BY sku")
                if wh.has("marts.dim_items") else pd.DataFrame(columns=["sku", "family"]))
    plan = plan.merge(families, on="sku", how="left")
    plan["family"] = plan["family"].fillna(_NO_FAMILY)
    plan[QUANTITIES] = plan[QUANTITIES].astype(float).fillna(0.0)
    balance = plan.groupby(["family", "month"], as_index=False)[QUANTITIES].sum()
    return balance.sort_values(["family", "month"], ignore_index=True)


def _target_service_level(wh: Warehouse, service_level: float | None) -> float:
    """The adopted scenario's service_level lever, else `service_level`, else the default."""
    scenario = wh.adopted_scenario()
    if scenario != BASELINE and wh.has("staging.stg_plan__scenarios"):
        levers = wh.query("""SELECT value FROM staging.stg_plan__scenarios
                             WHERE lever = 'service_level' AND scenario = $scenario""",
                          scenario=scenario)
        if len(levers) and not missing(levers["value"].iloc[-1]):
            return float(levers["value"].iloc[-1])
    return DEFAULT_SERVICE_LEVEL if service_level is None else float(service_level)


def _fill_rate(rows: pd.DataFrame) -> list[float | None]:
    demand = rows["demand_qty"].astype(float)
    return floats((1 - rows["unmet_qty"] / demand).where(demand > 0))


def _balance_traces(rows: pd.DataFrame, visible: bool) -> list[go.BaseTraceType]:
    months = rows.index.tolist()
    traces: list[go.BaseTraceType] = [
        go.Bar(x=months, y=floats(rows[column]), name=name, marker={"color": colour},
               legendgroup=column, visible=visible,
               hovertemplate=f"{name}, %{{x|%b %Y}}: %{{y:,.0f}} units<extra></extra>")
        for column, name, colour in RECEIPTS]
    traces.append(go.Scatter(
        x=months, y=floats(rows["demand_qty"]), name="demand", mode="lines+markers",
        line={"color": CONSENSUS, "width": 2.5}, legendgroup="demand", visible=visible,
        hovertemplate="demand, %{x|%b %Y}: %{y:,.0f} units<extra></extra>"))
    traces.append(go.Scatter(
        x=months, y=floats(rows["unmet_qty"]), name="unmet demand", mode="lines+markers",
        line={"color": SEVERITY_COLOURS["high"], "width": 2, "dash": "dot"},
        legendgroup="unmet", visible=visible,
        hovertemplate="unmet, %{x|%b %Y}: %{y:,.0f} units<extra></extra>"))
    return traces


def _family_table(balance: pd.DataFrame) -> str:
    balance = balance.assign(supply_qty=balance[[c for c, _, _ in RECEIPTS]].sum(axis=1))
    rows = []
    for family, months in balance.groupby("family"):
        demand, unmet = months["demand_qty"].sum(), months["unmet_qty"].sum()
        rate = (1 - months["unmet_qty"] / months["demand_qty"]).where(months["demand_qty"] > 0)
        worst = "" if rate.isna().all() or rate.min() >= 1 else (
            f"{month_text(months.loc[rate.idxmin(), 'month'])} ({pct(rate.min())})")
        rows.append([family, compact(demand), compact(months["supply_qty"].sum()),
                     compact(unmet), pct(1 - unmet / demand) if demand else "n/a", worst])
    return html_table(
        "Supply vs demand vs unmet by family over the horizon (units)",
        ["family", "demand", "supply received", "unmet", "fill rate", "lowest month"], rows,
        numeric=range(1, 6))


def _takeaway(balance: pd.DataFrame, totals: pd.DataFrame, target: float) -> str:
    demand, unmet = totals["demand_qty"].sum(), totals["unmet_qty"].sum()
    if not demand:
        return "The plan has no demand to serve over the horizon."
    text = (f"The plan serves {pct(1 - unmet / demand)} of {compact(demand)} units of demand "
            f"over {len(totals)} months")
    if unmet <= 0:
        return sentence(text + ", every family in full")
    by_family = balance.groupby("family")[["demand_qty", "unmet_qty"]].sum()
    worst = by_family["unmet_qty"].idxmax()
    text += (f", leaving {compact(unmet)} units unmet, most of it in {worst} "
             f"({compact(by_family.loc[worst, 'unmet_qty'])} units)")
    rate = (1 - balance["unmet_qty"] / balance["demand_qty"]).where(balance["demand_qty"] > 0)
    below = balance[rate < target]
    if len(below):
        first = below.sort_values("month").iloc[0]
        verb = "family-month falls" if len(below) == 1 else "family-months fall"
        text += (f"; {len(below)} {verb} below the {pct(target, 0)} target, "
                 f"the first {first['family']} in {month_text(first['month'])}")
    else:
        text += f"; no family-month falls below the {pct(target, 0)} target"
    return sentence(text)
