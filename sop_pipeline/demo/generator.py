"""A deterministic demo company (bike maker or distributor) written as a landing folder.

`generate_company` writes every extract of the contract with data realistic enough for the
planning stages to find something: trend, spring/summer seasonality, promotions, noise,
intermittent and newly launched skus, an overloaded assembly centre in peak season, a summer
shutdown and Christmas holidays in the work-centre calendar, late and open purchase orders, a
supplier (SUP-01) slower than the items' lead times for the last year, stock that runs low
and stock that is in excess, an open CRM pipeline, a budget, a few planner overrides and a
yearly family promotion with its past occurrences in plan/events.

Everything is vectorised with numpy (no loop per order line) and driven by one seed: the same
arguments give byte-identical files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from sop_pipeline.ingest.contract import BY_NAME, ENTITIES

FORMATS = ("csv", "parquet")
PLANT = "PLT1"
FAMILY_PROMO_UPLIFT = 0.2
SLOW_SUPPLIER_FACTOR = 1.4
# (month of year from 0, share of the normal hours, reason) in the work-centre calendar
SHUTDOWNS = ((7, 0.5, "Summer shutdown"), (11, 0.8, "Christmas holidays"))
FUTURE_MONTHS = 12  # expected demand is modelled this far past end_month (supply, budget)


@dataclass(frozen=True)
class _Family:
    """A product family and the parameters its skus are drawn around."""

    name: str
    prefix: str
    price: float  # typical list price
    volume: float  # typical monthly units per sku and location
    amplitude: float  # seasonal amplitude (peak vs mean)
    make_bias: float  # how likely its skus are produced in-house
    nouns: tuple[str, ...]
    variants: tuple[str, ...]


FAMILIES: tuple[_Family, ...] = (
    _Family("Bikes", "BIK", 900.0, 25.0, 0.45, 0.9,
            ("road bike", "gravel bike", "city bike", "e-bike", "mountain bike"),
            ("S", "M", "L", "XL")),
    _Family("Frames", "FRM", 350.0, 20.0, 0.35, 0.8,
            ("road frame", "gravel frame", "MTB frame", "city frame"),
            ("48cm", "52cm", "54cm", "56cm", "58cm")),
    _Family("Wheels", "WHL", 180.0, 40.0, 0.30, 0.5,
            ("wheelset", "front wheel", "rear wheel", "disc wheel"),
            ("26in", "27.5in", "29in", "700c")),
    _Family("Components", "CMP", 45.0, 120.0, 0.15, 0.3,
            ("chain", "cassette", "brake set", "crankset", "saddle", "handlebar"),
            ("11s", "12s", "std", "pro")),
    _Family("Accessories", "ACC", 25.0, 150.0, 0.25, 0.1,
            ("helmet", "bottle cage", "light set", "pump", "lock", "bag"),
            ("black", "red", "blue", "grey")),
    _Family("Apparel", "APP", 40.0, 90.0, 0.35, 0.0,
            ("jersey", "bib shorts", "jacket", "gloves", "socks"),
            ("S", "M", "L", "XL")),
)
_ADJECTIVES = ("Aero", "Trail", "Urban", "Classic", "Sport", "Comfort", "Pro", "Elite", "Tour",
               "Race", "Core", "Light")
_WORK_CENTERS = (  # id, name, kept when the plant has 3 / 4 / 5 centres
    ("WC-CUT", "Tube cutting", 3),
    ("WC-WELD", "Welding", 4),
    ("WC-PAINT", "Paint shop", 3),
    ("WC-ASSY", "Final assembly", 3),
    ("WC-PACK", "Packing", 5),
)
_BOTTLENECK = "WC-ASSY"
_SEGMENTS = ("Retail", "Wholesale", "OEM", "Online")
_SEGMENT_P = (0.4, 0.25, 0.15, 0.2)
_SEGMENT_WORDS = (("Cycles", "Bike Shop"), ("Distribution", "Trading"), ("Mobility", "Industries"),
                  ("Online", "Direct"))
_SEGMENT_DISCOUNT = ((0.0, 0.05), (0.08, 0.15), (0.10, 0.20), (0.0, 0.03))
_REGIONS = ("EMEA", "AMER", "APAC")
_REGION_P = (0.5, 0.3, 0.2)
_REGION_SUFFIXES = (("GmbH", "Ltd", "BV", "SARL"), ("Inc", "LLC"), ("Pty Ltd", "Pte Ltd", "KK"))
_ACCOUNT_STEMS = (
    "Velo", "Alpine", "Urban", "Summit", "Coastal", "Nordic", "Metro", "Prairie", "Harbor",
    "Canyon", "Pioneer", "Granite", "Evergreen", "Falcon", "Horizon", "Redwood", "Atlas",
    "Cascade", "Meridian", "Sierra", "Bluebird", "Orbit", "Vertex", "Lakeside", "Highland",
    "Sunrise", "Riverside", "Ironwood", "Compass", "Polar", "Crest", "Maple", "Tundra", "Zenith",
    "Juniper", "Aurora", "Boulder", "Willow", "Quartz", "Solstice",
)
_DEAL_STAGES = ("prospecting", "qualification", "proposal", "negotiation")
_DEAL_STAGE_P = (0.3, 0.3, 0.25, 0.15)
_DEAL_PROBABILITY = (0.1, 0.25, 0.5, 0.75)
_ARROW_TYPES = {"text": pa.string(), "int": pa.int64(), "float": pa.float64(),
                "date": pa.date32(), "timestamp": pa.timestamp("s")}


def generate_company(
    out_dir: Path | str,
    skus: int = 40,
    locations: int = 2,
    years: int = 4,
    seed: int = 7,
    end_month: str | None = None,
    fmt: str = "csv",
    work_centers: bool = True,
) -> dict[str, int]:
    """Write the demo company's extracts; return rows written per entity ('erp/items': 40, ...).

    `end_month` ("YYYY-MM", default: the month before today's) is the last complete month of
    history, which covers `years * 12` months. `work_centers=False` writes a distributor (all
    items bought; no work centres, routings or production orders). Contract files this call
    does not write (the other format, the manufacturing files of a distributor) are removed
    from `out_dir`, so the folder always holds exactly one company.
    """
    if skus < 1 or locations < 1 or years < 1:
        raise ValueError("skus, locations and years must each be at least 1.")
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {fmt!r}: expected one of {', '.join(FORMATS)}.")
    company = _Company(skus, locations, years, seed, _parse_end_month(end_month), work_centers)
    built = company.build()
    tables = {e.name: built[e.name] for e in ENTITIES if e.name in built}  # contract order
    out = Path(out_dir)
    for entity in ENTITIES:
        for ext in FORMATS:
            path = out / f"{entity.name}.{ext}"
            if path.exists() and (entity.name not in tables or ext != fmt):
                path.unlink()
    for name, table in tables.items():
        _write(table, out / f"{name}.{fmt}", fmt)
    return {name: table.num_rows for name, table in tables.items()}


def _parse_end_month(text: str | None) -> np.datetime64:
    """'YYYY-MM' → numpy month; None → the month before today's."""
    if text is None:
        return np.datetime64(dt.date.today(), "M") - 1
    try:
        return np.datetime64(dt.datetime.strptime(text, "%Y-%m").date(), "M")
    except ValueError as exc:
        raise ValueError(f"Not a month: {text!r} (expected YYYY-MM).") from exc


class _Company:
    """Draws one company; `build` returns its extracts as Arrow tables by entity name.

    Arrays are indexed by sku (`items`), by series (a sku sold at a location) and by month
    (0 .. T-1 is history, T .. T+FUTURE_MONTHS-1 the expected future).
    """

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

    def _business_day(self, month: np.ndarray, position: np.ndarray) -> np.ndarray:
        """A weekday (Monday to Friday) of each month; `position` in [0, 1) spreads them."""
        nth = np.floor(position * self.business_days[month]).astype(np.int64)
        return np.busday_offset(self.month_start[month], nth, roll="forward")

    # ---------------------------------------------------------------- orchestration

    def build(self) -> dict[str, pa.Table]:
        tables = {
            "erp/items": self._items(),
            "erp/locations": self._locations(),
            "crm/accounts": self._accounts(),
        }
        self._series()
        self._demand()
        tables["erp/sales_orders"] = self._sales_orders()
        if self.manufacturer:
            tables["erp/work_centers"], tables["erp/routings"] = self._capacity()
            tables["erp/work_center_calendar"] = self._calendar(tables["erp/work_centers"])
        self._pick_stock_outliers()
        tables["erp/purchase_orders"] = self._purchase_orders()
        if self.manufacturer:
            tables["erp/production_orders"] = self._production_orders()
        tables["erp/budget"] = self._budget()
        tables["crm/deals"] = self._deals()
        tables["stock/inventory"] = self._inventory()
        tables["plan/overrides"] = self._overrides()
        tables["plan/events"] = self._events()
        return tables

    # ---------------------------------------------------------------- master data

    def _items(self) -> pa.Table:
        """Skus numbered within their family; about half made in-house (none for a distributor)."""
        rng, n = self.rng_items, self.n_skus
        n_fam = min(len(FAMILIES), max(1, (n + 2) // 3))
        self.families = FAMILIES[:n_fam]
        weights = np.array([0.15, 0.12, 0.15, 0.25, 0.2, 0.13])[:n_fam]
        extra = rng.choice(n_fam, size=n - n_fam, p=weights / weights.sum())
        fam = np.sort(np.concatenate([np.arange(n_fam), extra]))
        self.fam = fam
        first_of_family = np.searchsorted(fam, fam)
        number = np.arange(n) - first_of_family + 1
        width = max(4, len(str(int(number.max()))))
        prefixes = np.array([f.prefix for f in self.families])
        self.sku_codes = np.char.add(np.char.add(prefixes[fam], "-"),
                                     np.char.zfill(number.astype(str), width))
        nouns = [self.families[f].nouns[i % len(self.families[f].nouns)]
                 for f, i in zip(fam, rng.integers(0, 60, n), strict=True)]
        variants = [self.families[f].variants[i % len(self.families[f].variants)]
                    for f, i in zip(fam, rng.integers(0, 60, n), strict=True)]
        adjectives = np.array(_ADJECTIVES)[rng.integers(0, len(_ADJECTIVES), n)]
        description = [f"{a} {b} {c}" for a, b, c in zip(adjectives, nouns, variants, strict=True)]

        base_price = np.array([f.price for f in self.families])[fam]
        self.price = np.round(base_price * rng.lognormal(0.0, 0.35, n), 2)
        cost = np.round(self.price * rng.uniform(0.45, 0.72, n), 2)
        if self.manufacturer:
            bias = np.array([f.make_bias for f in self.families])[fam]
            score = 0.5 * rng.random(n) + bias  # bikes and frames made, apparel bought
            make = np.zeros(n, dtype=bool)
            make[np.argsort(-score, kind="stable")[: (n + 1) // 2]] = True
        else:
            make = np.zeros(n, dtype=bool)
        self.make = make
        self.lead_time = np.where(make, rng.integers(7, 31, n), rng.integers(14, 91, n))
        return _table("erp/items", {
            "sku": self.sku_codes,
            "description": description,
            "family": np.array([f.name for f in self.families])[fam],
            "uom": np.full(n, "EA"),
            "unit_cost": cost,
            "unit_price": self.price,
            "make_or_buy": np.where(make, "make", "buy"),
            "lead_time_days": self.lead_time,
        })

    def _locations(self) -> pa.Table:
        n = self.n_locations
        self.location_ids = np.array([PLANT] + [f"DC{i}" for i in range(1, n)])
        return _table("erp/locations", {
            "location_id": self.location_ids,
            "name": ["Main plant"] + [f"Distribution centre {i}" for i in range(1, n)],
            "kind": ["plant"] + ["dc"] * (n - 1),
        })

    def _accounts(self) -> pa.Table:
        """30-200 accounts; a few large ones take much of the volume (see `_sales_orders`)."""
        rng = self.rng_accounts
        n = int(np.clip(round(self.n_skus * 0.75), 30, 200))
        segment = rng.choice(len(_SEGMENTS), size=n, p=_SEGMENT_P)
        region = rng.choice(len(_REGIONS), size=n, p=_REGION_P)
        stems = np.array(_ACCOUNT_STEMS)[rng.permutation(n) % len(_ACCOUNT_STEMS)]
        word_pick, suffix_pick = rng.integers(0, 12, n), rng.integers(0, 12, n)
        names = [
            f"{stem} {_SEGMENT_WORDS[s][w % 2]} "
            f"{_REGION_SUFFIXES[r][x % len(_REGION_SUFFIXES[r])]}"
            for stem, s, r, w, x in zip(stems, segment, region, word_pick, suffix_pick,
                                        strict=True)
        ]
        low, high = np.array(_SEGMENT_DISCOUNT).T
        self.account_discount = np.round(rng.uniform(low[segment], high[segment]) * 200) / 200
        self.account_ids = np.char.add("ACC-", np.char.zfill(np.arange(1, n + 1).astype(str), 4))
        weight = 1.0 / np.arange(1, n + 1) ** 0.8
        self.account_weight = weight[rng.permutation(n)] / weight.sum()
        return _table("crm/accounts", {
            "account_id": self.account_ids,
            "name": names,
            "segment": np.array(_SEGMENTS)[segment],
            "region": np.array(_REGIONS)[region],
        })

    # ---------------------------------------------------------------- demand

    def _series(self) -> None:
        """Which sku is sold where: every sku at one location at least, most at all."""
        rng = self.rng_series
        sold = rng.random((self.n_skus, self.n_locations)) < 0.9
        nowhere = ~sold.any(axis=1)
        sold[nowhere, rng.integers(0, self.n_locations, nowhere.sum())] = True
        self.s_sku, self.s_loc = np.nonzero(sold)  # series sorted by sku, then location

    def _demand(self) -> None:
        """Expected monthly demand `mu` (history + future) and realised quantities `qty`.

        mu = level * trend * seasonality * promotions * launch ramp; qty adds gamma noise and
        Poisson counts. About 20 % of skus are intermittent (mostly zero months, small orders),
        about 12 % are launched during the history.
        """
        rng, n, T = self.rng_demand, self.n_skus, self.T
        horizon = T + FUTURE_MONTHS
        t = np.arange(horizon)
        fam = self.fam
        level = np.array([f.volume for f in self.families])[fam] * rng.lognormal(0.0, 0.7, n)
        growth = rng.normal(0.05, 0.07, n)
        amplitude = np.array([f.amplitude for f in self.families])[fam] * rng.uniform(0.7, 1.3, n)
        peak = 5.0 + rng.normal(0.0, 0.6, n)  # month of year, 0 = January: peak around June
        month_of_year = (self.months[:horizon].astype(np.int64) % 12).astype(float)

        order = rng.permutation(n)
        n_intermittent = round(0.2 * n) if n >= 3 else 0
        n_new = round(0.12 * n) if T >= 12 else 0
        intermittent = np.zeros(n, dtype=bool)
        intermittent[order[:n_intermittent]] = True
        start = np.zeros(n, dtype=np.int64)
        new = order[n_intermittent:n_intermittent + n_new]
        start[new] = rng.integers(T // 4, max(T // 4 + 1, T - 6), len(new))
        self.intermittent, self.start = intermittent, start

        trend = (1.0 + growth[:, None]) ** ((t[None, :] - (T - 1)) / 12.0)
        season = 1.0 + amplitude[:, None] * np.cos(
            2 * np.pi * (month_of_year[None, :] - peak[:, None]) / 12.0)
        promo = np.where(rng.random((n, horizon)) < 0.04, rng.uniform(1.3, 1.9, (n, horizon)), 1.0)
        promo[:, T:] = 1.0  # future promotions are not known (see plan/events)
        for first, last in self._family_promo_months()[:-1]:  # the yearly family promotion
            promo[fam == 0, first:last + 1] *= 1.0 + FAMILY_PROMO_UPLIFT
        ramp = np.clip((t[None, :] - start[:, None] + 1) / 4.0, 0.0, 1.0)
        sku_mu = level[:, None] * trend * season * promo * ramp

        s_sku = self.s_sku
        n_series = len(s_sku)
        is_plant = self.location_ids[self.s_loc] == PLANT
        share = np.where(is_plant, rng.uniform(0.6, 1.2, n_series), rng.uniform(0.3, 1.1, n_series))
        mu = sku_mu[s_sku] * share[:, None]
        cv = rng.uniform(0.1, 0.35, n_series)
        noise = rng.gamma(1.0 / cv[:, None] ** 2, cv[:, None] ** 2, (n_series, T))
        regular_qty = rng.poisson(mu[:, :T] * noise)

        occurrence = rng.uniform(0.08, 0.35, n_series)
        size = rng.uniform(0.5, 3.0, n_series)
        sparse_qty = (rng.random((n_series, T)) < occurrence[:, None]) * (
            1 + rng.poisson(size[:, None], (n_series, T)))
        sparse = intermittent[s_sku]
        self.qty = np.where(sparse[:, None], sparse_qty, regular_qty).astype(np.int64)
        self.mu = np.where(sparse[:, None], (occurrence * (1.0 + size))[:, None], mu)
        self.lines_per_month = np.where(sparse, 0.0, rng.uniform(1.5, 4.0, n_series))

    def _sales_orders(self) -> pa.Table:
        """Split monthly quantities into order lines, dated on business days, grouped in orders."""
        rng, T = self.rng_sales, self.T
        cell_s, cell_t = np.nonzero(self.qty)
        cell_q = self.qty[cell_s, cell_t]
        n_lines = np.minimum(cell_q, 1 + rng.poisson(self.lines_per_month[cell_s]))
        cell = np.repeat(np.arange(len(cell_q)), n_lines)
        weight = rng.gamma(2.0, 1.0, len(cell))
        share = weight / np.bincount(cell, weights=weight)[cell]
        spare = cell_q - n_lines  # every line gets one unit, the rest by share
        extra = np.floor(share * spare[cell]).astype(np.int64)
        first_line = np.cumsum(n_lines) - n_lines
        quantity = 1 + extra
        quantity[first_line] += spare - np.bincount(cell, weights=extra,
                                                    minlength=len(cell_q)).astype(np.int64)
        line_s, line_t = cell_s[cell], cell_t[cell]
        order_date = self._business_day(line_t, rng.random(len(cell)))
        if len(order_date):  # the extract reaches the last business day of end_month
            order_date[np.argmax(order_date)] = np.busday_offset(self.end_date, 0, roll="backward")

        line_loc = self.s_loc[line_s]
        sort = np.lexsort((rng.random(len(cell)), line_loc, order_date))
        line_s, line_t, quantity = line_s[sort], line_t[sort], quantity[sort]
        order_date, line_loc = order_date[sort], line_loc[sort]
        new_group = np.ones(len(sort), dtype=bool)
        new_group[1:] = (order_date[1:] != order_date[:-1]) | (line_loc[1:] != line_loc[:-1])
        new_order = new_group | (rng.random(len(sort)) < 0.5)
        order_no = np.cumsum(new_order)
        position = np.arange(len(sort))
        line_no = position - np.maximum.accumulate(np.where(new_order, position, 0)) + 1
        n_orders = int(order_no[-1]) if len(order_no) else 0
        account = rng.choice(len(self.account_ids), size=n_orders, p=self.account_weight)
        line_account = account[order_no - 1]

        sku = self.s_sku[line_s]
        discount = self.account_discount[line_account] + rng.choice(
            [0.0, 0.0, 0.01, 0.02], size=len(sort))
        net_amount = np.round(quantity * self.price[sku] * (1.0 - discount), 2)
        age = T - 1 - line_t
        u = rng.random(len(sort))
        statuses = np.array(["invoiced", "shipped", "open", "cancelled"])
        status = np.select(  # index into `statuses`: recent orders are still open or shipped
            [u < 0.01, (age == 0) & (u < 0.6), (age == 0) & (u < 0.9),
             (age == 1) & (u < 0.06), (age == 1) & (u < 0.3)],
            [3, 2, 1, 2, 1], 0)
        booked = status != 3
        n_series = len(self.s_sku)
        self.actual = np.bincount(line_s * T + line_t, weights=quantity * booked,
                                  minlength=n_series * T).reshape(n_series, T)
        self.actual_amount = np.bincount(line_s * T + line_t, weights=net_amount * booked,
                                         minlength=n_series * T).reshape(n_series, T)
        return _table("erp/sales_orders", {
            "order_id": _codes("SO-", order_no, 6),
            "line_no": line_no,
            "order_date": order_date,
            "requested_date": order_date + rng.integers(0, 22, len(sort)),
            "account_id": _take(self.account_ids, line_account),
            "sku": _take(self.sku_codes, sku),
            "location_id": _take(self.location_ids, line_loc),
            "quantity": quantity,
            "net_amount": net_amount,
            "status": _take(statuses, status),
        })

    # ---------------------------------------------------------------- capacity

    def _capacity(self) -> tuple[pa.Table, pa.Table]:
        """Work centres at the plant and routings of make skus.

        Available hours are set from the last twelve months' booked demand so that centres
        run at 80-90 % on average; the assembly centre gets fewer hours than its peak month
        needs, so peak seasons overload it.
        """
        rng = self.rng_capacity
        make_skus = np.flatnonzero(self.make)
        n_make = len(make_skus)
        n_wc = int(np.clip(3 + n_make // 15, 3, 5))
        centres = [(wid, name) for wid, name, keep in _WORK_CENTERS if keep <= n_wc]
        wc_ids = np.array([wid for wid, _ in centres])
        bottleneck = int(np.flatnonzero(wc_ids == _BOTTLENECK)[0])
        others = np.flatnonzero(wc_ids != _BOTTLENECK)

        uses = np.zeros((n_make, len(wc_ids)), dtype=bool)
        uses[:, bottleneck] = True
        n_other = rng.choice(3, size=n_make, p=[0.3, 0.4, 0.3])
        rank = np.argsort(rng.random((n_make, len(others))), axis=1)
        uses[:, others] = rank < n_other[:, None]
        hours = np.where(uses, np.round(rng.uniform(0.05, 1.5, uses.shape), 2), 0.0)

        sku_actual = np.zeros((self.n_skus, self.T))
        np.add.at(sku_actual, self.s_sku, self.actual)
        required = hours.T @ sku_actual[make_skus][:, -12:]  # centre * last 12 months
        target = rng.uniform(0.80, 0.90, len(wc_ids))
        available = required.mean(axis=1) / target
        available[bottleneck] = min(available[bottleneck], 0.95 * required[bottleneck].max())
        step = np.where(available >= 1000, 10.0, np.where(available >= 10, 1.0, 0.1))
        available = np.floor(available / step) * step  # round hours, rounding down
        available = np.where(required.max(axis=1) > 0, available, 160.0)

        r_sku, r_wc = np.nonzero(uses)
        work_center_table = _table("erp/work_centers", {
            "work_center_id": wc_ids,
            "name": [name for _, name in centres],
            "location_id": np.full(len(wc_ids), PLANT),
            "available_hours_per_month": available,
        })
        routing_table = _table("erp/routings", {
            "sku": self.sku_codes[make_skus[r_sku]],
            "work_center_id": wc_ids[r_wc],
            "hours_per_unit": hours[r_sku, r_wc],
        })
        return work_center_table, routing_table

    # ---------------------------------------------------------------- supply

    def _calendar(self, work_centers: pa.Table) -> pa.Table:
        """Every centre: a two-week summer shutdown in August (half its hours) and the
        Christmas holidays (80 %), in every month of the history and the coming year."""
        month_of_year = self.months[:-1].astype(np.int64) % 12
        rows = [(m, share, reason) for m, moy in enumerate(month_of_year)
                for number, share, reason in SHUTDOWNS if moy == number]
        ids = work_centers["work_center_id"].to_numpy()
        normal = work_centers["available_hours_per_month"].to_numpy().astype(float)
        month = np.array([m for m, _, _ in rows], dtype=np.int64)
        share = np.array([s for _, s, _ in rows])
        return _table("erp/work_center_calendar", {
            "work_center_id": np.repeat(ids, len(rows)),
            "month": np.tile(self.month_start[month], len(ids)),
            "available_hours": np.round(np.outer(normal, share).ravel(), 1),
            "reason": np.tile([r for _, _, r in rows], len(ids)),
        })

    def _pick_stock_outliers(self) -> None:
        """Series whose stock runs low (a coming stockout) and series holding excess stock."""
        rng, T = self.rng_stock, self.T
        n_series = len(self.s_sku)
        eligible = (~self.intermittent[self.s_sku]) & (self.start[self.s_sku] <= T - 7) & (
            self.mu[:, T] >= 2.0)
        candidates = np.flatnonzero(eligible)
        if len(candidates) == 0:
            candidates = np.arange(n_series)
        n_pick = max(1, round(0.02 * n_series))
        prefer_buy = (~self.make[self.s_sku[candidates]]).astype(float)
        order = candidates[np.lexsort((rng.random(len(candidates)), -prefer_buy))]
        self.low = np.zeros(n_series, dtype=bool)
        self.excess = np.zeros(n_series, dtype=bool)
        self.low[order[:n_pick]] = True
        self.excess[order[n_pick:2 * n_pick]] = True

    def _purchase_orders(self) -> pa.Table:
        """Replenishment of bought skus per location: received history, open and late orders."""
        rng, T = self.rng_po, self.T
        buy_series = np.flatnonzero(~self.make[self.s_sku])
        buy_skus = np.flatnonzero(~self.make)
        n_sup = int(np.clip(len(buy_skus) // 5 + 1, 2, 12))
        supplier_of_sku = rng.integers(0, n_sup, self.n_skus)
        supplier_day = np.clip(rng.uniform(0.05, 0.9, n_sup)[:, None]  # a supplier's order day
                               + rng.uniform(-0.1, 0.1, (n_sup, T)), 0.0, 0.99)

        volume = self.mu[buy_series, :T].mean(axis=1)
        interval = np.where(volume >= 20, 1, np.where(volume >= 3, 2, 3))
        interval = np.where(rng.random(len(buy_series)) < 0.2,
                            rng.integers(1, 4, len(buy_series)), interval)
        offset = rng.integers(0, 3, len(buy_series)) % interval
        t = np.arange(T)
        first = np.maximum(self.start[self.s_sku[buy_series]] - 1, 0)
        placed = ((t[None, :] + offset[:, None]) % interval[:, None] == 0) & (
            t[None, :] >= first[:, None])
        row, line_t = np.nonzero(placed)
        series = buy_series[row]
        cumulative = np.concatenate([np.zeros((len(buy_series), 1)),
                                     np.cumsum(self.mu[buy_series], axis=1)], axis=1)
        k = interval[row]
        cover = cumulative[row, line_t + 1 + k] - cumulative[row, line_t + 1]
        quantity = np.round(cover * rng.lognormal(0.0, 0.2, len(row)))
        quantity = np.where(quantity > 100, np.round(quantity / 10) * 10, quantity)
        quantity = np.maximum(quantity, 1.0)

        sku = self.s_sku[series]
        supplier = supplier_of_sku[sku]
        order_date = self._business_day(line_t, supplier_day[supplier, line_t])
        lead = self.lead_time[sku].astype(np.int64)
        stretched = rng.random(len(row)) < 0.04  # promised later than the item's lead time
        lead = np.where(stretched, np.ceil(lead * rng.uniform(1.3, 2.0, len(row))), lead)
        # SUP-01 has been slow for the last year: it promises 40 % beyond the item's lead time
        slow = (supplier == 0) & (line_t >= T - 12)
        lead = np.where(slow, np.ceil(lead * SLOW_SUPPLIER_FACTOR), lead)
        due_date = order_date + lead.astype(np.int64)
        late = rng.random(len(row)) < 0.25
        delay = np.where(late, rng.integers(1, 15, len(row)), rng.integers(-3, 1, len(row)))
        received = np.maximum(due_date + delay, order_date + 1)
        cancelled = rng.random(len(row)) < 0.015
        still_open = received > self.end_date
        overdue = ~cancelled & (due_date <= self.end_date) & (due_date > self.end_date - 45)
        candidates = np.flatnonzero(overdue)
        n_late = min(len(candidates), int(np.clip(round(0.002 * len(row)), 3, 12)))
        still_open[rng.choice(candidates, size=n_late, replace=False)] = True
        status = np.where(cancelled, "cancelled", np.where(still_open, "open", "received"))
        received_date = np.where(status == "received", received, np.datetime64("NaT"))

        # low-stock series get nothing due in the coming weeks (beyond what is already late)
        keep = ~(self.low[series] & (status == "open") & (due_date > self.end_date)
                 & (due_date <= self.end_date + 45))
        series, sku, supplier, quantity = series[keep], sku[keep], supplier[keep], quantity[keep]
        order_date, due_date = order_date[keep], due_date[keep]
        received_date, status = received_date[keep], status[keep]
        loc = self.s_loc[series]
        sort = np.lexsort((sku, loc, supplier, order_date))
        order_date, supplier, loc = order_date[sort], supplier[sort], loc[sort]
        new_po = np.ones(len(sort), dtype=bool)
        new_po[1:] = ((order_date[1:] != order_date[:-1]) | (supplier[1:] != supplier[:-1])
                      | (loc[1:] != loc[:-1]))
        po_no = np.cumsum(new_po)
        position = np.arange(len(sort))
        line_no = position - np.maximum.accumulate(np.where(new_po, position, 0)) + 1
        supplier_ids = np.char.add("SUP-", np.char.zfill(np.arange(1, n_sup + 1).astype(str), 2))
        return _table("erp/purchase_orders", {
            "po_id": _codes("PO-", po_no, 6),
            "line_no": line_no,
            "supplier_id": supplier_ids[supplier],
            "sku": _take(self.sku_codes, sku[sort]),
            "location_id": _take(self.location_ids, loc),
            "quantity": quantity[sort],
            "order_date": order_date,
            "due_date": due_date[sort],
            "received_date": received_date[sort],
            "status": pa.array(status[sort]),
        })

    def _production_orders(self) -> pa.Table:
        """Production of make skus at the plant: completed history, released and planned ahead."""
        rng, T = self.rng_mo, self.T
        make_skus = np.flatnonzero(self.make)
        sku_mu = np.zeros((self.n_skus, self.mu.shape[1]))
        np.add.at(sku_mu, self.s_sku, self.mu)
        mu = sku_mu[make_skus]
        interval = rng.choice([1, 2], size=len(make_skus), p=[0.6, 0.4])
        offset = rng.integers(0, 2, len(make_skus)) % interval
        t = np.arange(T + 3)
        first = np.maximum(self.start[make_skus] - 1, 0)
        due_month = np.where(t[None, :] < T,
                             (t[None, :] + offset[:, None]) % interval[:, None] == 0, True)
        due_month &= t[None, :] >= first[:, None]
        row, month = np.nonzero(due_month)
        k = np.where(month < T, interval[row], 1)
        cumulative = np.concatenate([np.zeros((len(make_skus), 1)), np.cumsum(mu, axis=1)], axis=1)
        cover = cumulative[row, month + k] - cumulative[row, month]
        quantity = np.round(cover * rng.lognormal(0.0, 0.15, len(row)))
        due_date = self._business_day(month, rng.random(len(row)))
        status = np.select(
            [month == T, month > T, due_date > self.end_date - 5, rng.random(len(row)) < 0.02],
            ["released", "planned", "released", "cancelled"], "completed")
        keep = quantity >= 1
        sku, due_date, quantity, status = make_skus[row[keep]], due_date[keep], quantity[keep], \
            status[keep]
        sort = np.lexsort((sku, due_date))
        return _table("erp/production_orders", {
            "mo_id": _codes("MO-", np.arange(1, len(sort) + 1), 6),
            "sku": self.sku_codes[sku[sort]],
            "location_id": np.full(len(sort), PLANT),
            "quantity": quantity[sort],
            "due_date": due_date[sort],
            "status": status[sort],
        })

    def _inventory(self) -> pa.Table:
        """Month-end stock per series from its launch: 0.5-3 months of cover, with outliers."""
        rng, T = self.rng_stock, self.T
        n_series = len(self.s_sku)
        forward = (self.mu[:, 1:T + 1] + self.mu[:, 2:T + 2]) / 2.0  # next months' demand
        cover = rng.uniform(0.5, 3.0, n_series)
        on_hand = forward * cover[:, None] * rng.lognormal(0.0, 0.35, (n_series, T))
        low = np.flatnonzero(self.low)
        on_hand[low, -1] = forward[low, -1] * rng.uniform(0.0, 0.08, len(low))
        on_hand[low, -2] = np.minimum(on_hand[low, -2], forward[low, -2] * 0.4)
        excess = np.flatnonzero(self.excess)
        typical = np.maximum(self.mu[excess, max(0, T - 12):T].mean(axis=1), forward[excess, -1])
        glut = typical * rng.uniform(8.0, 14.0, len(excess))  # months of average demand
        for back in range(1, min(T, 4) + 1):  # the last four month-ends
            on_hand[excess, -back] = glut * (1.0 + 0.05 * back)
        on_hand = np.maximum(np.round(on_hand), 0.0)

        snapshot = np.arange(T)[None, :] >= self.start[self.s_sku][:, None]
        row, month = np.nonzero(snapshot)
        order = np.lexsort((self.s_loc[row], self.s_sku[row], month))
        row, month = row[order], month[order]
        return _table("stock/inventory", {
            "snapshot_date": self.month_start[month + 1] - 1,
            "sku": _take(self.sku_codes, self.s_sku[row]),
            "location_id": _take(self.location_ids, self.s_loc[row]),
            "on_hand_qty": on_hand[row, month],
        })

    # ---------------------------------------------------------------- commercial

    def _budget(self) -> pa.Table:
        """Budget by family for end_month's year and the next: last year's volume grown 2-8 %."""
        rng, T = self.rng_budget, self.T
        n_fam = len(self.families)
        fam_of_series = self.fam[self.s_sku]
        volume = np.zeros((n_fam, T))
        amount = np.zeros((n_fam, T))
        np.add.at(volume, fam_of_series, self.actual)
        np.add.at(amount, fam_of_series, self.actual_amount)
        month_of_year = self.months[:T].astype(np.int64) % 12
        shape = np.zeros((n_fam, 12))
        np.add.at(shape.T, month_of_year, volume.T)
        shape = np.where(shape.sum(axis=1, keepdims=True) > 0,
                         12 * shape / np.maximum(shape.sum(axis=1, keepdims=True), 1e-9), 1.0)
        last_year = volume[:, -12:].sum(axis=1)
        list_price = np.array([self.price[self.fam == f].mean() for f in range(n_fam)])
        price = np.where(last_year > 0,
                         amount[:, -12:].sum(axis=1) / np.maximum(last_year, 1e-9), list_price)
        growth = rng.uniform(0.02, 0.08, (n_fam, 2))
        year = int(str(self.months[T - 1])[:4])
        months = np.arange(np.datetime64(f"{year}-01"), np.datetime64(f"{year + 2}-01"))
        factor = np.concatenate([np.repeat((1 + growth[:, :1]), 12, axis=1),
                                 np.repeat((1 + growth[:, :1]) * (1 + growth[:, 1:]), 12,
                                           axis=1)], axis=1)
        budget_volume = np.round(last_year[:, None] / 12 * np.tile(shape, 2) * factor)
        f_idx, m_idx = np.nonzero(np.ones((n_fam, 24), dtype=bool))
        order = np.lexsort((f_idx, m_idx))
        f_idx, m_idx = f_idx[order], m_idx[order]
        return _table("erp/budget", {
            "month": months[m_idx].astype("datetime64[D]"),
            "family": np.array([f.name for f in self.families])[f_idx],
            "volume": budget_volume[f_idx, m_idx],
            "revenue": np.round(budget_volume[f_idx, m_idx] * price[f_idx], 2),
        })

    def _deals(self) -> pa.Table:
        """CRM pipeline: open deals closing in 1-9 months; won and lost deals of the past year."""
        rng, T = self.rng_deals, self.T
        n = max(2, self.n_skus // 2)
        status = rng.choice(np.array(["open", "won", "lost"]), size=n, p=[0.6, 0.25, 0.15])
        status[0] = "open"
        regular = np.flatnonzero(~self.intermittent)
        pool = regular if len(regular) else np.arange(self.n_skus)
        sku = rng.choice(pool, size=n)
        sku_mu = np.zeros(self.n_skus)
        np.add.at(sku_mu, self.s_sku, self.mu[:, T])
        quantity = np.maximum(np.round(sku_mu[sku] * rng.uniform(0.5, 3.0, n)), 1.0)
        amount = np.round(quantity * self.price[sku] * (1 - rng.uniform(0.0, 0.12, n)), 2)
        stage_idx = rng.choice(len(_DEAL_STAGES), size=n, p=_DEAL_STAGE_P)
        is_open = status == "open"
        stage = np.where(is_open, np.array(_DEAL_STAGES)[stage_idx],
                         np.where(status == "won", "closed_won", "closed_lost"))
        probability = np.where(is_open, np.array(_DEAL_PROBABILITY)[stage_idx],
                               np.where(status == "won", 1.0, 0.0))
        ahead = rng.integers(1, 10, n)
        open_close = self.month_start[T - 1 + ahead] + rng.integers(0, 28, n)
        past_close = self.end_date - rng.integers(0, min(365, 30 * T), n)
        close = np.where(is_open, open_close, past_close)
        updated_day = np.where(is_open, self.end_date - rng.integers(0, 90, n),
                               np.minimum(past_close + rng.integers(0, 8, n), self.end_date))
        seconds = rng.integers(8, 19, n) * 3600 + rng.integers(0, 60, n) * 60
        updated_at = updated_day.astype("datetime64[s]") + seconds
        return _table("crm/deals", {
            "deal_id": _codes("DL-", np.arange(1, n + 1), 5),
            "account_id": self.account_ids[rng.choice(len(self.account_ids), size=n,
                                                      p=self.account_weight)],
            "sku": self.sku_codes[sku],
            "quantity": quantity,
            "amount": amount,
            "stage": stage,
            "probability": probability,
            "expected_close_date": close,
            "status": status,
            "updated_at": updated_at,
        })

    def _overrides(self) -> pa.Table:
        """Two sku-level quantity overrides and one family-level percentage change."""
        rng, T = self.rng_plan, self.T
        regular = np.flatnonzero(~self.intermittent[self.s_sku])
        pool = regular if len(regular) else np.arange(len(self.s_sku))
        picked = rng.choice(pool, size=min(2, len(pool)), replace=False)
        months, skus, families, locs, qty, pct, reasons, authors = ([] for _ in range(8))
        for i, (s, factor, reason, author) in enumerate(zip(
                picked, (1.5, 0.6), ("Tender won", "Customer destocking"),
                ("j.doe", "a.martin"), strict=False)):
            months.append(self.month_start[T + 1 + i])
            skus.append(self.sku_codes[self.s_sku[s]])
            families.append(None)
            locs.append(self.location_ids[self.s_loc[s]])
            qty.append(float(max(1.0, np.round(self.mu[s, T + 1 + i] * factor))))
            pct.append(None)
            reasons.append(reason)
            authors.append(author)
        months.append(self.month_start[T])
        skus.append(None)
        families.append(self.families[0].name)
        locs.append(self.location_ids[-1])
        qty.append(None)
        pct.append(0.1)
        reasons.append("Dealer network expansion")
        authors.append("m.rossi")
        return _table("plan/overrides", {
            "month": np.array(months, dtype="datetime64[D]"), "sku": skus, "family": families,
            "location_id": locs, "quantity": qty, "pct_change": pct, "reason": reasons,
            "author": authors,
        })

    def _family_promo_months(self) -> list[tuple[int, int]]:
        """(first, last) month of the first family's yearly 2-month promotion: every year of
        the history that holds it, then the coming one (months T+2 and T+3)."""
        return [(first, first + 1) for first in range((self.T + 2) % 12, self.T + 3, 12)
                if first + 1 < self.T or first == self.T + 2]

    def _events(self) -> pa.Table:
        """The first family's yearly promotion (past ones too: Prophet learns their effect),
        and, with a sku to spare, a sku launch campaign ahead that has no history."""
        start = self.month_start
        promo_family = self.families[0].name
        rows = [(f"{promo_family} promo {self.months[first]!s}", start[first], start[last],
                 None, promo_family, FAMILY_PROMO_UPLIFT)
                for first, last in self._family_promo_months()]
        T = self.T
        regular = np.flatnonzero(~self.intermittent)
        if len(regular):
            sku = self.sku_codes[regular[self.rng_plan.integers(0, len(regular))]]
            rows.append((f"Campaign {sku}", start[T + 5], start[T + 5], sku, None, 0.35))
        names, firsts, lasts, skus, families, uplifts = zip(*rows, strict=True)
        return _table("plan/events", {
            "name": names, "start_month": np.array(firsts), "end_month": np.array(lasts),
            "sku": skus, "family": families, "uplift_pct": uplifts,
        })


# -------------------------------------------------------------------- helpers


def _codes(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Zero-padded codes like SO-000123, widened when the numbers need more digits."""
    numbers = np.asarray(numbers, dtype=np.int64)
    width = max(width, len(str(int(numbers.max())))) if len(numbers) else width
    padded = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, padded, "")


def _take(values: np.ndarray, index: np.ndarray) -> pa.Array:
    """values[index] as an Arrow string array, without building a large numpy string array."""
    return pa.array(values).take(pa.array(np.asarray(index, dtype=np.int64)))


def _table(name: str, data: dict[str, object]) -> pa.Table:
    """An Arrow table with exactly the contract's columns, typed by the contract's kinds."""
    entity = BY_NAME[name]
    arrays = []
    for column in entity.columns:
        values = data[column.name]
        array = values if isinstance(values, pa.Array) else pa.array(values, from_pandas=True)
        arrays.append(array.cast(_ARROW_TYPES[column.kind]))
    return pa.Table.from_arrays(arrays, names=[c.name for c in entity.columns])


def _write(table: pa.Table, path: Path, fmt: str) -> None:
    """CSV: unquoted, empty for null, ISO dates; Parquet: typed columns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        pq.write_table(table, path)
        return
    with pa.OSFile(str(path), "wb") as sink:
        sink.write((",".join(table.column_names) + "\n").encode())
        pa_csv.write_csv(table, sink, pa_csv.WriteOptions(include_header=False,
                                                          quoting_style="none"))
