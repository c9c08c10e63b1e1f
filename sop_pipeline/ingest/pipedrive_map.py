"""From the pulled Pipedrive tables (`raw_crm`) to the contract's `crm/accounts` and
`crm/deals` rows, which the regular landing then validates and quarantines as for files.

- `crm/accounts`: one row per organisation not deleted; account_id `PD-ORG-<org id>`.
- `crm/deals`: one row per product line of each deal not deleted; a deal with several
  products gives several rows. deal_id `PD-<deal id>-<deal-product id>` stays a key: a
  product line (deal-product) belongs to one deal and its id is unique in Pipedrive. A deal
  without products gives one row `PD-<deal id>` with no sku, which the landing quarantines
  (missing sku): it cannot feed a sku-level plan, and it is not dropped silently.
- sku: the product's `code`; quantity: the line's quantity; amount: the line's `sum`;
  probability: the deal's `probability`, else its stage's `deal_probability` (both in %);
  stage: the stage's name; updated_at: the deal's `update_time` (UTC).
- A deal's lines are those loaded with its current version (same `_dlt_load_id`): a pull
  reads every line of each deal it reads, so a line removed from a deal drops out.
- Each row carries `source_ref` (the Pipedrive ids), which the quarantine adds to its reasons,
  and the Pipedrive ids as extra columns (kept in raw, ignored by staging).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from sop_pipeline.ingest.pipedrive import DATASET, RESOURCES, columns

CONTRACT_ENTITIES = ("crm/accounts", "crm/deals")

_ACCOUNTS = """
SELECT 'PD-ORG-' || o.id AS account_id, o.name AS name, NULL AS segment, NULL AS region,
       'pipedrive organization ' || o.id AS source_ref, o.id AS pipedrive_org_id
FROM {organizations} AS o
WHERE NOT coalesce(o.is_deleted, false)
ORDER BY o.id
"""

_DEALS = """
WITH deals AS (
    SELECT * FROM {deals} WHERE NOT coalesce(is_deleted, false)
),
lines AS (
    SELECT l.* FROM {deal_products} AS l
    JOIN deals AS d ON d.id = l.deal_id AND d._dlt_load_id = l._dlt_load_id
)
SELECT
    'PD-' || d.id || coalesce('-' || l.id, '') AS deal_id,
    'PD-ORG-' || d.org_id AS account_id,
    p.code AS sku,
    l.quantity AS quantity,
    l.sum AS amount,
    s.name AS stage,
    coalesce(d.probability, s.deal_probability) / 100.0 AS probability,
    d.expected_close_date AS expected_close_date,
    d.status AS status,
    strftime(TRY_CAST(replace(replace(d.update_time, 'T', ' '), 'Z', '') AS TIMESTAMP),
             '%Y-%m-%d %H:%M:%S') AS updated_at,
    'pipedrive deal ' || d.id
        || CASE WHEN l.id IS NULL THEN ' (no products)'
                ELSE ', deal-product ' || l.id || ', product '
                     || coalesce(l.product_id::VARCHAR, '?')
                     || coalesce(' code ' || p.code, ' (no code)') END AS source_ref,
    d.id AS pipedrive_deal_id,
    l.id AS pipedrive_deal_product_id,
    l.product_id AS pipedrive_product_id,
    l.item_price AS item_price
FROM deals AS d
LEFT JOIN lines AS l ON l.deal_id = d.id
LEFT JOIN {products} AS p ON p.id = l.product_id
LEFT JOIN {stages} AS s ON s.id = d.stage_id
ORDER BY d.id, l.id
"""


def contract_frames(con: duckdb.DuckDBPyConnection, label: str
                    ) -> dict[str, tuple[str, pd.DataFrame]]:
    """{entity: (source label, rows as text)} for crm/accounts and crm/deals, for
    `land_extracts(pulled=...)`. Raises ValueError when nothing was ever pulled."""
    if not _exists(con, "deals"):
        raise ValueError(
            f"Pipedrive is configured but {DATASET}.deals does not exist: pull the CRM first "
            "(the raw_crm assets, or `sop run`).")
    tables = {name: _relation(con, name) for name in RESOURCES}
    frames = {}
    for entity, sql in (("crm/accounts", _ACCOUNTS), ("crm/deals", _DEALS)):
        frame = con.execute(sql.format(**tables)).df()
        frames[entity] = (label, _as_text(frame))
    return frames


def _relation(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The raw_crm table, or an empty relation of its mapped columns when never pulled."""
    if _exists(con, table):
        return f"{DATASET}.{table}"
    hints = {**columns(table), "_dlt_load_id": {"data_type": "text"}}
    sql_types = {"bigint": "BIGINT", "double": "DOUBLE", "text": "VARCHAR", "bool": "BOOLEAN"}
    select = ", ".join(f"NULL::{sql_types[c['data_type']]} AS \"{name}\""
                       for name, c in hints.items())
    return f"(SELECT {select} LIMIT 0)"


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
        [DATASET, table]).fetchone()[0])


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every value as the text a CSV extract would hold; missing stays missing."""
    text = frame.astype(object).where(frame.notna(), None)
    for column in text.columns:
        text[column] = [None if v is None else _text(v) for v in text[column]]
    return text


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return str(value)
