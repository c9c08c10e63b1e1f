"""Land extract files in DuckDB as they came, and enforce the extract contract on them.

Per-rule decisions (documented in the README):

- File-level breaks fail the load and change nothing in `raw`: a required file missing, a
  required column missing, an unreadable or empty required file, two files for one entity, or
  a file where more than `max_quarantine_share` of the rows break row rules (the file is
  systematically wrong). Readable rejected files are still landed, in schema `rejected`, so
  what the source sent can be inspected.
- Row-level breaks quarantine the row: a missing value, an unparsable number or date, a
  negative quantity, a lot size not above 0, a value outside the allowed set, an unknown
  sku / location / work centre, a duplicate key (the first row in file order is kept).
  Quarantined rows stay in `raw` (as sent) and are listed with their reason in
  `raw.quarantine`; staging models skip them.
  The row rules are in `sop_pipeline.ingest.quarantine`.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from sop_pipeline.cycle import first_supported_cycle
from sop_pipeline.ingest.contract import ENTITIES, Entity
from sop_pipeline.ingest.quarantine import quarantine_rows, sample

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
    break, before `raw` is touched. Row-level breaks land in `raw.quarantine`.
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
        if load.status == "loaded" and not errors:
            load.quarantined, problems = quarantine_rows(con, entity, load.source_file, load.rows)
            load.problems.extend(problems)
            share = load.quarantined / load.rows
            if share > max_quarantine_share:
                load.status = "rejected"
                load.problems.insert(0, _systematic_problem(load, share, max_quarantine_share))
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
    """The first and the latest order date of the sales orders extract (dates)."""
    entity = next(e for e in ENTITIES if e.name == "erp/sales_orders")
    path, problem = _find_file(entity, Path(extracts_dir))
    if path is None:
        raise ContractError(problem or f"{entity.name}: required file missing in {extracts_dir}.")
    with duckdb.connect() as con:
        first, last = con.execute(
            "SELECT min(TRY_CAST(order_date AS DATE)), max(TRY_CAST(order_date AS DATE)) "
            f"FROM {_reader(path)}").fetchone()
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
        path, _ = _find_file(entity, Path(extracts_dir))
        if path is not None:
            hashes[entity.name] = _file_hash(path)
    return hashes


def _reader(path: Path, lenient: bool = False) -> str:
    """DuckDB table function reading an extract; text kept as text, nothing inferred."""
    if path.suffix != ".csv":
        return f"read_parquet('{path}')"
    # lenient: a comma CSV whose lines end in a mix of \n and \r\n (appended to by hand)
    # defeats the dialect sniffer; ragged rows still fail in this mode.
    options = ", delim=',', quote='\"', strict_mode=false" if lenient else ""
    return f"read_csv('{path}', header=true, all_varchar=true{options})"


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


def _find_file(entity: Entity, extracts_dir: Path) -> tuple[Path | None, str | None]:
    candidates = [p for p in (extracts_dir / f"{entity.name}.csv",
                              extracts_dir / f"{entity.name}.parquet") if p.exists()]
    if len(candidates) > 1:
        names = " and ".join(str(p) for p in candidates)
        return None, f"{entity.name}: two files for one entity ({names}); keep one."
    if candidates:
        return candidates[0], None
    if entity.required:
        return None, (
            f"{entity.name}: required file missing "
            f"(expected {extracts_dir / entity.name}.csv or .parquet)."
        )
    return None, None


def _stage_entity(con: duckdb.DuckDBPyConnection, entity: Entity, extracts_dir: Path,
                  pulled: tuple[str, pd.DataFrame] | None = None) -> EntityLoad:
    """Read one file (or the pulled rows) into a temp table `_in_<table>` with contract
    columns and metadata."""
    path, problem = (pulled[0], None) if pulled else _find_file(entity, extracts_dir)
    if problem:
        return EntityLoad(entity.name, "rejected", problems=[problem])
    staged = f"_in_{entity.table}"
    if path is None:
        cols = ", ".join(f'NULL::VARCHAR AS "{c.name}"' for c in entity.columns)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {staged} AS SELECT {cols}, NULL::BIGINT AS _row_number,"
            " NULL::VARCHAR AS _source_file, NULL::VARCHAR AS _file_hash,"
            " NULL::TIMESTAMP AS _loaded_at LIMIT 0"
        )
        return EntityLoad(entity.name, "absent")
    digest = _frame_hash(pulled[1]) if pulled else _file_hash(path)
    load = EntityLoad(entity.name, "loaded", source_file=str(path), file_hash=digest)
    try:
        if pulled:
            _read_frame(con, pulled[1])
        else:
            _read_file(con, path)
    except duckdb.Error as exc:
        load.status = "rejected"
        load.problems.append(f"{path}: unreadable file: {str(exc).splitlines()[0]}")
        return load
    sent = [r[0] for r in con.execute("DESCRIBE _read").fetchall()]
    renamed = {name: _normalise(name) for name in sent}
    load.rows = con.execute("SELECT count(*) FROM _read").fetchone()[0]
    select = [f'"{name}" AS "{new}"' for name, new in renamed.items()]
    select += [f'NULL::VARCHAR AS "{c.name}"' for c in entity.columns
               if not c.required and c.name not in renamed.values()]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {staged} AS SELECT {', '.join(select)}, "
        f"rowid + 1 AS _row_number, '{_quoted(path)}' AS _source_file, "
        f"'{load.file_hash}' AS _file_hash, now()::TIMESTAMP AS _loaded_at FROM _read"
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
            f"{', '.join(sent)}). Sample rows:\n{sample(con, staged, None)}"
        )
    elif load.rows == 0 and entity.required:
        load.status = "rejected"
        load.problems.append(f"{path}: required file has no rows (columns: {', '.join(sent)}).")
    return load


def _read_file(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Read `path` into temp table `_read`; retry a CSV the sniffer rejects in lenient mode."""
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _read AS SELECT * FROM {_reader(path)}")
    except duckdb.Error:
        if path.suffix != ".csv":
            raise
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE _read AS SELECT * FROM {_reader(path, True)}"
            )
        except duckdb.Error:
            con.execute(f"SELECT * FROM {_reader(path)}")  # raise the first error again
            raise


