"""How a check rule names what it found: 'table: what: N row(s), e.g. key=value, ...; ...'.

The rules themselves live beside the code that makes the rows (sop_pipeline.demand.checks,
sop_pipeline.supply.checks, sop_pipeline.review.checks, sop_pipeline.report.checks); each
returns a list of these strings, empty when the table holds. The Dagster assets yield them as
asset checks; the tests call the rules on frames of their own.
"""

from __future__ import annotations

import pandas as pd

SAMPLE_ROWS = 3  # rows named in a problem
ABSOLUTE = 1e-6  # identities (sums, balances) hold to float noise ...
RELATIVE = 1e-9  # ... and to a few ulps of large money amounts


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


def differs(actual: pd.Series, expected: pd.Series) -> pd.Series:
    """True where actual and expected differ beyond float noise (NaN equals only NaN)."""
    actual, expected = actual.astype(float), expected.astype(float)
    gap = (actual - expected).abs() > ABSOLUTE + RELATIVE * expected.abs()
    return gap | (actual.isna() != expected.isna())


def _shown(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, float):
        return round(value, 4)
    return value
