"""The pack's HTML page, built from the sections with plotly.js inlined once (fixed div ids, no
timestamp: the same warehouse gives the same bytes), and written atomically to its path."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import duckdb
import pandas as pd

from sop_pipeline.cycle import month_start
from sop_pipeline.report.pack.assumptions import assumptions_section
from sop_pipeline.report.pack.balance import balance_section
from sop_pipeline.report.pack.contents import SECTIONS, Section, pack_sections
from sop_pipeline.report.pack.decisions import decisions_section, scenarios_section
from sop_pipeline.report.pack.demand_supply import (
    capacity_section,
    demand_section,
    inventory_section,
)
from sop_pipeline.report.pack.follow_up import changes_section, fva_section, production_section
from sop_pipeline.report.pack.money import money_section
from sop_pipeline.report.pack.reader import Warehouse
from sop_pipeline.report.pack.review import (
    alerts_section,
    budget_section,
    headline_section,
    waterfall_section,
)
from sop_pipeline.report.pack.style import (
    CONSENSUS,
    FORECAST,
    INK,
    MUTED,
    SEVERITY_COLOURS,
    html_text,
    month_text,
)

_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                  "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


def write_pack(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp, warehouse_dir: Path,
               service_level: float | None = None, staged: bool = False) -> Path:
    """Write the cycle's pack to pack_path() atomically (temp file, then rename over), or
    with `staged` to staged_pack_path(), for the publication to swap in with its tables."""
    target = (staged_pack_path if staged else pack_path)(warehouse_dir, cycle_month)
    out_dir = target.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    page = build_pack(con, cycle_month, service_level)
    handle, temp_name = tempfile.mkstemp(dir=out_dir, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(page)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target


def pack_path(warehouse_dir: Path, cycle_month: pd.Timestamp) -> Path:
    """Where a cycle's pack lives: <warehouse_dir>/packs/sop_pack_YYYY-MM.html."""
    return Path(warehouse_dir) / "packs" / f"sop_pack_{month_start(cycle_month):%Y-%m}.html"


def staged_pack_path(warehouse_dir: Path, cycle_month: pd.Timestamp) -> Path:
    """Where a cycle's new pack waits for the publication: <warehouse_dir>/packs/.staged/."""
    final = pack_path(warehouse_dir, cycle_month)
    return final.parent / ".staged" / final.name


def build_pack(con: duckdb.DuckDBPyConnection, cycle_month: pd.Timestamp,
               service_level: float | None = None) -> str:
    """The pack of one cycle as a self-contained HTML page; `service_level` is the safety
    stock's target the service level is read against (SopSettings.service_level; the
    pipeline's default when not given)."""
    warehouse = Warehouse(con, month_start(cycle_month))
    builders: dict[str, Callable[[Warehouse], Section]] = {
        "headline": headline_section, "decisions": decisions_section,
        "scenarios": scenarios_section, "money": money_section, "budget": budget_section,
        "demand": demand_section, "changes": changes_section,
        "assumptions": assumptions_section,
        "balance": partial(balance_section, service_level=service_level),
        "capacity": capacity_section, "inventory": inventory_section,
        "production": production_section, "waterfall": waterfall_section,
        "fva": fva_section, "alerts": alerts_section,
    }
    return _render_page(warehouse.cycle, [builders[s](warehouse) for s in pack_sections()])


def _render_page(cycle: pd.Timestamp, sections: list[Section]) -> str:
    titles = dict(SECTIONS)
    parts, plotly_included = [], False
    for section in sections:
        if section.figure is not None:
            section.figure.update_layout(template="plotly_white", font={"family": _FONTS})
            chart = section.figure.to_html(
                full_html=False, include_plotlyjs=not plotly_included,
                div_id=f"chart-{section.id}", config=_PLOTLY_CONFIG)
            plotly_included = True
            body = f'<div class="chart">{chart}</div>'
            empty_attribute = ""
        else:
            reason = section.empty or "no-data"
            body = f'<p class="empty">{_EMPTY_LABELS.get(reason, reason)}</p>'
            empty_attribute = f' data-empty="{reason}"'
        notes = "".join(f'<p class="note">{html_text(n)}</p>' for n in section.notes)
        parts.append(
            f'<section id="{section.id}" class="pack-section"{empty_attribute}>\n'
            f"<h2>{html_text(titles[section.id])}</h2>\n"
            f'<p class="takeaway">{html_text(section.takeaway)}</p>\n'
            f"{body}\n{section.extra_html}{notes}\n</section>")
    toc = " · ".join(f'<a href="#{s}">{html_text(t)}</a>' for s, t in SECTIONS)
    label = f"{cycle:%Y-%m}"
    return _PAGE.format(
        title=f"S&amp;OP pack, cycle {label}", css=_CSS, toc=toc,
        cycle=month_text(cycle), cutoff=month_text(cycle - pd.DateOffset(months=1)),
        sections="\n".join(parts))


