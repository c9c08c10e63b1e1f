"""A one-line unicode block chart of a series, for Dagster asset metadata."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from sop_pipeline.report.number_format import compact

_BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline_markdown(values: Iterable[float | None], width: int = 24) -> str:
    """A one-line unicode block chart with its range, e.g. "`▁▂▅▆█▅` min 1 · max 9".

    Longer series are averaged into `width` buckets; missing values show as a space.
    """
    if width < 1:
        raise ValueError("width must be at least 1")
    series = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    series[~np.isfinite(series)] = np.nan
    if len(series) > width:
        series = np.array([
            np.nanmean(chunk) if np.isfinite(chunk).any() else np.nan
            for chunk in np.array_split(series, width)
        ])
    finite = series[np.isfinite(series)]
    if finite.size == 0:
        return "(no data)"
    low, high = float(finite.min()), float(finite.max())
    chars = []
    for value in series:
        if not np.isfinite(value):
            chars.append(" ")
        elif high == low:
            chars.append(_BLOCKS[3])
        else:
            chars.append(_BLOCKS[int((value - low) / (high - low) * 7 + 0.5)])
    return f"`{''.join(chars)}` min {compact(low)} · max {compact(high)}"
