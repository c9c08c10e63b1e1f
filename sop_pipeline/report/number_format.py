"""Numbers as short report text (12.3 k, 4.56 M), and the missing-value test it rests on."""

from __future__ import annotations

import math

import pandas as pd


def compact(value: float | None) -> str:
    """1,234 below ten thousand, then 12.3 k, 4.56 M, 7.89 B."""
    if value is None or missing(value):
        return "n/a"
    size = abs(value)
    for threshold, unit, suffix in ((1e9, 1e9, " B"), (1e6, 1e6, " M"), (1e4, 1e3, " k")):
        if size >= threshold:
            return f"{value / unit:.3g}{suffix}"
    return f"{value:,.0f}" if size >= 100 else f"{value:.3g}"


def missing(value: object) -> bool:
    """None, pd.NA, NaT, NaN or an infinity; text and other non-numbers are not missing."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return not math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
