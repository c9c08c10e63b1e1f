"""The pack's completeness check: every section present, every chart with data, no network."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping

import numpy as np

from sop_pipeline.report.number_format import missing
from sop_pipeline.report.pack.contents import ALLOWED_EMPTY, pack_sections


def pack_problems(
    page: str, allowed_empty: Mapping[str, tuple[str, ...]] = ALLOWED_EMPTY
) -> list[str]:
    """What makes a pack incomplete: a missing section, a section without a chart (unless
    `allowed_empty` lets it give its reason), a chart without data, a network resource."""
    problems = []
    figures = chart_figures(page)
    for section_id in pack_sections():
        opening = re.search(rf'<section\b[^>]*\bid="{section_id}"[^>]*>', page)
        if opening is None:
            problems.append(f"section {section_id!r} is missing")
            continue
        figure = figures.get(f"chart-{section_id}")
        if figure is None:
            reason = re.search(r'data-empty="([^"]*)"', opening.group(0))
            reason = reason.group(1) if reason else "none given"
            if reason not in allowed_empty.get(section_id, ()):
                problems.append(f"section {section_id!r} has no chart (reason: {reason})")
            continue
        if not any(_trace_has_points(trace) for trace in figure["data"]):
            problems.append(f"chart of section {section_id!r} has no data point")
    problems.extend(f"fetches from the network: {ref}" for ref in _external_references(page))
    return problems


def chart_figures(page: str) -> dict[str, dict]:
    """The plotly figures of a page as {div id: {"data": [...], "layout": {...}}}."""
    decoder = json.JSONDecoder()
    figures = {}
    for call in re.finditer(r'Plotly\.newPlot\(\s*"([^"]+)",\s*', page):
        data, end = decoder.raw_decode(page, call.end())
        end = re.compile(r"\s*,\s*").match(page, end).end()
        layout, _ = decoder.raw_decode(page, end)
        figures[call.group(1)] = {"data": data, "layout": layout}
    return figures


def _trace_has_points(trace: dict) -> bool:
    kind = trace.get("type", "scatter")
    if kind == "indicator":
        values = trace.get("value")
    elif kind in ("heatmap", "contour"):
        values = trace.get("z")
    elif kind == "bar" and trace.get("orientation") == "h":
        values = trace.get("x")
    else:
        values = trace.get("y")
    return any(not missing(v) for v in _flatten(values))


def _flatten(values) -> list:
    if values is None:
        return []
    if isinstance(values, dict) and "bdata" in values:  # plotly's typed-array encoding
        return np.frombuffer(base64.b64decode(values["bdata"]),
                             dtype=np.dtype(values["dtype"])).tolist()
    if isinstance(values, list | tuple):
        return [v for item in values for v in _flatten(item)]
    return [values]


def _external_references(page: str) -> list[str]:
    """Script, stylesheet, image or frame sources and CSS urls on the network (script bodies
    such as plotly.js mention URLs in their code, so they are left out of the scan)."""
    tags = re.sub(r"(<script\b[^>]*>).*?(</script>)", r"\1\2", page, flags=re.S | re.I)
    found = re.findall(r"<(?:script|link|img|iframe|source|embed)\b[^>]*?\b(?:src|href)\s*=\s*"
                       r"[\"']?((?:https?:)?//[^\"'\s>]+)", tags, flags=re.I)
    found += re.findall(r"(?:@import|url\()\s*[\"']?((?:https?:)?//[^\"')\s]+)", tags,
                        flags=re.I)
    return found
