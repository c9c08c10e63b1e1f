"""How a check rule names what it found: 'table: what: N row(s), e.g. key=value, ...; ...'.

The rules themselves live beside the code that makes the rows (sop_pipeline.demand.checks,
sop_pipeline.supply.checks, sop_pipeline.review.checks, sop_pipeline.report.checks); each
returns a list of these strings, empty when the table holds. The Dagster assets yield them as
asset checks; the tests call the rules on frames of their own.

The one tolerance of every comparison (checks, statuses, alerts, capacity in lot sizing):
two sides of an identity are equal when |gap| <= absolute + RELATIVE x the largest |quantity|
of the identity, row by row (`tolerance`). The absolute part is ABSOLUTE (a millionth, what
quantities and hours are stored to) in checks, QTY_TOLERANCE (0.01 units) in statuses and
alerts; the relative part is float noise, which grows with the magnitudes summed, not with the
gap: a balance of 1e9 units holds to about a unit, one of 0.1 unit to a millionth. (Counting
whole steps or lots takes ABSOLUTE alone: sop_pipeline.supply.units.whole_up.)
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

SAMPLE_ROWS = 3  # rows named in a problem
ABSOLUTE = 1e-6  # identities hold to the millionth quantities are stored to ...
RELATIVE = 1e-9  # ... and to float noise of the largest quantity summed (a few ulps, amply)
QTY_TOLERANCE = 0.01  # units: quantities closer than this are equal in statuses and alerts


def rows_problem(table: str, what: str, rows: pd.DataFrame, mask: pd.Series,
                 columns: list[str] | None = None) -> str:
    """'table: what: N row(s), e.g. ...', naming the first SAMPLE_ROWS rows where mask holds."""
    sample = rows.loc[mask.to_numpy()].head(SAMPLE_ROWS)
    if columns is not None:
        sample = sample[[c for c in dict.fromkeys(columns) if c in sample.columns]]
    shown = "; ".join(", ".join(f"{k}={_shown(v)}" for k, v in record.items())
                      for record in sample.to_dict("records"))
    return f"{table}: {what}: {int(mask.sum())} row(s), e.g. {shown}"


def problems_of(table: str, rows: pd.DataFrame, broken: dict[str, pd.Series],
                columns: list[str] | None = None) -> list[str]:
    """One rows_problem per rule of `broken` (what -> mask of rows breaking it) that any row
    breaks."""
    return [rows_problem(table, what, rows, mask, columns)
            for what, mask in broken.items() if bool(mask.any())]


def tolerance(*quantities: Any, absolute: Any = ABSOLUTE) -> Any:
    """absolute + RELATIVE x the largest |quantity|, element by element (NaN counts as 0):
    how far two sides of an identity over `quantities` may differ (module docstring)."""
    magnitude = functools.reduce(np.fmax, (np.abs(np.asarray(q, dtype=float))
                                           for q in quantities))
    return absolute + RELATIVE * np.nan_to_num(magnitude)


def differs(actual: pd.Series, expected: pd.Series, *terms: pd.Series) -> pd.Series:
    """True where actual and expected differ beyond the tolerance of actual, expected and the
    `terms` expected was computed from (NaN equals only NaN)."""
    actual, expected = actual.astype(float), expected.astype(float)
    gap = (actual - expected).abs().to_numpy() > tolerance(actual, expected, *terms)
    return pd.Series(gap, index=actual.index) | (actual.isna() != expected.isna())


def exceeds(value: Any, limit: Any, *terms: Any, absolute: Any = ABSOLUTE) -> Any:
    """True where value is above limit by more than the tolerance of value, limit and the
    `terms` limit was computed from."""
    return value > limit + tolerance(value, limit, *terms, absolute=absolute)


def _shown(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, float):
        return round(value, 4)
    return value