_EMPTY_LABELS = {
    "not-enough-history": "Not enough history yet",
    "no-work-centres": "No work centres",
    "no-budget": "No budget loaded",
    "no-scenarios": "No what-if scenario: only the baseline",
    "no-decisions": "No decision recorded",
    "no-assumptions": "No event or override assumed",
    "no-data": "No data for this cycle",
}
_FONTS = ("system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
          "'Liberation Sans', sans-serif")
_CSS = f"""
* {{ box-sizing: border-box; }}
body {{ font-family: {_FONTS}; color: {INK}; background: #f3f4f6; margin: 0; }}
main {{ max-width: 1240px; margin: 0 auto; padding: 24px; }}
header h1 {{ font-size: 1.7rem; margin: 0 0 4px; }}
header p {{ color: {MUTED}; margin: 0 0 12px; }}
nav {{ font-size: 0.9rem; margin-bottom: 16px; }}
nav a {{ color: {FORECAST}; text-decoration: none; }}
section {{ background: #fff; border: 1px solid #e5e7eb; border-radius: 8px;
          padding: 16px 20px; margin-bottom: 18px; }}
h2 {{ font-size: 1.25rem; margin: 0 0 6px; }}
.takeaway {{ font-size: 1.05rem; border-left: 4px solid {CONSENSUS}; padding-left: 10px;
            margin: 0 0 10px; }}
.empty {{ background: #f9fafb; border: 1px dashed #d1d5db; border-radius: 6px;
         padding: 28px; text-align: center; color: {MUTED}; }}
.note {{ font-size: 0.82rem; color: {MUTED}; margin: 6px 0 0; }}
table.alerts {{ border-collapse: collapse; width: 100%; font-size: 0.85rem; margin-top: 10px; }}
table.alerts caption {{ text-align: left; font-weight: 600; padding: 4px 0; }}
table.alerts th, table.alerts td {{ border-bottom: 1px solid #e5e7eb; padding: 5px 8px;
                                   text-align: left; vertical-align: top; }}
table.alerts td:nth-child(-n+4) {{ white-space: nowrap; }}
table.data {{ border-collapse: collapse; width: 100%; font-size: 0.85rem; margin-top: 10px; }}
table.data caption {{ text-align: left; font-weight: 600; padding: 4px 0; }}
table.data th, table.data td {{ border-bottom: 1px solid #e5e7eb; padding: 5px 8px;
                               text-align: left; vertical-align: top; }}
table.data td.num {{ text-align: right; white-space: nowrap; }}
table.data tr.adopted td {{ font-weight: 600; background: #fff7ed; }}
table.data tr.follow-overdue td:nth-child(2) {{ color: {SEVERITY_COLOURS['high']};
                                               font-weight: 600; }}
table.data tr.follow-due td:nth-child(2) {{ color: #b45309; font-weight: 600; }}
.badge {{ border-radius: 10px; padding: 1px 8px; color: #fff; font-size: 0.78rem; }}
.badge.high {{ background: {SEVERITY_COLOURS['high']}; }}
.badge.medium {{ background: {SEVERITY_COLOURS['medium']}; }}
.badge.low {{ background: {SEVERITY_COLOURS['low']}; }}
footer {{ color: {MUTED}; font-size: 0.8rem; }}
@page {{ size: A4 landscape; margin: 10mm; }}
@media print {{
  body {{ background: #fff; }}
  main {{ padding: 0; }}
  nav, .modebar-container {{ display: none; }}
  section {{ break-inside: avoid; page-break-inside: avoid; border: none; padding: 0 0 8px; }}
}}
"""
_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<main>
<header>
<h1>{title}</h1>
<p>Cycle {cycle}: actuals up to the end of {cutoff}, plans from {cycle}.</p>
</header>
<nav>{toc}</nav>
{sections}
<footer>Built by sop_pipeline.report.pack from the working warehouse.</footer>
</main>
</body>
</html>
"""
