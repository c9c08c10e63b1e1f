"""What the pack holds: its sections in page order, the reasons a section may be empty, and
the `Section` each section builder returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import plotly.graph_objects as go

SECTIONS: tuple[tuple[str, str], ...] = (
    ("headline", "Headline"),
    ("demand", "Demand"),
    ("capacity", "Capacity"),
    ("inventory", "Inventory"),
    ("money", "The plan in money"),
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


def pack_sections() -> tuple[str, ...]:
    """Section ids of the pack, in page order (each is an HTML id and `chart-<id>`)."""
    return tuple(section_id for section_id, _ in SECTIONS)


@dataclass(frozen=True)
class Section:
    """One section of the page: its takeaway and chart, or why it has none."""

    id: str
    takeaway: str
    figure: go.Figure | None = None
    empty: str | None = None  # why there is no chart: an ALLOWED_EMPTY reason, or "no-data"
    notes: tuple[str, ...] = ()
    extra_html: str = ""
