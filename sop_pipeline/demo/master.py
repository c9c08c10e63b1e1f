"""Master data of the demo company: items in their families, locations, CRM accounts, and (for
a manufacturer) the plant's work centres, routings and work-centre calendar."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sop_pipeline.demo.arrow import contract_table
from sop_pipeline.demo.company import PLANT, Company, Family

# (month of year from 0, share of the normal hours, reason) in the work-centre calendar
SHUTDOWNS = ((7, 0.5, "Summer shutdown"), (11, 0.8, "Christmas holidays"))


FAMILIES: tuple[Family, ...] = (
    Family("Bikes", "BIK", 900.0, 25.0, 0.45, 0.9,
           ("road bike", "gravel bike", "city bike", "e-bike", "mountain bike"),
           ("S", "M", "L", "XL")),
    Family("Frames", "FRM", 350.0, 20.0, 0.35, 0.8,
           ("road frame", "gravel frame", "MTB frame", "city frame"),
           ("48cm", "52cm", "54cm", "56cm", "58cm")),
    Family("Wheels", "WHL", 180.0, 40.0, 0.30, 0.5,
           ("wheelset", "front wheel", "rear wheel", "disc wheel"),
           ("26in", "27.5in", "29in", "700c")),
    Family("Components", "CMP", 45.0, 120.0, 0.15, 0.3,
           ("chain", "cassette", "brake set", "crankset", "saddle", "handlebar"),
           ("11s", "12s", "std", "pro")),
    Family("Accessories", "ACC", 25.0, 150.0, 0.25, 0.1,
           ("helmet", "bottle cage", "light set", "pump", "lock", "bag"),
           ("black", "red", "blue", "grey")),
    Family("Apparel", "APP", 40.0, 90.0, 0.35, 0.0,
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


def items(company: Company) -> pa.Table:
    """Skus numbered within their family; about half made in-house (none for a distributor)."""
    rng, n = company.rng_items, company.n_skus
    n_fam = min(len(FAMILIES), max(1, (n + 2) // 3))
    company.families = FAMILIES[:n_fam]
    weights = np.array([0.15, 0.12, 0.15, 0.25, 0.2, 0.13])[:n_fam]
    extra = rng.choice(n_fam, size=n - n_fam, p=weights / weights.sum())
    fam = np.sort(np.concatenate([np.arange(n_fam), extra]))
    company.fam = fam
    first_of_family = np.searchsorted(fam, fam)
    number = np.arange(n) - first_of_family + 1
    width = max(4, len(str(int(number.max()))))
    prefixes = np.array([f.prefix for f in company.families])
    company.sku_codes = np.char.add(np.char.add(prefixes[fam], "-"),
                                    np.char.zfill(number.astype(str), width))
    nouns = [company.families[f].nouns[i % len(company.families[f].nouns)]
             for f, i in zip(fam, rng.integers(0, 60, n), strict=True)]
    variants = [company.families[f].variants[i % len(company.families[f].variants)]
                for f, i in zip(fam, rng.integers(0, 60, n), strict=True)]
    adjectives = np.array(_ADJECTIVES)[rng.integers(0, len(_ADJECTIVES), n)]
    description = [f"{a} {b} {c}" for a, b, c in zip(adjectives, nouns, variants, strict=True)]

    base_price = np.array([f.price for f in company.families])[fam]
    company.price = np.round(base_price * rng.lognormal(0.0, 0.35, n), 2)
    cost = np.round(company.price * rng.uniform(0.45, 0.72, n), 2)
    if company.manufacturer:
        bias = np.array([f.make_bias for f in company.families])[fam]
        score = 0.5 * rng.random(n) + bias  # bikes and frames made, apparel bought
        make = np.zeros(n, dtype=bool)
        make[np.argsort(-score, kind="stable")[: (n + 1) // 2]] = True
    else:
        make = np.zeros(n, dtype=bool)
    company.make = make
    company.lead_time = np.where(make, rng.integers(7, 31, n), rng.integers(14, 91, n))
    return contract_table("erp/items", {
        "sku": company.sku_codes,
        "description": description,
        "family": np.array([f.name for f in company.families])[fam],
        "uom": np.full(n, "EA"),
        "unit_cost": cost,
        "unit_price": company.price,
        "make_or_buy": np.where(make, "make", "buy"),
        "lead_time_days": company.lead_time,
        **_lot_sizes(company.price, make),
    })


def _lot_sizes(price: np.ndarray, make: np.ndarray) -> dict[str, np.ndarray]:
    """min_order_qty and order_multiple: batches for made skus, packs for bought ones (cheap
    items in bigger packs), the minimum a few packs; every fifth sku has neither (optional)."""
    index = np.arange(len(price))
    pack = np.where(make, np.where(index % 3 == 0, 10.0, np.nan),
                    np.where(price < 60, 10.0, 5.0))
    minimum = np.where(make, np.where(price > 300, 20.0, 40.0),
                       np.where(index % 2 == 0, 4 * pack, np.nan))
    neither = index % 5 == 4
    return {"min_order_qty": np.where(neither, np.nan, minimum),
            "order_multiple": np.where(neither, np.nan, pack)}


def locations(company: Company) -> pa.Table:
    n = company.n_locations
    company.location_ids = np.array([PLANT] + [f"DC{i}" for i in range(1, n)])
    return contract_table("erp/locations", {
        "location_id": company.location_ids,
        "name": ["Main plant"] + [f"Distribution centre {i}" for i in range(1, n)],
        "kind": ["plant"] + ["dc"] * (n - 1),
    })


def accounts(company: Company) -> pa.Table:
    """30-200 accounts; a few large ones take much of the volume (see `demand.sales_orders`)."""
    rng = company.rng_accounts
    n = int(np.clip(round(company.n_skus * 0.75), 30, 200))
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
    company.account_discount = np.round(rng.uniform(low[segment], high[segment]) * 200) / 200
    company.account_ids = np.char.add("ACC-", np.char.zfill(np.arange(1, n + 1).astype(str), 4))
    weight = 1.0 / np.arange(1, n + 1) ** 0.8
    company.account_weight = weight[rng.permutation(n)] / weight.sum()
    return contract_table("crm/accounts", {
        "account_id": company.account_ids,
        "name": names,
        "segment": np.array(_SEGMENTS)[segment],
        "region": np.array(_REGIONS)[region],
    })


def capacity(company: Company) -> tuple[pa.Table, pa.Table]:
    """Work centres at the plant and routings of make skus.

    Available hours are set from the last twelve months' booked demand so that centres
    run at 80-90 % on average; the assembly centre gets fewer hours than its peak month
    needs, so peak seasons overload it.
    """
    rng = company.rng_capacity
    make_skus = np.flatnonzero(company.make)
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

    sku_actual = np.zeros((company.n_skus, company.T))
    np.add.at(sku_actual, company.s_sku, company.actual)
    required = hours.T @ sku_actual[make_skus][:, -12:]  # centre * last 12 months
    target = rng.uniform(0.80, 0.90, len(wc_ids))
    available = required.mean(axis=1) / target
    available[bottleneck] = min(available[bottleneck], 0.95 * required[bottleneck].max())
    step = np.where(available >= 1000, 10.0, np.where(available >= 10, 1.0, 0.1))
    available = np.floor(available / step) * step  # round hours, rounding down
    available = np.where(required.max(axis=1) > 0, available, 160.0)

    r_sku, r_wc = np.nonzero(uses)
    work_center_table = contract_table("erp/work_centers", {
        "work_center_id": wc_ids,
        "name": [name for _, name in centres],
        "location_id": np.full(len(wc_ids), PLANT),
        "available_hours_per_month": available,
    })
    routing_table = contract_table("erp/routings", {
        "sku": company.sku_codes[make_skus[r_sku]],
        "work_center_id": wc_ids[r_wc],
        "hours_per_unit": hours[r_sku, r_wc],
    })
    return work_center_table, routing_table


def calendar(company: Company, work_centers: pa.Table) -> pa.Table:
    """Every centre: a two-week summer shutdown in August (half its hours) and the
    Christmas holidays (80 %), in every month of the history and the coming year."""
    month_of_year = company.months[:-1].astype(np.int64) % 12
    rows = [(m, share, reason) for m, moy in enumerate(month_of_year)
            for number, share, reason in SHUTDOWNS if moy == number]
    ids = work_centers["work_center_id"].to_numpy()
    normal = work_centers["available_hours_per_month"].to_numpy().astype(float)
    month = np.array([m for m, _, _ in rows], dtype=np.int64)
    share = np.array([s for _, s, _ in rows])
    return contract_table("erp/work_center_calendar", {
        "work_center_id": np.repeat(ids, len(rows)),
        "month": np.tile(company.month_start[month], len(ids)),
        "available_hours": np.round(np.outer(normal, share).ravel(), 1),
        "reason": np.tile([r for _, _, r in rows], len(ids)),
    })
