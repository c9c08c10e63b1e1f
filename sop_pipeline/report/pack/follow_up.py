"""The pack's follow-up sections: the value each demand step added (FVA stairstep), what
changed since last cycle's plan, and last month's planned against actual production."""

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
    floats,
    html_table,
    month_text,
    pct,
    sentence,
    signed_compact,
    signed_pct,
    signed_points,
)
from sop_pipeline.review.variance import ALL_FAMILIES

STEP_LABELS = {"seasonal_naive": "seasonal naive", "statistical": "statistical",
               "events": "+ events", "crm_pipeline": "+ CRM pipeline",
               "overrides": "+ overrides (consensus)"}
ALL_AUTHORS = "all"
STAIRSTEP_LAGS = 4  # the lags drawn, shortest first
SUPPLY_TYPES = (("production", "Production: planned vs completed"),
                ("purchase", "Purchases: planned vs received"))
_NOT_ENOUGH = "not-enough-history"


def fva_section(wh: Warehouse) -> Section:
    rows = wh.cycle_rows("variance_fva_stairstep")
    if rows.empty:
        return Section("fva", "Not enough history yet: the stairstep scores earlier cycles' "
                       "plans of the month that just closed, step by step, so it fills in "
                       "once earlier cycles have run.", empty=_NOT_ENOUGH)
    target = rows["target_month"].max()
    rows = rows[(rows["target_month"] == target) & (rows["family"] == ALL_FAMILIES)]
    steps = rows[rows["author"] == ALL_AUTHORS].sort_values(["lag", "step_order"])
    authors = rows[rows["author"] != ALL_AUTHORS].sort_values(["lag", "author"])
    if steps.empty:
        return Section("fva", f"variance_fva_stairstep has no rows for all families "
                       f"({ALL_FAMILIES!r}) this cycle.", empty="no-data")
    lags = sorted(steps["lag"].dropna().astype(int).unique())[:STAIRSTEP_LAGS]
    focus = 1 if 1 in lags else lags[0]
    titles = ["WAPE after each step (lower is better)", "Value added by each step"]
    if len(authors):
        titles.append("Overrides' value added by author")
    figure = make_subplots(rows=1, cols=len(titles), horizontal_spacing=0.08,
                           column_widths=[0.4, 0.35, 0.25][:len(titles)],
                           subplot_titles=titles)
    for i, lag in enumerate(lags):
        at = steps[steps["lag"] == lag]
        labels = [STEP_LABELS.get(s, s) for s in at["step"]]
        colour = INK if lag == focus else PALETTE[i % len(PALETTE)]
        group = {"legendgroup": f"lag {lag}", "name": f"lag {lag}"}
        figure.add_trace(go.Scatter(
            x=labels, y=floats(at["wape"]), mode="lines+markers", line_shape="hv",
            line={"color": colour, "width": 3 if lag == focus else 1.5}, **group,
            hovertemplate="%{x}: WAPE %{y:.1%}<extra>lag " + str(lag) + "</extra>"),
            row=1, col=1)
        figure.add_trace(go.Bar(
            x=labels, y=floats(at["fva"]), marker={"color": colour}, showlegend=False,
            **group, hovertemplate="%{x}: %{y:+.1%} of WAPE<extra>lag " + str(lag)
                                   + "</extra>"), row=1, col=2)
        by_author = authors[authors["lag"] == lag]
        if len(authors):
            figure.add_trace(go.Bar(
                x=by_author["author"].tolist(), y=floats(by_author["fva"]),
                marker={"color": colour}, showlegend=False, **group,
                customdata=by_author["series"].tolist(),
                hovertemplate="%{x}: %{y:+.1%} over %{customdata} sku-months<extra>lag "
                              + str(lag) + "</extra>"), row=1, col=3)
    figure.update_xaxes(type="category", title_text="demand step", tickangle=-30)
    figure.update_yaxes(tickformat=".0%", rangemode="tozero", row=1, col=1,
                        title_text="WAPE (% of actual units)")
    figure.update_yaxes(tickformat="+.0%", row=1, col=2,
                        title_text="previous step's WAPE - this step's")
    figure.add_hline(y=0, line_color="#9ca3af", line_width=1, row=1, col=2)
    if len(authors):
        figure.add_hline(y=0, line_color="#9ca3af", line_width=1, row=1, col=3)
        figure.update_xaxes(title_text="override author", tickangle=0, row=1, col=3)
        figure.update_yaxes(tickformat="+.0%", row=1, col=3,
                            title_text="WAPE before - after the override")
    figure.update_layout(barmode="group", height=460, margin={"t": 50},
                         legend={"title": {"text": "months before<br>the target"}})
    table = _authors_table(authors) if len(authors) else (
        '<p class="note">No planner override touched the month that just closed, so there '
        "is nothing to score by author.</p>")
    return Section("fva", _fva_takeaway(steps, authors, focus, target), figure,
                   extra_html=table, notes=(
        "Each step's forecast of the month that just closed against its actual, over all "
        "families: seasonal naive, the selected statistical forecast, + event uplifts, + the "
        "weighted CRM pipeline, + planner overrides (= the consensus). Value added = the "
        "previous step's WAPE - this step's, in points of WAPE (positive: the step helped). "
        "By author: the forecast before and after each author's overrides, on the sku-months "
        "that author overrode.",))


