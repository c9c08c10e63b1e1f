"""The demand history: which sku sells where, the expected and realised monthly demand (trend,
seasonality, promotions, intermittent and launched skus), and the sales orders it becomes."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sop_pipeline.demo.arrow import codes, contract_table, take
from sop_pipeline.demo.company import FUTURE_MONTHS, PLANT, Company

FAMILY_PROMO_UPLIFT = 0.2
PHASED_OUT_MONTHS = 14


def series(company: Company) -> None:
    """Which sku is sold where: every sku at one location at least, most at all."""
    rng = company.rng_series
    sold = rng.random((company.n_skus, company.n_locations)) < 0.9
    nowhere = ~sold.any(axis=1)
    sold[nowhere, rng.integers(0, company.n_locations, nowhere.sum())] = True
    company.s_sku, company.s_loc = np.nonzero(sold)  # series sorted by sku, then location


def model(company: Company) -> None:
    """Expected monthly demand `mu` (history + future) and realised quantities `qty`.

    mu = level * trend * seasonality * promotions * launch ramp; qty adds gamma noise and
    Poisson counts. About 20 % of skus are intermittent (mostly zero months, small orders),
    about 12 % are launched during the history, and one intermittent sku is being phased
    out (no demand in its last 14 months).
    """
    rng, n, T = company.rng_demand, company.n_skus, company.T
    horizon = T + FUTURE_MONTHS
    t = np.arange(horizon)
    fam = company.fam
    level = np.array([f.volume for f in company.families])[fam] * rng.lognormal(0.0, 0.7, n)
    growth = rng.normal(0.05, 0.07, n)
    amplitude = np.array([f.amplitude for f in company.families])[fam] * rng.uniform(0.7, 1.3, n)
    peak = 5.0 + rng.normal(0.0, 0.6, n)  # month of year, 0 = January: peak around June
    month_of_year = (company.months[:horizon].astype(np.int64) % 12).astype(float)

    order = rng.permutation(n)
    n_intermittent = round(0.2 * n) if n >= 3 else 0
    n_new = round(0.12 * n) if T >= 12 else 0
    intermittent = np.zeros(n, dtype=bool)
    intermittent[order[:n_intermittent]] = True
    start = np.zeros(n, dtype=np.int64)
    new = order[n_intermittent:n_intermittent + n_new]
    start[new] = rng.integers(T // 4, max(T // 4 + 1, T - 6), len(new))
    company.intermittent, company.start = intermittent, start

    trend = (1.0 + growth[:, None]) ** ((t[None, :] - (T - 1)) / 12.0)
    season = 1.0 + amplitude[:, None] * np.cos(
        2 * np.pi * (month_of_year[None, :] - peak[:, None]) / 12.0)
    promo = np.where(rng.random((n, horizon)) < 0.04, rng.uniform(1.3, 1.9, (n, horizon)), 1.0)
    promo[:, T:] = 1.0  # future promotions are not known (see plan/events)
    for first, last in family_promo_months(company)[:-1]:  # the yearly family promotion
        promo[fam == 0, first:last + 1] *= 1.0 + FAMILY_PROMO_UPLIFT
    ramp = np.clip((t[None, :] - start[:, None] + 1) / 4.0, 0.0, 1.0)
    sku_mu = level[:, None] * trend * season * promo * ramp

    s_sku = company.s_sku
    n_series = len(s_sku)
    is_plant = company.location_ids[company.s_loc] == PLANT
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
    company.qty = np.where(sparse[:, None], sparse_qty, regular_qty).astype(np.int64)
    company.mu = np.where(sparse[:, None], (occurrence * (1.0 + size))[:, None], mu)
    company.lines_per_month = np.where(sparse, 0.0, rng.uniform(1.5, 4.0, n_series))
    # one intermittent sku is being phased out: nothing sold in its last PHASED_OUT_MONTHS
    # (no draw changes: the other series are as before)
    if n_intermittent and T > 2 * PHASED_OUT_MONTHS:
        phased_out = np.flatnonzero(s_sku == order[0])
        company.qty[phased_out, T - PHASED_OUT_MONTHS:] = 0
        company.mu[phased_out, T - PHASED_OUT_MONTHS:] = 0.0


def sales_orders(company: Company) -> pa.Table:
    """Split monthly quantities into order lines, dated on business days, grouped in orders."""
    rng, T = company.rng_sales, company.T
    cell_s, cell_t = np.nonzero(company.qty)
    cell_q = company.qty[cell_s, cell_t]
    n_lines = np.minimum(cell_q, 1 + rng.poisson(company.lines_per_month[cell_s]))
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
    order_date = company.business_day(line_t, rng.random(len(cell)))
    if len(order_date):  # the extract reaches the last business day of end_month
        order_date[np.argmax(order_date)] = np.busday_offset(company.end_date, 0, roll="backward")

    line_loc = company.s_loc[line_s]
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
    account = rng.choice(len(company.account_ids), size=n_orders, p=company.account_weight)
    line_account = account[order_no - 1]

    sku = company.s_sku[line_s]
    discount = company.account_discount[line_account] + rng.choice(
        [0.0, 0.0, 0.01, 0.02], size=len(sort))
    net_amount = np.round(quantity * company.price[sku] * (1.0 - discount), 2)
    age = T - 1 - line_t
    u = rng.random(len(sort))
    statuses = np.array(["invoiced", "shipped", "open", "cancelled"])
    status = np.select(  # index into `statuses`: recent orders are still open or shipped
        [u < 0.01, (age == 0) & (u < 0.6), (age == 0) & (u < 0.9),
         (age == 1) & (u < 0.06), (age == 1) & (u < 0.3)],
        [3, 2, 1, 2, 1], 0)
    booked = status != 3
    n_series = len(company.s_sku)
    company.actual = np.bincount(line_s * T + line_t, weights=quantity * booked,
                                 minlength=n_series * T).reshape(n_series, T)
    company.actual_amount = np.bincount(line_s * T + line_t, weights=net_amount * booked,
                                        minlength=n_series * T).reshape(n_series, T)
    return contract_table("erp/sales_orders", {
        "order_id": codes("SO-", order_no, 6),
        "line_no": line_no,
        "order_date": order_date,
        "requested_date": order_date + rng.integers(0, 22, len(sort)),
        "account_id": take(company.account_ids, line_account),
        "sku": take(company.sku_codes, sku),
        "location_id": take(company.location_ids, line_loc),
        "quantity": quantity,
        "net_amount": net_amount,
        "status": take(statuses, status),
    })


def family_promo_months(company: Company) -> list[tuple[int, int]]:
    """(first, last) month of the first family's yearly 2-month promotion: every year of
    the history that holds it, then the coming one (months T+2 and T+3)."""
    return [(first, first + 1) for first in range((company.T + 2) % 12, company.T + 3, 12)
            if first + 1 < company.T or first == company.T + 2]
