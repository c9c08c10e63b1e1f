"""The S&OP pack: one self-contained HTML page per cycle that the executive S&OP meeting
decides from, in sections (`pack_sections()`): each a takeaway and a plotly chart, or a
stated reason, and where useful a table."""

from sop_pipeline.report.pack.check import chart_figures, pack_problems
from sop_pipeline.report.pack.contents import ALLOWED_EMPTY, SECTIONS, pack_sections
from sop_pipeline.report.pack.page import build_pack, pack_path, staged_pack_path, write_pack

__all__ = [
    "ALLOWED_EMPTY",
    "SECTIONS",
    "build_pack",
    "chart_figures",
    "pack_path",
    "pack_problems",
    "pack_sections",
    "staged_pack_path",
    "write_pack",
]
