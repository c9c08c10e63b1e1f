"""How the pack looks and words its figures: colours, and the text formats of its takeaways."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Container, Iterable, Sequence

import pandas as pd

from sop_pipeline.report.number_format import compact, missing

INK, FORECAST, CONSENSUS, MUTED = "#1f2937", "#2563eb", "#ea580c", "#6b7280"
SEVERITY_COLOURS = {"high": "#dc2626", "medium": "#f59e0b", "low": "#9ca3af"}
# Vega's Tableau-10, reordered so families do not take the forecast orange or the alert red.
PALETTE = ("#4C78A8", "#72B7B2", "#54A24B", "#B279A2", "#9D755D", "#EECA3B", "#FF9DA6",
           "#BAB0AC", "#F58518", "#E45756")


def floats(values: Iterable[object]) -> list[float | None]:
    """Plain lists (not numpy) so the page's JSON stays readable; NaN becomes null."""
    return [None if missing(v) else float(v) for v in values]


def html_text(value: object) -> str:
    """Data as HTML text (alert messages, family names can hold < or &)."""
    return html.escape(str(value), quote=False)


def sentence(text: str) -> str:
    """The text with a capital first letter and a closing full stop."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def count_text(value: object) -> str:
    """A whole count with thousands separators; a missing count reads 0."""
    return "0" if missing(value) else f"{int(value):,}"


def pct(value: float, digits: int = 1) -> str:
    return f"{value * 100:.{digits}f} %"


def signed_pct(value: float) -> str:
    return f"{value * 100:+.1f} %"


def versus(ratio: float) -> str:
    """A ratio to a reference in words: "4.2 % above", "1.0 % below", "level with"."""
    change = ratio - 1
    if abs(change) < 0.0005:
        return "level with"
    return f"{pct(abs(change))} {'above' if change > 0 else 'below'}"


def signed_compact(value: float) -> str:
    return ("+" if value >= 0 else "-") + compact(abs(value))


def month_text(month: pd.Timestamp | dt.date | str) -> str:
    """A month as the pack names it: "Oct 2026"."""
    return f"{pd.Timestamp(month):%b %Y}"


def plan_boundary(cycle: pd.Timestamp) -> str:
    """Half a month before the cycle: the line between history and plan on a month axis."""
    return f"{cycle - pd.Timedelta(days=15):%Y-%m-%d}"


def signed_points(value: float) -> str:
    """A difference of two rates in percentage points: "+2.5 points"."""
    return f"{value * 100:+.1f} points"


def html_table(caption: str, header: Sequence[str], rows: Iterable[Sequence[object]],
               numeric: Container[int] = (), row_classes: Iterable[str] | None = None) -> str:
    """A data table of the page: cells as text (escaped), `numeric` columns right-aligned,
    an optional class per row (e.g. "adopted" to mark the adopted scenario)."""
    classes = iter(row_classes) if row_classes is not None else None
    body = []
    for row in rows:
        css = next(classes, "") if classes is not None else ""
        cells = "".join(
            f'<td class="num">{html_text(cell)}</td>' if i in numeric
            else f"<td>{html_text(cell)}</td>" for i, cell in enumerate(row))
        body.append(f'<tr class="{css}">{cells}</tr>' if css else f"<tr>{cells}</tr>")
    head = "".join(f"<th>{html_text(h)}</th>" for h in header)
    return (f'<table class="data"><caption>{html_text(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(body)
            + "\n</tbody></table>")
