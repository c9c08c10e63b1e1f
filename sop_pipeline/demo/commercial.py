"""Commercial and planning inputs: the budget by family, the CRM deal pipeline, planner
overrides and the promotion and launch events in plan/events."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sop_pipeline.demo.arrow import codes, contract_table
from sop_pipeline.demo.company import Company
from sop_pipeline.demo.demand import FAMILY_PROMO_UPLIFT, family_promo_months

_DEAL_STAGES = ("prospecting", "qualification", "proposal", "negotiation")
_DEAL_STAGE_P = (0.3, 0.3, 0.25, 0.15)
_DEAL_PROBABILITY = (0.1, 0.25, 0.5, 0.75)


def budget(company: Company) -> pa.Table:
    """Budget by family for end_month's year and the next: last year's volume grown 2-8 %."""
    rng, T = company.rng_budget, company.T
    n_fam = len(company.families)
    fam_of_series = company.fam[company.s_sku]
    volume = np.zeros((n_fam, T))
    amount = np.zeros((n_fam, T))
    np.add.at(volume, fam_of_series, company.actual)
    np.add.at(amount, fam_of_series, company.actual_amount)
    month_of_year = company.months[:T].astype(np.int64) % 12
    shape = np.zeros((n_fam, 12))
    np.add.at(shape.T, month_of_year, volume.T)
    shape = np.where(shape.sum(axis=1, keepdims=True) > 0,
                     12 * shape / np.maximum(shape.sum(axis=1, keepdims=True), 1e-9), 1.0)
    last_year = volume[:, -12:].sum(axis=1)
    list_price = np.array([company.price[company.fam == f].mean() for f in range(n_fam)])
    price = np.where(last_year > 0,
                     amount[:, -12:].sum(axis=1) / np.maximum(last_year, 1e-9), list_price)
    growth = rng.uniform(0.02, 0.08, (n_fam, 2))
    year = int(str(company.months[T - 1])[:4])
    months = np.arange(np.datetime64(f"{year}-01"), np.datetime64(f"{year + 2}-01"))
    factor = np.concatenate([np.repeat((1 + growth[:, :1]), 12, axis=1),
                             np.repeat((1 + growth[:, :1]) * (1 + growth[:, 1:]), 12,
                                       axis=1)], axis=1)
    budget_volume = np.round(last_year[:, None] / 12 * np.tile(shape, 2) * factor)
    f_idx, m_idx = np.nonzero(np.ones((n_fam, 24), dtype=bool))
    order = np.lexsort((f_idx, m_idx))
    f_idx, m_idx = f_idx[order], m_idx[order]
    return contract_table("erp/budget", {
        "month": months[m_idx].astype("datetime64[D]"),
        "family": np.array([f.name for f in company.families])[f_idx],
        "volume": budget_volume[f_idx, m_idx],
        "revenue": np.round(budget_volume[f_idx, m_idx] * price[f_idx], 2),
    })


def deals(company: Company) -> pa.Table:
    """CRM pipeline: open deals closing in 1-9 months; won and lost deals of the past year."""
    rng, T = company.rng_deals, company.T
    n = max(2, company.n_skus // 2)
    status = rng.choice(np.array(["open", "won", "lost"]), size=n, p=[0.6, 0.25, 0.15])
    status[0] = "open"
    regular = np.flatnonzero(~company.intermittent)
    pool = regular if len(regular) else np.arange(company.n_skus)
    sku = rng.choice(pool, size=n)
    sku_mu = np.zeros(company.n_skus)
    np.add.at(sku_mu, company.s_sku, company.mu[:, T])
    quantity = np.maximum(np.round(sku_mu[sku] * rng.uniform(0.5, 3.0, n)), 1.0)
    amount = np.round(quantity * company.price[sku] * (1 - rng.uniform(0.0, 0.12, n)), 2)
    stage_idx = rng.choice(len(_DEAL_STAGES), size=n, p=_DEAL_STAGE_P)
    is_open = status == "open"
    stage = np.where(is_open, np.array(_DEAL_STAGES)[stage_idx],
                     np.where(status == "won", "closed_won", "closed_lost"))
    probability = np.where(is_open, np.array(_DEAL_PROBABILITY)[stage_idx],
                           np.where(status == "won", 1.0, 0.0))
    ahead = rng.integers(1, 10, n)
    open_close = company.month_start[T - 1 + ahead] + rng.integers(0, 28, n)
    past_close = company.end_date - rng.integers(0, min(365, 30 * T), n)
    close = np.where(is_open, open_close, past_close)
    updated_day = np.where(is_open, company.end_date - rng.integers(0, 90, n),
                           np.minimum(past_close + rng.integers(0, 8, n), company.end_date))
    seconds = rng.integers(8, 19, n) * 3600 + rng.integers(0, 60, n) * 60
    updated_at = updated_day.astype("datetime64[s]") + seconds
    return contract_table("crm/deals", {
        "deal_id": codes("DL-", np.arange(1, n + 1), 5),
        "account_id": company.account_ids[rng.choice(len(company.account_ids), size=n,
                                                     p=company.account_weight)],
        "sku": company.sku_codes[sku],
        "quantity": quantity,
        "amount": amount,
        "stage": stage,
        "probability": probability,
        "expected_close_date": close,
        "status": status,
        "updated_at": updated_at,
    })


def overrides(company: Company) -> pa.Table:
    """Two sku-level quantity overrides and one family-level percentage change ahead, and
    each sku's author's overrides of the two months before the latest cycle."""
    rng, T = company.rng_plan, company.T
    regular = np.flatnonzero(~company.intermittent[company.s_sku])
    pool = regular if len(regular) else np.arange(len(company.s_sku))
    picked = rng.choice(pool, size=min(2, len(pool)), replace=False)
    months, skus, families, locs, qty, pct, reasons, authors = ([] for _ in range(8))
    for i, (s, factor, reason, author) in enumerate(zip(
            picked, (1.5, 0.6), ("Tender won", "Customer destocking"),
            ("j.doe", "a.martin"), strict=False)):
        months.append(company.month_start[T + 1 + i])
        skus.append(company.sku_codes[company.s_sku[s]])
        families.append(None)
        locs.append(company.location_ids[company.s_loc[s]])
        qty.append(float(max(1.0, np.round(company.mu[s, T + 1 + i] * factor))))
        pct.append(None)
        reasons.append(reason)
        authors.append(author)
    months.append(company.month_start[T])
    skus.append(None)
    families.append(company.families[0].name)
    locs.append(company.location_ids[-1])
    qty.append(None)
    pct.append(0.1)
    reasons.append("Dealer network expansion")
    authors.append("m.rossi")
    # Overrides the last two meetings made for the months that have closed since, so the FVA
    # stairstep can score each author: j.doe's follow the customer's confirmed call-offs (the
    # realised demand), a.martin's expect a rebound that does not come (+40 % on the mean).
    for s, author in zip(picked, ("j.doe", "a.martin"), strict=False):
        for month in (T - 2, T - 1):
            informed = author == "j.doe"
            months.append(company.month_start[month])
            skus.append(company.sku_codes[company.s_sku[s]])
            families.append(None)
            locs.append(company.location_ids[company.s_loc[s]])
            expected = company.qty[s, month] if informed else 1.4 * company.mu[s, month]
            qty.append(float(max(1.0, np.round(expected))))
            pct.append(None)
            reasons.append("Call-offs confirmed by the customer" if informed
                           else "Expected rebound")
            authors.append(author)
    return contract_table("plan/overrides", {
        "month": np.array(months, dtype="datetime64[D]"), "sku": skus, "family": families,
        "location_id": locs, "quantity": qty, "pct_change": pct, "reason": reasons,
        "author": authors,
    })


def events(company: Company) -> pa.Table:
    """The first family's yearly promotion (past ones too: Prophet learns their effect),
    and, with a sku to spare, a sku launch campaign ahead that has no history."""
    start = company.month_start
    promo_family = company.families[0].name
    rows = [(f"{promo_family} promo {company.months[first]!s}", start[first], start[last],
             None, promo_family, FAMILY_PROMO_UPLIFT)
            for first, last in family_promo_months(company)]
    T = company.T
    regular = np.flatnonzero(~company.intermittent)
    if len(regular):
        sku = company.sku_codes[regular[company.rng_plan.integers(0, len(regular))]]
        rows.append((f"Campaign {sku}", start[T + 5], start[T + 5], sku, None, 0.35))
    names, firsts, lasts, skus, families, uplifts = zip(*rows, strict=True)
    return contract_table("plan/events", {
        "name": names, "start_month": np.array(firsts), "end_month": np.array(lasts),
        "sku": skus, "family": families, "uplift_pct": uplifts,
    })
