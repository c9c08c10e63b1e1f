"""Cycle months: a cycle `2026-10` plans with the actuals up to the end of 2026-09."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd

COMPLETE_WITHIN_DAYS = 3
# A year of actuals before the first cycle: the seasonal naive baseline and a yearly season
# need it.
FIRST_CYCLE_HISTORY_MONTHS = 12


def month_start(month: str | dt.date | pd.Timestamp) -> pd.Timestamp:
    """`'2026-10'`, or any date in that month → Timestamp of the month's first day."""
    try:
        return pd.Timestamp(month).to_period("M").to_timestamp()
    except ValueError as exc:
        raise ValueError(f"Not a month: {month!r} (expected YYYY-MM).") from exc


def month_starts(dates: pd.Series) -> pd.Series:
    """A column of dates (or date strings) moved to the first day of their month; NaT stays."""
    return pd.to_datetime(dates).dt.to_period("M").dt.to_timestamp()


def first_receipt_months(cutoff: pd.Timestamp, lead_time_days: pd.Series) -> pd.Series:
    """The first month a planned order released at the cut-off can be received in, per lead
    time in days (missing: 0). A receipt is needed on its month's first day, so that day must
    be on or after cutoff + lead time: no planned order is released before the cut-off.
    Cut-off 2026-10-01: 0 days -> October, 31 days -> November, 45 days -> December."""
    arrival = month_start(cutoff) + pd.to_timedelta(lead_time_days.fillna(0.0), unit="D")
    start = month_starts(arrival)
    return start.where(start >= arrival, start + pd.offsets.MonthBegin(1))


def release_dates(need_months: pd.Series, lead_time_days: pd.Series) -> pd.Series:
    """The day a planned receipt needed on its month's first day must be released: that day
    minus the lead time (missing: 0), to the day."""
    lead = pd.to_timedelta(lead_time_days.fillna(0.0), unit="D")
    return (pd.to_datetime(need_months) - lead).dt.floor("D")


def distinct_months(months: Iterable[pd.Timestamp | str]) -> list[pd.Timestamp]:
    """The months' first days, sorted, each once."""
    return sorted({month_start(month) for month in months})


def previous_month(month: pd.Timestamp) -> pd.Timestamp:
    """The first day of the month before `month`'s."""
    return month_start(month) - pd.offsets.MonthBegin(1)


def month_label(month: pd.Timestamp | dt.date) -> str:
    return pd.Timestamp(month).strftime("%Y-%m")


def cycle_range(text: str) -> list[pd.Timestamp]:
    """`'2025-11..2026-10'` → every month from the first to the last, inclusive."""
    first, sep, last = text.partition("..")
    if not sep:
        raise ValueError(f"Not a cycle range: {text!r} (expected YYYY-MM..YYYY-MM).")
    months = list(pd.date_range(month_start(first), month_start(last), freq="MS"))
    if not months:
        raise ValueError(f"Empty cycle range {text!r}: the first month is after the last.")
    return months


def next_cycle(last_order_date: dt.date) -> pd.Timestamp:
    """The cycle after the latest month whose actuals are complete.

    A month counts as complete once the data reaches its last three days (a month may end on
    a weekend): data ending on 2026-10-30 makes cycle 2026-11, ending on 2026-10-17 makes 2026-10.
    """
    day = pd.Timestamp(last_order_date)
    month = day.to_period("M").to_timestamp()
    complete = day.days_in_month - day.day < COMPLETE_WITHIN_DAYS
    return month + pd.offsets.MonthBegin(1) if complete else month


def first_supported_cycle(first_order_date: dt.date) -> pd.Timestamp:
    """The first cycle the data supports: FIRST_CYCLE_HISTORY_MONTHS after the first order's
    month."""
    return month_start(first_order_date) + pd.DateOffset(months=FIRST_CYCLE_HISTORY_MONTHS)


def horizon_months(cycle_month: pd.Timestamp, horizon: int) -> list[pd.Timestamp]:
    """The `horizon` months a cycle plans, starting with the cycle month itself."""
    return list(pd.date_range(cycle_month, periods=horizon, freq="MS"))
