"""What the pack holds: its sections in page order, the reasons a section may be empty, and
the `Section` each section builder returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import plotly.graph_objects as go

SECTIONS: tuple[tuple[str, str], ...] = (
    ("headline", "Headline"),
    ("decisions", "Decisions and follow-up"),
    ("scenarios", "Scenarios side by side"),
    ("money", "The plan in money"),
    ("budget", "Gap to budget"),
    ("demand", "Demand"),
    ("changes", "What changed since last cycle"),
    ("assumptions", "Events and overrides assumed"),
    ("balance", "Supply vs demand and service level"),
    ("capacity", "Capacity"),
    ("inventory", "Inventory"),
    ("production", "Plan vs actual production"),
    ("waterfall", "Forecast waterfall"),
    ("fva", "Value added by each demand step"),
    ("alerts", "Alerts"),
)
# Sections that may legitimately carry no chart, and the only reasons each may give: the
# sections that compare with earlier cycles (waterfall, stairstep, drift, plan vs actual)
# before those cycles exist, capacity for a company without work centres (a distributor),
# and the optional extracts: no budget (erp/budget), no what-if (plan/scenarios), no decision
# (plan/decisions), no event or override (plan/events, plan/overrides). Any other empty
# section (a table not built for the cycle) is a problem.
ALLOWED_EMPTY: Mapping[str, tuple[str, ...]] = {
    "waterfall": ("not-enough-history",),
    "fva": ("not-enough-history",),
    "changes": ("not-enough-history",),
    "production": ("not-enough-history",),
    "capacity": ("no-work-centres",),
    "budget": ("no-budget",),
    "scenarios": ("no-scenarios",),
    "decisions": ("no-decisions",),
    "assumptions": ("no-assumptions",),
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
