"""The company being drawn: its seeded random streams, its month grid, and the arrays each
stage draws for the stages after it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PLANT = "PLT1"
FUTURE_MONTHS = 12  # expected demand is modelled this far past end_month (supply, budget)


@dataclass(frozen=True)
class Family:
    """A product family and the parameters its skus are drawn around."""

    name: str
    prefix: str
    price: float  # typical list price
    volume: float  # typical monthly units per sku and location
    amplitude: float  # seasonal amplitude (peak vs mean)
    make_bias: float  # how likely its skus are produced in-house
    nouns: tuple[str, ...]
    variants: tuple[str, ...]


class Company:
    """One random stream per stage (so a stage's draws do not shift another's), the months,
    and the arrays the stages fill in, in the order `generate_company` runs them.

    Arrays are indexed by sku (`items`), by series (a sku sold at a location) and by month
    (0 .. T-1 is history, T .. T+FUTURE_MONTHS-1 the expected future).
    """

    # master.items
    families: tuple[Family, ...]  # the first n of master.FAMILIES
    fam: np.ndarray  # family index per sku
    sku_codes: np.ndarray
    price: np.ndarray
    make: np.ndarray  # made in-house (else bought)
    lead_time: np.ndarray  # days
    # master.locations, master.accounts
    location_ids: np.ndarray
    account_ids: np.ndarray
    account_weight: np.ndarray  # share of orders per account
    account_discount: np.ndarray
    # demand.series, demand.model
    s_sku: np.ndarray  # sku per series
    s_loc: np.ndarray  # location per series
    intermittent: np.ndarray  # per sku
    start: np.ndarray  # launch month per sku (0 unless launched during the history)
    mu: np.ndarray  # expected demand per series and month (history and future)
    qty: np.ndarray  # realised demand per series and history month
    lines_per_month: np.ndarray
    # demand.sales_orders: booked (not cancelled) quantity and net amount per series and month
    actual: np.ndarray
    actual_amount: np.ndarray
    # supply.pick_stock_outliers: series whose stock runs low, series holding excess stock
    low: np.ndarray
    excess: np.ndarray
    overbought: np.ndarray  # excess series of bought skus: ordered again (purchase_orders)

    def __init__(self, skus: int, locations: int, years: int, seed: int,
                 end_month: np.datetime64, manufacturer: bool) -> None:
        self.n_skus = skus
        self.n_locations = locations
        self.manufacturer = manufacturer
        self.T = years * 12
        streams = np.random.SeedSequence(seed).spawn(12)
        (self.rng_items, self.rng_series, self.rng_demand, self.rng_sales, self.rng_accounts,
         self.rng_deals, self.rng_capacity, self.rng_po, self.rng_mo, self.rng_stock,
         self.rng_budget, self.rng_plan) = (np.random.default_rng(s) for s in streams)
        self.months = np.arange(end_month - (self.T - 1), end_month + FUTURE_MONTHS + 1)
        self.month_start = self.months.astype("datetime64[D]")  # T + FUTURE_MONTHS + 1 entries
        self.business_days = np.busday_count(self.month_start[:-1], self.month_start[1:])
        self.end_date = self.month_start[self.T] - 1  # last day of end_month

    def business_day(self, month: np.ndarray, position: np.ndarray) -> np.ndarray:
        """A weekday (Monday to Friday) of each month; `position` in [0, 1) spreads them."""
        nth = np.floor(position * self.business_days[month]).astype(np.int64)
        return np.busday_offset(self.month_start[month], nth, roll="forward")