def changes_section(wh: Warehouse) -> Section:
    drift = wh.cycle_rows("variance_plan_drift")
    if drift.empty:
        return Section("changes", "Not enough history yet: the first cycle has no previous "
                       "plan to compare with.", empty=_NOT_ENOUGH)
    currency = wh.currency()
    drift = drift.sort_values(["family", "month"])
    families = drift[drift["family"] != ALL_FAMILIES]
    overall = drift[drift["family"] == ALL_FAMILIES]
    if overall.empty:
        overall = families.groupby("month", as_index=False)[
            ["previous_qty", "consensus_qty", "change_qty", "change_value"]].sum()
    figure = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12, row_heights=[0.55, 0.45],
        subplot_titles=("Consensus of all families: last cycle's and this cycle's",
                        f"Change in value by family ({currency})"))
    for column, name, colour, dash in (("previous_qty", "last cycle's consensus", MUTED, "dash"),
                                       ("consensus_qty", "this cycle's consensus", CONSENSUS,
                                        "solid")):
        figure.add_trace(go.Scatter(
            x=overall["month"].tolist(), y=floats(overall[column]), name=name,
            mode="lines+markers", line={"color": colour, "width": 2.5, "dash": dash},
            hovertemplate=f"{name}, %{{x|%b %Y}}: %{{y:,.0f}} units<extra></extra>"),
            row=1, col=1)
    for i, (family, rows) in enumerate(families.groupby("family")):
        figure.add_trace(go.Bar(
            x=rows["month"].tolist(), y=floats(rows["change_value"]), name=family,
            marker={"color": PALETTE[i % len(PALETTE)]}, customdata=floats(rows["change_qty"]),
            hovertemplate=f"{family}, %{{x|%b %Y}}: %{{y:+,.0f}} {currency} "
                          "(%{customdata:+,.0f} units)<extra></extra>"), row=2, col=1)
    figure.add_hline(y=0, line_color="#9ca3af", line_width=1, row=2, col=1)
    figure.update_xaxes(tickformat="%b %y")
    figure.update_yaxes(title_text="consensus (units a month)", rangemode="tozero",
                        row=1, col=1)
    figure.update_yaxes(title_text=f"change ({currency})", tickformat="~s", row=2, col=1)
    figure.update_layout(barmode="relative", height=620, margin={"t": 50},
                         legend={"orientation": "h", "y": -0.1})
    by_family = (families.groupby("family")[["previous_qty", "consensus_qty", "change_qty",
                                             "previous_value", "change_value"]].sum()
                 .sort_values("change_value", key=abs, ascending=False))
    months = sorted(drift["month"].unique())
    table = html_table(
        f"Change by family over the {len(months)} months both plans cover ({currency})",
        ["family", "last cycle (units)", "this cycle (units)", "change (units)", "change",
         f"change ({currency})"],
        ([family, compact(r.previous_qty), compact(r.consensus_qty),
          signed_compact(r.change_qty),
          signed_pct(r.change_qty / r.previous_qty) if r.previous_qty else "n/a",
          signed_compact(r.change_value)] for family, r in by_family.iterrows()),
        numeric=range(1, 6))
    return Section("changes", _changes_takeaway(overall, by_family, months, currency), figure,
                   extra_html=table, notes=(
        "This cycle's consensus against the previous cycle's for the months both plan "
        f"(variance_plan_drift); value at the items' list price, in {currency}.",))


def production_section(wh: Warehouse) -> Section:
    compared = wh.cycle_rows("variance_plan_vs_actual")
    month = wh.cycle - pd.DateOffset(months=1)
    own_plan = wh.has("main.supply_plan") and wh.query(
        "SELECT count(*) AS n FROM main.supply_plan "
        "WHERE cycle_month = $cycle - INTERVAL 1 MONTH")["n"].iloc[0] > 0
    if compared.empty or not own_plan:
        return Section("production", f"Not enough history yet: plan vs actual compares "
                       f"{month_text(month)} with the supply plan of its own cycle, which has "
                       "not run.", empty=_NOT_ENOUGH)
    currency = wh.currency()
    compared = compared.sort_values(["supply_type", "family"])
    month = compared["month"].max()
    figure = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                           subplot_titles=[title for _, title in SUPPLY_TYPES])
    for col, (supply_type, _) in enumerate(SUPPLY_TYPES, start=1):
        rows = compared[compared["supply_type"] == supply_type]
        for column, name, colour in (("planned_qty", "planned", MUTED),
                                     ("actual_qty", "actual", INK)):
            figure.add_trace(go.Bar(
                x=rows["family"].tolist(), y=floats(rows[column]), name=name,
                marker={"color": colour}, legendgroup=name, showlegend=col == 1,
                customdata=floats(rows[column.replace("_qty", "_value")]),
                hovertemplate=f"%{{x}}, {name}: %{{y:,.0f}} units "
                              f"(%{{customdata:,.0f}} {currency})<extra></extra>"),
                row=1, col=col)
        figure.update_yaxes(title_text=f"{supply_type} in {month:%b %Y} (units)",
                            rangemode="tozero", row=1, col=col)
    figure.update_xaxes(title_text="family", type="category")
    figure.update_layout(barmode="group", height=400, margin={"t": 50},
                         legend={"orientation": "h", "y": -0.22})
    table = html_table(
        f"Plan vs actual in {month_text(month)} by family (units and {currency})",
        ["supply", "family", "planned (units)", "actual (units)", "variance (units)",
         f"planned ({currency})", f"actual ({currency})", f"variance ({currency})"],
        ([r.supply_type, r.family, compact(r.planned_qty), compact(r.actual_qty),
          signed_compact(r.variance_qty), compact(r.planned_value), compact(r.actual_value),
          signed_compact(r.variance_value)] for r in compared.itertuples()),
        numeric=range(2, 8))
    return Section("production", _production_takeaway(compared, month, currency), figure,
                   extra_html=table, notes=(
        "Planned: scheduled + planned receipts of the month in the supply plan of the "
        "month's own cycle. Actual: production orders due in the month and completed; "
        "purchase lines received in the month. Values at standard unit cost.",))


