"""Land extract files in DuckDB as they came, and enforce the extract contract on them.

Per-rule decisions (documented in the README):

- File-level breaks fail the load and change nothing in `raw`: a required file missing, a
  required column missing, an unreadable or empty required file, two files for one entity, or
  a file where more than `max_quarantine_share` of the rows break row rules (the file is
  systematically wrong). Readable rejected files are still landed, in schema `rejected`, so
  what the source sent can be inspected.
- Row-level breaks quarantine the row: a missing value, an unparsable number or date, a
  negative quantity, a lot size not above 0, a value outside the allowed set or beyond its
  plausibility bounds, a date out of range, an implausible order quantity, an unknown
  sku / location / work centre, a duplicate key (the first row in file order is kept).
  Quarantined rows stay in `raw` (as sent) and are listed with their reason in
  `raw.quarantine`; staging models skip them.
  The row rules are in `sop_pipeline.ingest.quarantine`.
- Planner files (`Entity.whole`: plan/overrides, events, scenarios, decisions) are used whole
  or refused: a row that breaks a row rule fails the load like a file-level break.
- An optional file with a header and no rows, or empty, is "nothing this month": it lands
  with no rows. Reading and header spellings are in `sop_pipeline.ingest.files`.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from sop_pipeline.cycle import first_supported_cycle
from sop_pipeline.ingest.contract import (
    BY_NAME,
    EARLIEST_DATE,
    ENTITIES,
    LATEST_YEARS,
    Entity,
)
from sop_pipeline.ingest.files import (
    UnreadableFile,
    columns_of,
    file_hash,
    find_file,
    is_blank,
    normalise,
    read_file,
)
from sop_pipeline.ingest.quarantine import depends_on, quarantine_rows, refused, sample
from sop_pipeline.sql import ident, literal

META_COLUMNS = ("_row_number", "_source_file", "_file_hash", "_loaded_at")


class ContractError(ValueError):
    """An extract breaks the contract at file level; the load changed nothing in `raw`."""


@dataclass
class EntityLoad:
    """What one load did with one entity."""

    entity: str
    status: str  # loaded, absent, rejected, not_loaded (another file was rejected)
    source_file: str | None = None
    file_hash: str | None = None
    rows: int = 0
    quarantined: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class LoadReport:
    """The outcome of landing one extracts folder."""

    load_id: str
    extracts_dir: Path
    entities: list[EntityLoad]

    @property
    def absent_optional(self) -> list[str]:
        return [e.entity for e in self.entities if e.status == "absent"]

    @property
    def quarantined(self) -> int:
        return sum(e.quarantined for e in self.entities)

    def summary(self) -> str:
        lines = [
            f"{e.entity}: {e.rows:,} rows from {e.source_file}"
            + (f", {e.quarantined:,} quarantined" if e.quarantined else "")
            for e in self.entities
            if e.status == "loaded"
        ]
        if self.absent_optional:
            lines.append("absent optional inputs: " + ", ".join(self.absent_optional))
        lines.extend(p for e in self.entities for p in e.problems)
        return "\n".join(lines)


def land_extracts(
    con: duckdb.DuckDBPyConnection, extracts_dir: Path | str, max_quarantine_share: float = 0.5,
    pulled: Mapping[str, tuple[str, pd.DataFrame]] | None = None,
) -> LoadReport:
    """Read every contract file under `extracts_dir`, validate it and land it in schema `raw`.

    `pulled` gives some entities from elsewhere than the folder ({entity: (source label, rows
    as text)}, e.g. the CRM pulled from Pipedrive): they are validated and landed the same way,
    and the folder's files for them are not read.
    Raises ContractError (naming file, column, row count and sample rows) on a file-level
    break, or a row-level break in a file used whole, before `raw` is touched. Other
    row-level breaks land in `raw.quarantine`.
    """
    extracts_dir = Path(extracts_dir)
    if not extracts_dir.is_dir():
        raise ContractError(f"Extracts folder {extracts_dir} does not exist.")
    load_id = uuid.uuid4().hex[:12]
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute("CREATE SCHEMA IF NOT EXISTS rejected")
    _create_log_tables(con)
    _drop_staging(con)
    loads: list[EntityLoad] = []
    errors: list[str] = []
    for entity in ENTITIES:
        load = _stage_entity(con, entity, extracts_dir, (pulled or {}).get(entity.name))
        loads.append(load)
        if load.status == "rejected":
            errors.extend(load.problems)
            continue
        rejected = {e.entity for e in loads if e.status == "rejected"}
        if load.status == "loaded" and load.rows and not depends_on(entity) & rejected:
            load.quarantined, problems = quarantine_rows(con, entity, load.source_file, load.rows)
            load.problems.extend(problems)
            refusal = refused(entity, load.source_file, load.quarantined, load.rows,
                              max_quarantine_share)
            if refusal:
                load.status = "rejected"
                load.problems.insert(0, refusal)
                errors.append("\n".join(load.problems))
    if errors:
        for load in loads:
            if load.status == "loaded":
                load.status = "not_loaded"
        _land_rejected(con, load_id, loads)
        raise ContractError(
            f"Extracts in {extracts_dir} break the contract; nothing was loaded into raw "
            f"(rejected files are in schema 'rejected', load {load_id}):\n- "
            + "\n- ".join(errors)
        )
    _publish_raw(con, load_id, loads)
    return LoadReport(load_id, extracts_dir, loads)


def last_order_date(extracts_dir: Path | str):
    """The latest order date in the sales orders extract (to find the latest complete month)."""
    return order_dates(extracts_dir)[1]


def order_dates(extracts_dir: Path | str) -> tuple:
    """The first and the latest order date of the sales orders extract (dates), read as the
    landing reads it (same header spellings, dates out of range left out as the landing
    quarantines them); ContractError when it cannot be told."""
    entity = BY_NAME["erp/sales_orders"]
    path, problem = find_file(entity, Path(extracts_dir))
    if path is None:
        raise ContractError(problem or f"{entity.name}: required file missing in {extracts_dir}.")

    def first_and_last(source: str) -> str:
        column = columns_of(con, source).get("order_date")
        if column is None:
            raise ContractError(f"{path}: no order_date column, cannot tell the latest month.")
        day = f"TRY_CAST(trim(CAST({ident(column)} AS VARCHAR)) AS DATE)"
        return (f"""WITH days AS (SELECT {day} AS day FROM {source}),
                         bound AS (SELECT quantile_disc(day, 0.5) + INTERVAL {LATEST_YEARS} YEAR
                                   AS latest FROM days)
                    SELECT min(day), max(day) FROM days, bound
                    WHERE day >= DATE {literal(EARLIEST_DATE)} AND day <= latest""")

    with duckdb.connect() as con:
        try:
            first, last = read_file(con, path, first_and_last).fetchone()
        except UnreadableFile as error:
            raise ContractError(str(error)) from None
    if last is None:
        raise ContractError(f"{path}: no parsable order_date, cannot tell the latest month.")
    return first, last


def first_cycle_supported(extracts_dir: Path | str):
    """The first cycle the extracts support (cycle.first_supported_cycle of the first order
    date), or None while there are no sales orders to read."""
    try:
        first, _ = order_dates(extracts_dir)
    except (ContractError, OSError, duckdb.Error):
        return None
    return first_supported_cycle(first) if first else None


def extract_hashes(extracts_dir: Path | str) -> dict[str, str]:
    """The sha256 of every contract file present in the folder, by entity: what the landing
    records as each file's `_file_hash`, so a change of content, not of time stamp, tells."""
    hashes = {}
    for entity in ENTITIES:
        path, _ = find_file(entity, Path(extracts_dir))
        if path is not None:
            hashes[entity.name] = file_hash(path)
    return hashes