def _read_frame(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    """Pulled rows (text) into temp table `_read`, as a file would be read."""
    pulled_frame = frame  # noqa: F841 (read by DuckDB's replacement scan, by name)
    columns = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in frame.columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _read AS SELECT {columns} FROM pulled_frame")


def _frame_hash(frame: pd.DataFrame) -> str:
    """The sha256 of pulled rows as CSV: their version, as a file's hash is the file's."""
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


def _quoted(text: object) -> str:
    return str(text).replace("'", "''")


def _normalise(name: str) -> str:
    """Header as the contract spells it: trimmed, lower-case, runs of non-word chars → `_`."""
    return re.sub(r"\W+", "_", name.strip().lstrip("\ufeff").lower()).strip("_")


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _systematic_problem(load: EntityLoad, share: float, limit: float) -> str:
    return (
        f"{load.source_file}: {load.quarantined:,} of {load.rows:,} rows ({share:.0%}) break "
        f"row rules, more than the {limit:.0%} allowed: the file looks systematically wrong."
    )


def _land_rejected(con: duckdb.DuckDBPyConnection, load_id: str, loads: list[EntityLoad]) -> None:
    """Keep rejected files queryable in schema `rejected`; `raw` stays as it was."""
    for load in loads:
        table = load.entity.replace("/", "_")
        if load.status == "rejected" and _exists(con, f"_in_{table}"):
            con.execute(f"CREATE OR REPLACE TABLE rejected.{table} AS SELECT * FROM _in_{table}")
    _log(con, load_id, loads)


def _publish_raw(con: duckdb.DuckDBPyConnection, load_id: str, loads: list[EntityLoad]) -> None:
    """Replace every raw table and the quarantine in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        for load in loads:
            table = load.entity.replace("/", "_")
            con.execute(f"CREATE OR REPLACE TABLE raw.{table} AS SELECT * FROM _in_{table}")
        con.execute("DELETE FROM raw.quarantine")
        con.execute(
            f"""INSERT INTO raw.quarantine
            SELECT q.entity, q.row_number, q.column_name, q.rule, q.reason, q.value,
                   NULL, NULL, '{load_id}', now()::TIMESTAMP FROM _q AS q"""
        )
        for load in loads:
            if load.quarantined:
                table = load.entity.replace("/", "_")
                con.execute(
                    f"""UPDATE raw.quarantine AS q SET
                        record = to_json(t) :: VARCHAR, source_file = t._source_file
                    FROM (SELECT * EXCLUDE (_file_hash, _loaded_at) FROM raw.{table}) AS t
                    WHERE q.entity = '{load.entity}' AND q.row_number = t._row_number"""
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
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND "
        "(table_name = '_q' OR table_name LIKE '\\_in\\_%' ESCAPE '\\')"
    ).fetchall():
        con.execute(f"DROP TABLE {name}")