def _authors_table(authors: pd.DataFrame) -> str:
    return html_table(
        "Planner overrides by author: WAPE before and after, on the sku-months overridden",
        ["author", "lag", "sku-months", "WAPE before", "WAPE after", "value added"],
        ([r.author, int(r.lag), f"{int(r.series):,}",
          "n/a" if missing(r.wape) or missing(r.fva) else pct(r.wape + r.fva),
          "n/a" if missing(r.wape) else pct(r.wape),
          "n/a" if missing(r.fva) else signed_points(r.fva)]
         for r in authors.itertuples()),
        numeric=range(1, 6))


def _fva_takeaway(steps: pd.DataFrame, authors: pd.DataFrame, lag: int,
                  target: pd.Timestamp) -> str:
    at = steps[steps["lag"] == lag]
    text = f"Forecasts of {month_text(target)}"
    if at.empty or at["wape"].isna().all():
        return sentence(text + ": no actuals to score the steps against")
    first, last = at.iloc[0], at.iloc[-1]
    text += (f" at lag {lag}: WAPE {pct(first['wape'])} for {STEP_LABELS[first['step']]} "
             f"and {pct(last['wape'])} for the consensus")
    added = [f"{STEP_LABELS[r.step].removeprefix('+ ').removesuffix(' (consensus)')} "
             f"{signed_points(r.fva)}"
             for r in at.itertuples() if not missing(r.fva)]
    if added:
        text += "; value added: " + ", ".join(added)
    by_author = authors[(authors["lag"] == lag)].dropna(subset=["fva"])
    if len(by_author) > 1:
        best = by_author.loc[by_author["fva"].idxmax()]
        worst = by_author.loc[by_author["fva"].idxmin()]
        text += (f"; of the overrides, {best['author']}'s helped most "
                 f"({signed_points(best['fva'])}) and {worst['author']}'s least "
                 f"({signed_points(worst['fva'])})")
    elif len(by_author):
        only = by_author.iloc[0]
        text += f"; {only['author']}'s overrides: {signed_points(only['fva'])}"
    return sentence(text)


def _changes_takeaway(overall: pd.DataFrame, by_family: pd.DataFrame, months: list,
                      currency: str) -> str:
    previous, change = overall["previous_qty"].sum(), overall["change_qty"].sum()
    value = overall["change_value"].sum()
    span = (f"{month_text(months[0])} to {month_text(months[-1])}" if len(months) > 1
            else month_text(months[0]))
    text = (f"Over the {len(months)} months both plans cover ({span}), this cycle's "
            f"consensus is {compact(abs(change))} units "
            f"{'above' if change >= 0 else 'below'} last cycle's")
    if previous:
        text += f" ({signed_pct(change / previous)})"
    text += f", {currency} {signed_compact(value)}"
    if len(by_family) > 1:
        family = by_family.index[0]
        text += (f"; largest move: {family} {currency} "
                 f"{signed_compact(by_family.loc[family, 'change_value'])}")
    return sentence(text)


def _production_takeaway(compared: pd.DataFrame, month: pd.Timestamp, currency: str) -> str:
    parts = []
    for supply_type, done in (("production", "completed"), ("purchase", "received")):
        rows = compared[compared["supply_type"] == supply_type]
        if rows.empty:
            continue
        planned, actual = rows["planned_qty"].sum(), rows["actual_qty"].sum()
        what = "production" if supply_type == "production" else "purchases"
        part = f"{what} {done} {compact(actual)} units against {compact(planned)} planned"
        if planned:
            part += (f" ({signed_pct(actual / planned - 1)}, {currency} "
                     f"{signed_compact(rows['variance_value'].sum())})")
        parts.append(part)
    if not parts:
        return f"Nothing was planned or received in {month_text(month)}."
    return sentence(f"In {month_text(month)} " + "; ".join(parts))