def _create_log_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """CREATE TABLE IF NOT EXISTS raw.quarantine (
            entity VARCHAR, row_number BIGINT, column_name VARCHAR, rule VARCHAR,
            reason VARCHAR, value VARCHAR, record VARCHAR, source_file VARCHAR,
            load_id VARCHAR, quarantined_at TIMESTAMP)"""
    )
    con.execute(
        """CREATE TABLE IF NOT EXISTS raw.load_log (
            load_id VARCHAR, entity VARCHAR, status VARCHAR, source_file VARCHAR,
            file_hash VARCHAR, rows BIGINT, quarantined BIGINT, message VARCHAR,
            loaded_at TIMESTAMP)"""
    )


def _stage_entity(con: duckdb.DuckDBPyConnection, entity: Entity, extracts_dir: Path,
                  pulled: tuple[str, pd.DataFrame] | None = None) -> EntityLoad:
    """Read one file (or the pulled rows) into a temp table `_in_<table>` with contract
    columns and metadata. A file with a header and no rows, or nothing at all, is an optional
    entity's "nothing this month": landed with no rows."""
    path, problem = (pulled[0], None) if pulled else find_file(entity, extracts_dir)
    if problem:
        return EntityLoad(entity.name, "rejected", problems=[problem])
    if path is None:
        _stage_empty(con, entity)
        return EntityLoad(entity.name, "absent")
    digest = _frame_hash(pulled[1]) if pulled else file_hash(path)
    load = EntityLoad(entity.name, "loaded", source_file=str(path), file_hash=digest)
    if not pulled and is_blank(path):
        _stage_empty(con, entity, load)
        if entity.required:
            load.status = "rejected"
            load.problems.append(f"{path}: required file is empty (no header, no rows).")
        return load
    try:
        if pulled:
            _read_frame(con, pulled[1])
        else:
            read_file(con, path)
    except UnreadableFile as error:
        load.status = "rejected"
        load.problems.append(str(error))
        return load
    sent = [r[0] for r in con.execute("DESCRIBE _read").fetchall()]
    renamed = {name: normalise(name) or f"column{i}" for i, name in enumerate(sent)}
    load.rows = con.execute("SELECT count(*) FROM _read").fetchone()[0]
    select = [f"{ident(name)} AS {ident(new)}" for name, new in renamed.items()]
    select += [f"NULL::VARCHAR AS {ident(c.name)}" for c in entity.columns
               if not c.required and c.name not in renamed.values()]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_staged(entity)} AS SELECT {', '.join(select)}, "
        f"rowid + 1 AS _row_number, {literal(path)} AS _source_file, "
        f"{literal(load.file_hash)} AS _file_hash, now()::TIMESTAMP AS _loaded_at FROM _read"
    )
    missing = [c.name for c in entity.columns if c.required and c.name not in renamed.values()]
    doubled = sorted({n for n in renamed.values() if list(renamed.values()).count(n) > 1})
    if missing or doubled:
        load.status = "rejected"
        what = (
            f"missing required column(s) {', '.join(repr(m) for m in missing)}"
            if missing
            else f"column name(s) {', '.join(doubled)} appear twice"
        )
        load.problems.append(
            f"{path}: {what} (file has {load.rows:,} rows; columns found: "
            f"{', '.join(sent)}). Sample rows:\n{sample(con, _staged(entity), None)}"
        )
    elif load.rows == 0 and entity.required:
        load.status = "rejected"
        load.problems.append(f"{path}: required file has no rows (columns: {', '.join(sent)}).")
    return load


