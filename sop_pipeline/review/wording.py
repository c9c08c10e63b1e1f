"""How alerts write quantities and money and name work centres and orders in their sentences."""

from __future__ import annotations

import math

import pandas as pd


def quantity_text(value: float) -> str:
    """A quantity for a sentence: thousands separators, one decimal only when there is one."""
    rounded = round(float(value), 1) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{rounded:,.0f}" if rounded.is_integer() else f"{rounded:,.1f}"


def units_text(value: float, unit: str = "unit") -> str:
    """'1 unit', '2.5 units', '3 months': quantity_text and the unit, plural unless it is 1."""
    number = quantity_text(value)
    return f"{number} {unit}" if number == "1" else f"{number} {unit}s"


def money_text(value: float, currency: str) -> str:
    """Money for a sentence: whole units of the currency with thousands separators, '1,234 EUR';
    'an unknown amount' when there is no price to value it at."""
    if not math.isfinite(float(value)):
        return "an unknown amount"
    return f"{round(float(value)) + 0:,.0f} {currency}"


def order_label(supply_type: str, order_id: str, line_no: object) -> str:
    """'purchase order PO-004711 line 1', or 'production order MO-000123' (one line each)."""
    if str(supply_type).lower() == "production":
        return f"production order {order_id}"
    return f"purchase order {order_id} line {line_no}"


def order_entity(supply_type: str, order_id: str, line_no: object) -> str:
    """The alert entity of an order line: 'PO-004711/1', or 'MO-000123' for production."""
    if str(supply_type).lower() == "production":
        return str(order_id)
    return f"{order_id}/{line_no}"


def centre_label(work_center_id: str, name: object) -> str:
    """'WC-ASSY (Final assembly)' when the centre has a distinct name, else its id."""
    if pd.isna(name) or name == work_center_id:
        return str(work_center_id)
    return f"{work_center_id} ({name})"
