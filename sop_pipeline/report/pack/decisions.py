"""The pack's decision sections: the scenarios side by side against the baseline, and the
meetings' decisions followed up (new, due, overdue, done) with the plan the cycle adopted."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from sop_pipeline.report.number_format import compact, missing
from sop_pipeline.report.pack.contents import Section
from sop_pipeline.report.pack.reader import Warehouse
from sop_pipeline.report.pack.style import (
    FORECAST,
    INK,
    MUTED,
    SEVERITY_COLOURS,
    count_text,
    floats,
    html_table,
    month_text,
    pct,
    sentence,
    signed_compact,
)
from sop_pipeline.tables import BASELINE

# What each scenario costs and earns against the baseline: column, legend, colour.
AGAINST_BASELINE = (
    ("margin_vs_baseline", "earns: margin - overtime - holding", "#54A24B"),
    ("lost_sales_vs_baseline", "lost sales", SEVERITY_COLOURS["high"]),
    ("inventory_vs_baseline", "inventory value (average month end)", MUTED),
)
# How a decision stands this cycle, in the order the table lists them, and its colour.
FOLLOW_UP = {
    "overdue": SEVERITY_COLOURS["high"], "due": SEVERITY_COLOURS["medium"], "new": FORECAST,
    "open": INK, "done": "#54A24B", "dropped": SEVERITY_COLOURS["low"],
}
RECENT_CLOSED_MONTHS = 3  # done or dropped decisions shown for this many cycles after


def scenarios_section(wh: Warehouse) -> Section:
    kpis = wh.cycle_rows("scenario_kpis")
    if kpis.empty:
        return Section("scenarios", "scenario_kpis has no rows for this cycle.", empty="no-data")
    currency = _currency(kpis, wh)
    adopted = wh.adopted_scenario()
    table = _scenario_table(kpis, adopted, currency)
    what_ifs = kpis[kpis["scenario"] != BASELINE]
    if what_ifs.empty:
        return Section("scenarios", "Only the baseline was planned: plan/scenarios (optional) "
                       "names no what-if for this cycle.", empty="no-scenarios",
                       extra_html=table)
    labels = [f"<b>{name}</b><br>(adopted)" if name == adopted else name
              for name in what_ifs["scenario"]]
    figure = go.Figure()
    for column, name, colour in AGAINST_BASELINE:
        figure.add_trace(go.Bar(
            x=labels, y=floats(what_ifs[column]), name=name, marker={"color": colour},
            customdata=what_ifs["description"].fillna("").tolist(),
            hovertemplate=f"{name}: %{{y:+,.0f}} {currency}<br>%{{customdata}}"
                          "<extra></extra>"))
    figure.add_hline(y=0, line_color="#9ca3af", line_width=1)
    figure.update_layout(
        barmode="group", height=420, margin={"t": 30},
        xaxis={"title": {"text": "scenario (against the baseline)"}, "type": "category"},
        yaxis={"title": {"text": f"scenario - baseline ({currency}, over the horizon)"},
               "tickformat": "~s"},
        legend={"orientation": "h", "y": -0.25})
    return Section("scenarios", _scenarios_takeaway(what_ifs, adopted, currency), figure,
                   extra_html=table, notes=(
        f"All money in {currency}, summed over the plan's horizon (inventory value: the "
        "average month-end stock). Earns = (gross margin - overtime - holding cost) of the "
        "scenario minus the baseline's (the cost of goods counts what it makes or buys to "
        "sell; the rest is stock); lost sales and inventory above the baseline cost the "
        "company (lost revenue, working capital). Each scenario re-plans the cycle from the same "
        "statistical forecast.",))


def decisions_section(wh: Warehouse) -> Section:
    log = wh.cycle_rows("decision_log")
    adoption = _adoption_text(wh)
    if log.empty:
        return Section("decisions", sentence("No decision recorded up to this cycle "
                                             "(plan/decisions is optional). " + adoption),
                       empty="no-decisions")
    log = log.assign(decided_in=pd.to_datetime(log["decided_in"]),
                     due_month=pd.to_datetime(log["due_month"]))
    log["follow_up"] = [_follow_up(row, wh.cycle) for row in log.itertuples()]
    closed_in = _closed_in(wh)
    recent = wh.cycle - pd.DateOffset(months=RECENT_CLOSED_MONTHS - 1)
    closed = log["follow_up"].isin(["done", "dropped"])
    since = log["decision_id"].map(closed_in).fillna(wh.cycle)
    shown = log[~closed | (since >= recent)].copy()
    hidden = len(log) - len(shown)
    shown["order"] = shown["follow_up"].map({k: i for i, k in enumerate(FOLLOW_UP)})
    shown = shown.sort_values(["order", "due_month", "decision_id"], na_position="last")

    figure = go.Figure()
    legend_seen: set[str] = set()
    for row in shown.iloc[::-1].itertuples():  # the first listed at the top
        colour = FOLLOW_UP[row.follow_up]
        ends = [row.decided_in] + ([] if pd.isna(row.due_month) else [row.due_month])
        figure.add_trace(go.Scatter(
            x=ends, y=[row.decision_id] * len(ends), mode="lines+markers",
            name=row.follow_up, legendgroup=row.follow_up,
            showlegend=row.follow_up not in legend_seen,
            line={"color": colour, "width": 6}, marker={"size": 10, "color": colour},
            customdata=[[row.title, row.owner, row.status]] * len(ends),
            hovertemplate="%{y}: %{customdata[0]}<br>owner %{customdata[1]}, "
                          "%{customdata[2]}; %{x|%b %Y}<extra></extra>"))
        legend_seen.add(row.follow_up)
        if row.follow_up == "overdue":  # how far past its due month
            figure.add_trace(go.Scatter(
                x=[row.due_month, wh.cycle], y=[row.decision_id] * 2, mode="lines",
                line={"color": colour, "width": 2, "dash": "dot"}, showlegend=False,
                hoverinfo="skip"))
    figure.add_vline(x=f"{wh.cycle:%Y-%m-%d}", line_dash="dot", line_color=MUTED,
                     annotation_text="this cycle", annotation_position="top")
    figure.update_layout(
        height=140 + 34 * len(shown), margin={"t": 40, "l": 80},
        xaxis={"title": {"text": "month (decided → due)"}, "tickformat": "%b %y"},
        yaxis={"title": {"text": "decision"}, "type": "category"},
        legend={"orientation": "h", "y": -0.3, "title": {"text": "this cycle"},
                "traceorder": "reversed"})
    caption = "Decisions of the S&OP meetings as they stand this cycle"
    if hidden:
        caption += (f" ({hidden} closed more than {RECENT_CLOSED_MONTHS - 1} cycles ago not "
                    "shown)")
    table = html_table(
        caption, ["decision", "this cycle", "title", "owner", "decided in", "due", "status",
                  "adopts scenario", "rationale"],
        ([r.decision_id, _follow_up_text(r, wh.cycle), r.title, r.owner,
          month_text(r.decided_in), "" if pd.isna(r.due_month) else month_text(r.due_month),
          r.status, _text(r.adopted_scenario), _text(r.rationale)]
         for r in shown.itertuples()),
        row_classes=(f"follow-{r}" for r in shown["follow_up"]))
    return Section("decisions", _decisions_takeaway(log, wh.cycle, adoption), figure,
                   extra_html=table, notes=(
        "Due: open and due this month or next. Overdue: open past its due month (a "
        "decision_overdue alert). Done and dropped: closed in the last "
        f"{RECENT_CLOSED_MONTHS} cycles.",))


def _currency(kpis: pd.DataFrame, wh: Warehouse) -> str:
    named = kpis["currency"].dropna()
    return str(named.iloc[0]) if len(named) else wh.currency()


def _text(value: object) -> str:
    """Text of a nullable column: empty when missing."""
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _scenario_table(kpis: pd.DataFrame, adopted: str, currency: str) -> str:
    def rate(value: object) -> str:
        return "n/a" if missing(value) else pct(float(value))

    rows = [
        [f"{k.scenario} (adopted)" if k.scenario == adopted else k.scenario,
         _text(k.description) or ("the cycle's own inputs" if k.scenario == BASELINE else ""),
         compact(k.revenue), compact(k.gross_margin), compact(k.supply_cost),
         compact(k.lost_sales_value), rate(k.fill_rate), compact(k.inventory_value),
         rate(k.peak_utilisation),
         f"{count_text(k.alerts_high)} / {count_text(k.alerts_medium)} / "
         f"{count_text(k.alerts_low)}",
         "" if k.scenario == BASELINE else _signed(k.margin_vs_baseline)]
        for k in kpis.itertuples()]
    return html_table(
        f"Scenarios side by side over the horizon ({currency}); adopted: {adopted}",
        ["scenario", "what it changes", "revenue", "gross margin", "supply cost",
         "lost sales", "fill rate", "inventory value (avg)", "peak utilisation",
         "alerts high / medium / low", "earns vs baseline"],
        rows, numeric=range(2, 11),
        row_classes=("adopted" if k == adopted else "" for k in kpis["scenario"]))


def _scenarios_takeaway(what_ifs: pd.DataFrame, adopted: str, currency: str) -> str:
    best = what_ifs.loc[what_ifs["margin_vs_baseline"].astype(float).fillna(-math.inf).idxmax()]
    n = len(what_ifs)
    text = f"{n} scenario{'s' if n > 1 else ''} against the baseline: "
    if best["margin_vs_baseline"] > 0:
        text += (f"{best['scenario']} earns the most, {currency} "
                 f"{_signed(best['margin_vs_baseline'])} of margin after supply cost")
    else:
        text += (f"none earns more than the baseline; {best['scenario']} costs the least "
                 f"({currency} {_signed(best['margin_vs_baseline'])})")
    text += f", {_lost_text(best['lost_sales_vs_baseline'], currency)}"
    chosen = what_ifs[what_ifs["scenario"] == adopted]
    if adopted == BASELINE:
        text += "; the cycle keeps the baseline"
    elif chosen.empty:
        text += f"; the adopted scenario {adopted} has no KPIs this cycle"
    elif adopted == best["scenario"]:
        text += "; the cycle adopts it"
    else:
        c = chosen.iloc[0]
        text += (f"; the cycle adopts {adopted}: {currency} {_signed(c['margin_vs_baseline'])}"
                 f" of margin after supply cost, "
                 f"{_lost_text(c['lost_sales_vs_baseline'], currency)}, {currency} "
                 f"{_signed(c['inventory_vs_baseline'])} of stock on average")
    return sentence(text)


def _lost_text(change: object, currency: str) -> str:
    """A change in lost sales in words: "EUR 125 k less lost sales"."""
    if missing(change) or abs(float(change)) < 0.5:
        return "the same lost sales"
    return (f"{currency} {compact(abs(float(change)))} "
            f"{'less' if float(change) < 0 else 'more'} lost sales")


def _signed(value: object) -> str:
    return "n/a" if missing(value) else signed_compact(float(value))


def _follow_up(row, cycle: pd.Timestamp) -> str:
    """How a decision stands this cycle, the first that holds of FOLLOW_UP's order."""
    if row.status in ("done", "dropped"):
        return row.status
    if row.is_overdue:
        return "overdue"
    if not pd.isna(row.due_month) and row.due_month <= cycle + pd.DateOffset(months=1):
        return "due"
    return "new" if row.decided_in == cycle else "open"


