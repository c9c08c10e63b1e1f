"""Supply of the demo company: purchase and production orders, and month-end inventory with a
few series running low and a few holding excess stock."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sop_pipeline.demo.arrow import codes, contract_table, take
from sop_pipeline.demo.company import PLANT, Company

SLOW_SUPPLIER_FACTOR = 1.4
OVERBOUGHT_GLUT_FACTOR = 2.5  # an overbought series holds 2.5 x an excess series' months


def pick_stock_outliers(company: Company) -> None:
    """Series whose stock runs low (a coming stockout) and series holding excess stock; the
    bought ones among the excess are overbought: OVERBOUGHT_GLUT_FACTOR x the stock, and an
    order placed again."""
    rng, T = company.rng_stock, company.T
    n_series = len(company.s_sku)
    eligible = (~company.intermittent[company.s_sku]) & (company.start[company.s_sku] <= T - 7) & (
        company.mu[:, T] >= 2.0)
    candidates = np.flatnonzero(eligible)
    if len(candidates) == 0:
        candidates = np.arange(n_series)
    n_pick = max(1, round(0.02 * n_series))
    prefer_buy = (~company.make[company.s_sku[candidates]]).astype(float)
    order = candidates[np.lexsort((rng.random(len(candidates)), -prefer_buy))]
    company.low = np.zeros(n_series, dtype=bool)
    company.excess = np.zeros(n_series, dtype=bool)
    company.low[order[:n_pick]] = True
    company.excess[order[n_pick:2 * n_pick]] = True
    company.overbought = company.excess & ~company.make[company.s_sku]


def purchase_orders(company: Company) -> pa.Table:
    """Replenishment of bought skus per location: received history, open and late orders."""
    rng, T = company.rng_po, company.T
    buy_series = np.flatnonzero(~company.make[company.s_sku])
    buy_skus = np.flatnonzero(~company.make)
    n_sup = int(np.clip(len(buy_skus) // 5 + 1, 2, 12))
    supplier_of_sku = rng.integers(0, n_sup, company.n_skus)
    supplier_day = np.clip(rng.uniform(0.05, 0.9, n_sup)[:, None]  # a supplier's order day
                           + rng.uniform(-0.1, 0.1, (n_sup, T)), 0.0, 0.99)

    volume = company.mu[buy_series, :T].mean(axis=1)
    interval = np.where(volume >= 20, 1, np.where(volume >= 3, 2, 3))
    interval = np.where(rng.random(len(buy_series)) < 0.2,
                        rng.integers(1, 4, len(buy_series)), interval)
    offset = rng.integers(0, 3, len(buy_series)) % interval
    t = np.arange(T)
    first = np.maximum(company.start[company.s_sku[buy_series]] - 1, 0)
    placed = ((t[None, :] + offset[:, None]) % interval[:, None] == 0) & (
        t[None, :] >= first[:, None])
    row, line_t = np.nonzero(placed)
    series = buy_series[row]
    cumulative = np.concatenate([np.zeros((len(buy_series), 1)),
                                 np.cumsum(company.mu[buy_series], axis=1)], axis=1)
    k = interval[row]
    cover = cumulative[row, line_t + 1 + k] - cumulative[row, line_t + 1]
    quantity = np.round(cover * rng.lognormal(0.0, 0.2, len(row)))
    quantity = np.where(quantity > 100, np.round(quantity / 10) * 10, quantity)
    quantity = np.maximum(quantity, 1.0)

    sku = company.s_sku[series]
    supplier = supplier_of_sku[sku]
    order_date = company.business_day(line_t, supplier_day[supplier, line_t])
    lead = company.lead_time[sku].astype(np.int64)
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
    still_open = received > company.end_date
    overdue = ~cancelled & (due_date <= company.end_date) & (due_date > company.end_date - 45)
    candidates = np.flatnonzero(overdue)
    n_late = min(len(candidates), int(np.clip(round(0.002 * len(row)), 3, 12)))
    still_open[rng.choice(candidates, size=n_late, replace=False)] = True
    status = np.where(cancelled, "cancelled", np.where(still_open, "open", "received"))
    received_date = np.where(status == "received", received, np.datetime64("NaT"))

    # low-stock series get nothing due in the coming weeks (beyond what is already late)
    keep = ~(company.low[series] & (status == "open") & (due_date > company.end_date)
             & (due_date <= company.end_date + 45))
    series, sku, supplier, quantity = series[keep], sku[keep], supplier[keep], quantity[keep]
    order_date, due_date = order_date[keep], due_date[keep]
    received_date, status = received_date[keep], status[keep]
    series, sku, supplier, quantity, order_date, due_date, received_date, status = (
        np.concatenate(pair) for pair in zip(
            (series, sku, supplier, quantity, order_date, due_date, received_date, status),
            _ordered_again(company, supplier_of_sku), strict=True))
    loc = company.s_loc[series]
    sort = np.lexsort((sku, loc, supplier, order_date))
    order_date, supplier, loc = order_date[sort], supplier[sort], loc[sort]
    new_po = np.ones(len(sort), dtype=bool)
    new_po[1:] = ((order_date[1:] != order_date[:-1]) | (supplier[1:] != supplier[:-1])
                  | (loc[1:] != loc[:-1]))
    po_no = np.cumsum(new_po)
    position = np.arange(len(sort))
    line_no = position - np.maximum.accumulate(np.where(new_po, position, 0)) + 1
    supplier_ids = np.char.add("SUP-", np.char.zfill(np.arange(1, n_sup + 1).astype(str), 2))
    return contract_table("erp/purchase_orders", {
        "po_id": codes("PO-", po_no, 6),
        "line_no": line_no,
        "supplier_id": supplier_ids[supplier],
        "sku": take(company.sku_codes, sku[sort]),
        "location_id": take(company.location_ids, loc),
        "quantity": quantity[sort],
        "order_date": order_date,
        "due_date": due_date[sort],
        "received_date": received_date[sort],
        "status": pa.array(status[sort]),
    })


def _ordered_again(company: Company, supplier_of_sku: np.ndarray) -> tuple[np.ndarray, ...]:
    """One open line per overbought series, placed ten days before the history's end for three
    months of its demand, though its stock covers years: the order a buyer should cancel.
    Columns as purchase_orders' (series, sku, supplier, quantity, order_date, due_date,
    received_date, status)."""
    series = np.flatnonzero(company.overbought)
    sku = company.s_sku[series]
    order_date = np.busday_offset(company.end_date - 10, 0, roll="backward")
    order_date = np.full(len(series), order_date)
    quantity = np.maximum(np.round(3 * company.mu[series, company.T]), 1.0)
    return (series, sku, supplier_of_sku[sku], quantity, order_date,
            order_date + company.lead_time[sku].astype(np.int64),
            np.full(len(series), np.datetime64("NaT"), dtype=order_date.dtype),
            np.full(len(series), "open"))


def production_orders(company: Company) -> pa.Table:
    """Production of make skus at the plant: completed history, released and planned ahead,
    each created its lead time and up to two weeks before it is due (never after the
    extract's day)."""
    rng, T = company.rng_mo, company.T
    make_skus = np.flatnonzero(company.make)
    sku_mu = np.zeros((company.n_skus, company.mu.shape[1]))
    np.add.at(sku_mu, company.s_sku, company.mu)
    mu = sku_mu[make_skus]
    interval = rng.choice([1, 2], size=len(make_skus), p=[0.6, 0.4])
    offset = rng.integers(0, 2, len(make_skus)) % interval
    t = np.arange(T + 3)
    first = np.maximum(company.start[make_skus] - 1, 0)
    due_month = np.where(t[None, :] < T,
                         (t[None, :] + offset[:, None]) % interval[:, None] == 0, True)
    due_month &= t[None, :] >= first[:, None]
    row, month = np.nonzero(due_month)
    k = np.where(month < T, interval[row], 1)
    cumulative = np.concatenate([np.zeros((len(make_skus), 1)), np.cumsum(mu, axis=1)], axis=1)
    cover = cumulative[row, month + k] - cumulative[row, month]
    quantity = np.round(cover * rng.lognormal(0.0, 0.15, len(row)))
    due_date = company.business_day(month, rng.random(len(row)))
    status = np.select(
        [month == T, month > T, due_date > company.end_date - 5, rng.random(len(row)) < 0.02],
        ["released", "planned", "released", "cancelled"], "completed")
    keep = quantity >= 1
    sku, due_date, quantity, status = make_skus[row[keep]], due_date[keep], quantity[keep], \
        status[keep]
    ahead = company.lead_time[sku].astype(np.int64) + rng.integers(0, 15, len(sku))
    order_date = np.minimum(due_date - ahead, company.end_date)
    sort = np.lexsort((sku, due_date))
    return contract_table("erp/production_orders", {
        "mo_id": codes("MO-", np.arange(1, len(sort) + 1), 6),
        "sku": company.sku_codes[sku[sort]],
        "location_id": np.full(len(sort), PLANT),
        "quantity": quantity[sort],
        "due_date": due_date[sort],
        "status": status[sort],
        "order_date": order_date[sort],
    })


def inventory(company: Company) -> pa.Table:
    """Month-end stock per series from its launch: 0.5-3 months of cover, with outliers."""
    rng, T = company.rng_stock, company.T
    n_series = len(company.s_sku)
    forward = (company.mu[:, 1:T + 1] + company.mu[:, 2:T + 2]) / 2.0  # next months' demand
    cover = rng.uniform(0.5, 3.0, n_series)
    on_hand = forward * cover[:, None] * rng.lognormal(0.0, 0.35, (n_series, T))
    low = np.flatnonzero(company.low)
    on_hand[low, -1] = forward[low, -1] * rng.uniform(0.0, 0.08, len(low))
    on_hand[low, -2] = np.minimum(on_hand[low, -2], forward[low, -2] * 0.4)
    excess = np.flatnonzero(company.excess)
    typical = np.maximum(company.mu[excess, max(0, T - 12):T].mean(axis=1), forward[excess, -1])
    glut = typical * rng.uniform(8.0, 14.0, len(excess))  # months of average demand
    glut *= np.where(company.overbought[excess], OVERBOUGHT_GLUT_FACTOR, 1.0)
    for back in range(1, min(T, 4) + 1):  # the last four month-ends
        on_hand[excess, -back] = glut * (1.0 + 0.05 * back)
    on_hand = np.maximum(np.round(on_hand), 0.0)

    snapshot = np.arange(T)[None, :] >= company.start[company.s_sku][:, None]
    row, month = np.nonzero(snapshot)
    order = np.lexsort((company.s_loc[row], company.s_sku[row], month))
    row, month = row[order], month[order]
    return contract_table("stock/inventory", {
        "snapshot_date": company.month_start[month + 1] - 1,
        "sku": take(company.sku_codes, company.s_sku[row]),
        "location_id": take(company.location_ids, company.s_loc[row]),
        "on_hand_qty": on_hand[row, month],
    })
