"""The pack's money section: the supply plan in the items' currency (plan_financials), by month
and family: revenue, cost of goods and margin, supply cost, working capital, lost sales."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sop_pipeline.report.number_format import compact
from sop_pipeline.report.pack.contents import Section
from sop_pipeline.report.pack.reader import Warehouse
from sop_pipeline.report.pack.style import (
    CONSENSUS,
    INK,
    MUTED,
    PALETTE,
    SEVERITY_COLOURS,
    floats,
    month_text,
    pct,
    sentence,
)
from sop_pipeline.tables import BASELINE

# The supply cost's parts, stacked in this order, in colours the families do not use.
SUPPLY_COSTS = (("production_cost", "production cost", INK),
                ("purchase_cost", "purchase cost", MUTED),
                ("overtime_cost", "overtime cost", SEVERITY_COLOURS["medium"]),
                ("holding_cost", "holding cost", "#d1d5db"))
_TOTALS = ["revenue", "cost_of_goods", "gross_margin", "supply_cost", "lost_sales_value",
           "lost_sales_qty", "demand_qty", "served_qty", "inventory_value",
           *(column for column, _, _ in SUPPLY_COSTS)]


def money_section(wh: Warehouse) -> Section:
    """The adopted plan's money (plan_version; the baseline when none was adopted)."""
    money = wh.cycle_rows("plan_financials")
    adopted = wh.adopted_scenario()
    if money.empty:
        what = "" if adopted == BASELINE else f" of the adopted scenario {adopted}"
        return Section("money", f"plan_financials has no rows{what} for this cycle.",
                       empty="no-data")
    currency = wh.currency()
    money = money.sort_values(["month", "family"])
    totals = money.groupby("month")[_TOTALS].sum().sort_index()
    months = totals.index.tolist()
    figure = make_subplots(
        rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.06,
        row_heights=[0.34, 0.22, 0.22, 0.22],
        subplot_titles=("Revenue by family, cost of goods and gross margin of the demand served",
                        "Supply cost: production, purchases, overtime, holding",
                        "Inventory value at month end: working capital in stock",
                        "Lost sales: revenue of the demand the plan cannot serve"))
    for i, family in enumerate(sorted(money["family"].unique())):
        rows = money[money["family"] == family]
        style = {"name": family, "legendgroup": family,
                 "marker": {"color": PALETTE[i % len(PALETTE)]}}
        figure.add_trace(go.Bar(
            x=rows["month"].tolist(), y=floats(rows["revenue"]), **style,
            hovertemplate=f"{family}, %{{x|%b %Y}}: %{{y:,.0f}} {currency}<extra></extra>"),
            row=1, col=1)
        figure.add_trace(go.Bar(
            x=rows["month"].tolist(), y=floats(rows["inventory_value"]), **style,
            showlegend=False, customdata=floats(rows["days_of_cover"]),
            hovertemplate=f"{family}, %{{x|%b %Y}}: %{{y:,.0f}} {currency}, "
                          "%{customdata:,.0f} days of cover<extra></extra>"), row=3, col=1)
        figure.add_trace(go.Bar(
            x=rows["month"].tolist(), y=floats(rows["lost_sales_value"]), **style,
            showlegend=False, customdata=floats(rows["lost_sales_qty"]),
            hovertemplate=f"{family}, %{{x|%b %Y}}: %{{y:,.0f}} {currency} "
                          "(%{customdata:,.0f} units)<extra></extra>"), row=4, col=1)
    for column, name, colour, dash in (("cost_of_goods", "cost of goods", INK, "dash"),
                                       ("gross_margin", "gross margin", CONSENSUS, "solid")):
        figure.add_trace(go.Scatter(
            x=months, y=floats(totals[column]), name=name, mode="lines+markers",
            line={"color": colour, "width": 2.5, "dash": dash},
            hovertemplate=f"{name}, %{{x|%b %Y}}: %{{y:,.0f}} {currency}<extra></extra>"),
            row=1, col=1)
    for column, name, colour in SUPPLY_COSTS:
        figure.add_trace(go.Bar(
            x=months, y=floats(totals[column]), name=name, marker={"color": colour},
            hovertemplate=f"{name}, %{{x|%b %Y}}: %{{y:,.0f}} {currency}<extra></extra>"),
            row=2, col=1)
    for row, title in enumerate(("revenue, margin", "supply cost", "inventory value",
                                 "lost sales"), start=1):
        figure.update_yaxes(title_text=f"{title} ({currency})", row=row, col=1)
    figure.update_yaxes(tickformat="~s", rangemode="tozero")
    figure.update_xaxes(tickformat="%b %y")
    figure.update_annotations(font_size=13)
    figure.update_layout(barmode="stack", height=1100, margin={"t": 40},
                         legend={"orientation": "h", "y": -0.05})
    takeaway = _takeaway(totals, money, currency)
    if adopted != BASELINE:
        takeaway = f"The adopted plan, scenario {adopted}: {takeaway[:1].lower()}{takeaway[1:]}"
    return Section("money", takeaway, figure, notes=(
        f"The plan shown: {adopted if adopted != BASELINE else 'the baseline'} (the cycle's "
        "adopted plan, plan_version); the scenarios section compares it with the others.",
        f"All money in {currency}. Revenue and cost of goods of the demand served, at list "
        "price and standard cost. Supply cost = receipts of the month (open and planned "
        "orders) at standard cost + overtime hours x the overtime rate (shared by the "
        "families' planned hours on each work centre) + month-end stock x the monthly "
        "holding rate. Days of cover (hover the inventory bars): inventory value over the "
        "daily cost of the demand of this and the next two months.",))


def _takeaway(totals: pd.DataFrame, money: pd.DataFrame, currency: str) -> str:
    def amount(value: float) -> str:
        return f"{currency} {compact(value)}"

    revenue, margin = totals["revenue"].sum(), totals["gross_margin"].sum()
    text = (f"Over the plan's {len(totals)} months the demand served brings "
            f"{amount(revenue)} of revenue")
    if revenue:
        text += f" at a gross margin of {amount(margin)} ({pct(margin / revenue)})"
    text += f", for {amount(totals['supply_cost'].sum())} of supply cost"
    lost = totals["lost_sales_value"].sum()
    if lost > 0:
        worst = money.groupby("family")["lost_sales_value"].sum().idxmax()
        demand = totals["demand_qty"].sum()
        text += (f"; it loses {amount(lost)} of sales "
                 f"({compact(totals['lost_sales_qty'].sum())} units, most in {worst})")
        if demand:
            text += f", a fill rate of {pct(totals['served_qty'].sum() / demand)}"
    else:
        text += "; it serves all demand"
    peak = totals["inventory_value"].idxmax()
    text += (f"; stock ties up {amount(totals.loc[peak, 'inventory_value'])} at its peak, "
             f"{month_text(peak)}")
    return sentence(text)