def _months(count: object) -> str:
    return f"{int(count)} month{'' if int(count) == 1 else 's'}"


def _follow_up_text(row, cycle: pd.Timestamp) -> str:
    if row.follow_up == "overdue":
        return f"overdue {_months(row.months_overdue)}"
    if row.follow_up in ("due", "done", "dropped") and row.decided_in == cycle:
        return f"{row.follow_up} (new)"
    return str(row.follow_up)


def _closed_in(wh: Warehouse) -> pd.Series:
    """The first cycle each decision stood done or dropped in (its decision_log history)."""
    if not wh.has("main.decision_log"):
        return pd.Series(dtype="datetime64[ns]")
    closed = wh.query("""SELECT decision_id, min(cycle_month) AS closed_in
                         FROM main.decision_log
                         WHERE cycle_month <= $cycle AND status IN ('done', 'dropped')
                         GROUP BY decision_id""")
    return closed.set_index("decision_id")["closed_in"]


def _adoption_text(wh: Warehouse) -> str:
    """The plan_version line: which scenario the cycle adopts and who decided it."""
    version = wh.cycle_rows("plan_version")
    if version.empty or version["scenario"].iloc[0] == BASELINE:
        return "The cycle keeps the baseline plan: no decision adopts a scenario."
    v = version.iloc[0]
    text = f"The cycle adopts scenario {v['scenario']}"
    if not missing(v["decided_by"]) and v["decided_by"]:
        text += f", decided by {v['decided_by']}"
    detail = [str(v["decision_id"])] if v["decision_id"] else []
    if not missing(v["decided_in"]):
        detail.append(f"in {month_text(v['decided_in'])}")
    return text + (f" ({' '.join(detail)})" if detail else "") + "."


def _decisions_takeaway(log: pd.DataFrame, cycle: pd.Timestamp, adoption: str) -> str:
    counts = log["follow_up"].value_counts()
    overdue = log[log["follow_up"] == "overdue"].sort_values(
        ["months_overdue", "decision_id"], ascending=[False, True])
    parts = []
    if len(overdue):
        named = ", ".join(f"{r.decision_id} ({r.owner}, {_months(r.months_overdue)} late)"
                          for r in overdue.head(3).itertuples())
        parts.append(f"{len(overdue)} overdue: {named}")
    else:
        parts.append("none overdue")
    due = log[log["follow_up"] == "due"]
    if len(due):
        parts.append(f"{len(due)} due by {month_text(cycle + pd.DateOffset(months=1))} "
                     f"({', '.join(due['decision_id'])})")
    new = log[log["decided_in"] == cycle]
    parts.append(f"{len(new)} new this cycle ({', '.join(new['decision_id'])})" if len(new)
                 else "none new this cycle")
    parts.append(f"{int((log['status'] == 'open').sum())} open, {int(counts.get('done', 0))} "
                 f"done and {int(counts.get('dropped', 0))} dropped in all")
    return sentence(f"{len(log)} decisions followed: " + "; ".join(parts)) + " " + adoption
