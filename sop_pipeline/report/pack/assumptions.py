"""The pack's assumptions section: the events and planner overrides the cycle's consensus
assumes, with who stated each override and why."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from sop_pipeline.report.number_format import compact, missing
from sop_pipeline.report.pack.contents import Section
from sop_pipeline.report.pack.reader import Warehouse
from sop_pipeline.report.pack.style import (
    PALETTE,
    floats,
    html_table,
    month_text,
    pct,
    sentence,
    signed_compact,
)

UNKNOWN_AUTHOR = "(no author)"
_SEPARATOR = "; "  # between the event names of a consensus row
_OVERRIDE_COLOURS = ("#E45756", "#B279A2", "#9D755D", "#FF9DA6", "#BAB0AC")


def assumptions_section(wh: Warehouse) -> Section:
    consensus = wh.cycle_rows("consensus_demand")
    if consensus.empty:
        return Section("assumptions", "consensus_demand has no rows for this cycle.",
                       empty="no-data")
    currency = wh.currency()
    for column in ("event_qty", "override_qty", "unit_price"):
        consensus[column] = consensus[column].astype(float).fillna(0.0)
    stated_events = _stated_events(wh)
    events = _event_effects(consensus, stated_events)
    overrides = _override_effects(consensus)
    if events.empty and overrides.empty:
        return Section("assumptions", "The consensus assumes no event and no planner override "
                       "this cycle: it is the statistical forecast plus the CRM pipeline.",
                       empty="no-assumptions")
    figure = go.Figure()
    for i, (event, rows) in enumerate(events.groupby("event")):
        monthly = rows.groupby("month")[["qty", "value"]].sum()
        figure.add_trace(go.Bar(
            x=monthly.index.tolist(), y=floats(monthly["qty"]), name=f"event: {event}",
            marker={"color": PALETTE[i % len(PALETTE)]}, customdata=floats(monthly["value"]),
            hovertemplate=f"{event}, %{{x|%b %Y}}: %{{y:+,.0f}} units "
                          f"(%{{customdata:+,.0f}} {currency})<extra></extra>"))
    for i, (author, rows) in enumerate(overrides.groupby("author")):
        monthly = rows.groupby("month")[["qty", "value"]].sum()
        figure.add_trace(go.Bar(
            x=monthly.index.tolist(), y=floats(monthly["qty"]), name=f"override: {author}",
            marker={"color": _OVERRIDE_COLOURS[i % len(_OVERRIDE_COLOURS)],
                    "pattern": {"shape": "/"}}, customdata=floats(monthly["value"]),
            hovertemplate=f"{author}, %{{x|%b %Y}}: %{{y:+,.0f}} units "
                          f"(%{{customdata:+,.0f}} {currency})<extra></extra>"))
    figure.add_hline(y=0, line_color="#9ca3af", line_width=1)
    figure.update_layout(
        barmode="relative", height=400, margin={"t": 30},
        xaxis={"title": {"text": "month"}, "tickformat": "%b %y"},
        yaxis={"title": {"text": "units added to the consensus (below 0: removed)"}},
        legend={"orientation": "h", "y": -0.2})
    tables = (_overrides_table(overrides, _stated_overrides(wh), currency)
              + _events_table(events, stated_events, wh.cycle, currency))
    return Section("assumptions", _takeaway(events, overrides, currency), figure,
                   extra_html=tables, notes=(
        "Events: the stated uplift (plan/events) x the statistical forecast, where the "
        "selected model did not learn the event from past occurrences; a month with several "
        "events is shared among them by their uplifts. Overrides: what each planner's "
        f"override (plan/overrides) added to the consensus. Values at list price, in "
        f"{currency}.",))


def _stated_events(wh: Warehouse) -> pd.DataFrame:
    """The events of the extract (staging.stg_plan__events), if it was loaded."""
    if not wh.has("staging.stg_plan__events"):
        return pd.DataFrame(columns=["name", "start_month", "end_month", "sku", "family",
                                     "uplift_pct"])
    return wh.query("SELECT name, start_month, end_month, sku, family, uplift_pct "
                    "FROM staging.stg_plan__events")


def _stated_overrides(wh: Warehouse) -> pd.DataFrame:
    """The overrides of the extract (staging.stg_plan__overrides), if it was loaded."""
    if not wh.has("staging.stg_plan__overrides"):
        return pd.DataFrame(columns=["month", "sku", "family", "location_id", "quantity",
                                     "pct_change", "reason", "author"])
    return wh.query("SELECT month, sku, family, location_id, quantity, pct_change, reason, "
                    "author FROM staging.stg_plan__overrides")


def _event_effects(consensus: pd.DataFrame, stated: pd.DataFrame) -> pd.DataFrame:
    """Units and value each event adds per family and month: a row's event_qty shared among
    its events by their stated uplifts (equally where an uplift is unknown)."""
    rows = consensus[(consensus["event_qty"] != 0) & consensus["event_names"].notna()]
    if rows.empty:
        return pd.DataFrame(columns=["event", "family", "sku", "month", "qty", "value"])
    rows = rows.assign(event=rows["event_names"].str.split(_SEPARATOR)).explode("event")
    uplift = stated.drop_duplicates("name").set_index("name")["uplift_pct"].astype(float)
    rows["weight"] = rows["event"].map(uplift).abs().fillna(1.0)
    share = rows["weight"] / rows.groupby(level=0)["weight"].transform("sum")
    rows = rows.assign(qty=rows["event_qty"] * share)
    rows["value"] = rows["qty"] * rows["unit_price"]
    return rows[["event", "family", "sku", "month", "qty", "value"]].reset_index(drop=True)


def _override_effects(consensus: pd.DataFrame) -> pd.DataFrame:
    """What each override added, by author, reason, family and month."""
    rows = consensus[consensus["override_qty"] != 0]
    rows = rows.assign(
        author=rows["override_author"].fillna(UNKNOWN_AUTHOR),
        reason=rows["override_reason"].fillna(""), qty=rows["override_qty"],
        value=rows["override_qty"] * rows["unit_price"])
    return rows[["author", "reason", "family", "sku", "location_id", "month", "qty", "value"]]


def _overrides_table(overrides: pd.DataFrame, stated: pd.DataFrame, currency: str) -> str:
    if overrides.empty:
        return ""
    grouped = (overrides.groupby(["author", "reason", "family", "month"], dropna=False)
               .agg(skus=("sku", lambda s: sorted(set(s.dropna()))), qty=("qty", "sum"),
                    value=("value", "sum"))
               .reset_index().sort_values(["author", "month", "family"]))
    rows = [[g.author, g.family, _skus_text(g.skus), month_text(g.month),
             _stated_text(stated, g), g.reason, signed_compact(g.qty), signed_compact(g.value)]
            for g in grouped.itertuples()]
    return html_table(
        f"Planner overrides assumed, by author ({currency})",
        ["author", "family", "skus", "month", "as stated", "reason", "units added",
         f"value added ({currency})"], rows, numeric=(6, 7))


def _events_table(events: pd.DataFrame, stated: pd.DataFrame, cycle: pd.Timestamp,
                  currency: str) -> str:
    effect = events.groupby("event")[["qty", "value"]].sum()
    ahead = stated[pd.to_datetime(stated["end_month"]).fillna(cycle) >= cycle]
    names = list(dict.fromkeys([*ahead["name"], *effect.index]))
    if not names:
        return ""
    by_name = stated.drop_duplicates("name").set_index("name")
    rows = []
    for name in names:
        s = by_name.loc[name] if name in by_name.index else None
        scope = "" if s is None else (s["sku"] if not missing(s["sku"]) and s["sku"]
                                      else s["family"] or "")
        months = "" if s is None else (
            f"{month_text(s['start_month'])} to {month_text(s['end_month'])}"
            if s["end_month"] != s["start_month"] else month_text(s["start_month"]))
        uplift = "" if s is None or missing(s["uplift_pct"]) else pct(s["uplift_pct"], 0)
        if name in effect.index:
            units = signed_compact(effect.loc[name, "qty"])
            value = signed_compact(effect.loc[name, "value"])
        else:
            units, value = "none (learned or outside the plan)", ""
        rows.append([name, scope, months, uplift, units, value])
    return html_table(
        f"Events assumed in the plan's months ({currency})",
        ["event", "applies to", "months", "uplift", "units added", f"value added ({currency})"],
        rows, numeric=(3, 4, 5))


def _skus_text(skus: list[str]) -> str:
    shown = ", ".join(skus[:3])
    return shown + (f" and {len(skus) - 3} more" if len(skus) > 3 else "")


def _stated_text(stated: pd.DataFrame, group) -> str:
    """How the override reads in plan/overrides (a quantity replaces the cell, a pct_change
    scales it), matched on author, reason and month."""
    same_author = (stated["author"].isna() if group.author == UNKNOWN_AUTHOR
                   else stated["author"] == group.author)
    match = stated[(stated["month"] == group.month) & same_author
                   & (stated["reason"].fillna("") == group.reason)]
    texts = []
    for s in match.itertuples():
        where = " @ ".join(str(v) for v in (s.sku or s.family, s.location_id)
                           if v is not None and not missing(v))
        change = (f"set to {s.quantity:,.0f} units" if not missing(s.quantity)
                  else f"{s.pct_change * 100:+.0f} %" if not missing(s.pct_change) else "")
        texts.append(f"{where}: {change}".strip(": "))
    return "; ".join(dict.fromkeys(texts))


def _takeaway(events: pd.DataFrame, overrides: pd.DataFrame, currency: str) -> str:
    parts = []
    if len(events):
        n = events["event"].nunique()
        parts.append(f"{n} event{'s' if n > 1 else ''} adding {compact(events['qty'].sum())} "
                     f"units ({currency} {signed_compact(events['value'].sum())})")
    if len(overrides):
        authors = overrides["author"].nunique()
        by = overrides.groupby(["author", "reason"])[["qty", "value"]].sum()
        parts.append(f"overrides by {authors} author{'s' if authors > 1 else ''} adding a net "
                     f"{signed_compact(overrides['qty'].sum())} units ({currency} "
                     f"{signed_compact(overrides['value'].sum())})")
        author, reason = by["value"].abs().idxmax()
        largest = by.loc[(author, reason)]
        parts.append(f"the largest override is {author}'s"
                     + (f" \"{reason}\"" if reason else "")
                     + f", {currency} {signed_compact(largest['value'])}")
    return sentence("The consensus assumes " + " and ".join(parts[:2])
                    + ("; " + parts[2] if len(parts) > 2 else ""))