def _stage_empty(con: duckdb.DuckDBPyConnection, entity: Entity,
                 load: EntityLoad | None = None) -> None:
    """An entity with no rows: the contract columns, text, and the load metadata."""
    cols = ", ".join(f"NULL::VARCHAR AS {ident(c.name)}" for c in entity.columns)
    source = literal(load.source_file) if load else "NULL"
    digest = literal(load.file_hash) if load else "NULL"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_staged(entity)} AS SELECT {cols}, "
        f"NULL::BIGINT AS _row_number, {source}::VARCHAR AS _source_file, "
        f"{digest}::VARCHAR AS _file_hash, NULL::TIMESTAMP AS _loaded_at LIMIT 0"
    )


def _staged(entity: Entity) -> str:
    return ident(f"_in_{entity.table}")


def _read_frame(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    """Pulled rows (text) into temp table `_read`, as a file would be read."""
    pulled_frame = frame  # noqa: F841 (read by DuckDB's replacement scan, by name)
    columns = ", ".join(f"CAST({ident(c)} AS VARCHAR) AS {ident(c)}" for c in frame.columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _read AS SELECT {columns} FROM pulled_frame")


def _frame_hash(frame: pd.DataFrame) -> str:
    """The sha256 of pulled rows as CSV: their version, as a file's hash is the file's."""
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


def _land_rejected(con: duckdb.DuckDBPyConnection, load_id: str, loads: list[EntityLoad]) -> None:
    """Keep rejected files queryable in schema `rejected`; `raw` stays as it was."""
    for load in loads:
        entity = BY_NAME[load.entity]
        if load.status == "rejected" and _exists(con, f"_in_{entity.table}"):
            con.execute(f"CREATE OR REPLACE TABLE rejected.{ident(entity.table)} AS "
                        f"SELECT * FROM {_staged(entity)}")
    _log(con, load_id, loads)


def _publish_raw(con: duckdb.DuckDBPyConnection, load_id: str, loads: list[EntityLoad]) -> None:
    """Replace every raw table and the quarantine in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        for load in loads:
            entity = BY_NAME[load.entity]
            con.execute(f"CREATE OR REPLACE TABLE raw.{ident(entity.table)} AS "
                        f"SELECT * FROM {_staged(entity)}")
        con.execute("DELETE FROM raw.quarantine")
        con.execute(
            """INSERT INTO raw.quarantine
            SELECT q.entity, q.row_number, q.column_name, q.rule, q.reason, q.value,
                   NULL, NULL, ?, now()::TIMESTAMP FROM _q AS q""", [load_id]
        )
        for load in loads:
            if load.quarantined:
                con.execute(
                    f"""UPDATE raw.quarantine AS q SET
                        record = to_json(t) :: VARCHAR, source_file = t._source_file
                    FROM (SELECT * EXCLUDE (_file_hash, _loaded_at)
                          FROM raw.{ident(BY_NAME[load.entity].table)}) AS t
                    WHERE q.entity = ? AND q.row_number = t._row_number""", [load.entity]
                )
        _log(con, load_id, loads)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("DROP TABLE IF EXISTS _q")


def _log(con: duckdb.DuckDBPyConnection, load_id: str, loads: list[EntityLoad]) -> None:
    con.executemany(
        "INSERT INTO raw.load_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
        [
            [load_id, e.entity, e.status, e.source_file, e.file_hash, e.rows, e.quarantined,
             "\n".join(e.problems) or None]
            for e in loads
        ],
    )


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]
        ).fetchone()[0]
    )


def _drop_staging(con: duckdb.DuckDBPyConnection) -> None:
    """Forget temp tables of an earlier load on this connection."""
    for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND (table_name = '_q' OR "
        "regexp_matches(table_name, '^_(in|q|judged)_'))"
    ).fetchall():
        con.execute(f"DROP TABLE {ident(name)}")
