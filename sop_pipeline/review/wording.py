"""How alerts write quantities and name work centres in their sentences."""

from __future__ import annotations

import pandas as pd


def quantity_text(value: float) -> str:
    """A quantity for a sentence: thousands separators, one decimal only when there is one."""
    rounded = round(float(value), 1) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{rounded:,.0f}" if rounded.is_integer() else f"{rounded:,.1f}"


def centre_label(work_center_id: str, name: object) -> str:
    """'WC-ASSY (Final assembly)' when the centre has a distinct name, else its id."""
    if pd.isna(name) or name == work_center_id:
        return str(work_center_id)
    return f"{work_center_id} ({name})"
