"""Publishing: copy the planning tables out of the working file for BI readers, atomically.

The pipeline's working file (`warehouse/sop.duckdb`) is held by one writing process, and
DuckDB lets no other process open a file while a writer holds it. BI tools therefore never
touch it: after a successful cycle the published tables are copied to

    <warehouse_dir>/published/
        sop_serving.duckdb          every published table, with table and column comments,
                                    and a view latest_<table> of each one's newest cycle
        parquet/current -> v000042  symlink to the newest version directory
        parquet/v000042/<table>.parquet
        parquet/v000041/...         the version before, kept for readers still on it
        manifest.json               version, published_at, per table rows + cycle months, and
                                    per view its table, cycle month and rows

The plan tables (supply_plan, capacity_plan, inventory_projection, plan_financials) are
published as each cycle's adopted plan: the scenario plan_version names (the baseline where no
decision adopted one); their `scenario` column says which. The what-ifs are compared in
scenario_kpis; their rows stay in the working file.

Every published table with a cycle_month column gets a view `latest_<table>` in the serving
file: the table's rows of its newest cycle_month, with the table's column comments (so a
dashboard need not filter on the latest cycle itself). For the plan tables that is the latest
cycle's adopted plan. The views are created inside the serving file over its own tables and
name them unqualified: a reader that opens the file directly (duckdb-engine, DuckDB 0.10 to
2.x) or ATTACHes it in DuckDB 1.2 or later reads them; DuckDB 0.10 to 1.1 resolve a view of
an ATTACHed file in the default database, so `USE sop` first there.

Atomicity (POSIX): each piece is built under a temporary name in its own directory, flushed
to disk (CHECKPOINT, fsync) and then swapped in by one `os.replace` (a rename):
- `sop_serving.duckdb` is replaced whole. A reader that has the old file open keeps reading
  the old file (its inode lives on until closed); a connection opened afterwards sees the new
  one. Readers never wait for the pipeline and never see a half-written file.
- `parquet/current` is a symlink repointed by renaming a new symlink over it. Each version
  directory is complete before it is pointed at; the new and the previous version are kept
  (a reader that resolved `current` just before a publish still finds its files), older ones
  are deleted.
- `manifest.json` is swapped last, so it never names a version that is not fully in place.
The three are swapped one after the other, not together: for a moment the serving file can
be one version ahead of the Parquet. Everything that can fail for want of a table, a type or
disk space happens before the first rename; such a failure (`PublishError` for a missing
table) renames nothing and removes its temporary files: the last good publication stays as
it was. One publisher at a time (the pipeline's single writer).

The serving file is written in storage format v0.10.0 (`STORAGE_VERSION`, file format number
64): the oldest DuckDB 2.0 writes (older version strings give the same) and one that holds
every type of the planning tables, so DuckDB 0.10, every 1.x (which BI drivers bundle) and
2.x open it. DuckDB 2.0's default format cannot be opened before 2.0. Column types newer than
that format are refused with `PublishError`.

How to connect (always read-only; a read-write connection would lock out the other readers):
- DuckDB / Python:   duckdb.connect("warehouse/published/sop_serving.duckdb", read_only=True)
- DuckDB SQL / BI:   ATTACH 'warehouse/published/sop_serving.duckdb' AS sop (READ_ONLY)
- SQLAlchemy / BI:   duckdb:////abs/path/warehouse/published/sop_serving.duckdb?access_mode=read_only
                     (duckdb-engine; tested versions in the README, "Connect your BI tool")
- Parquet:           read 'warehouse/published/parquet/current/<table>.parquet'; to read several
                     tables of one version, resolve `current` once (os.path.realpath) and read
                     the files of that directory.
A process sees a new publication only on a new database instance: DuckDB shares one instance
per path inside a process, so close every connection to the serving file (or ATTACH it from a
fresh in-memory connection) to pick up a newer version.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from sop_pipeline.report.serving import (
    STORAGE_VERSION,
    PublishError,
    check_tables,
    fsync_dir,
    latest_views,
    published_rows,
    serving_comments,
    write_parquet,
    write_serving_file,
)

__all__ = [
    "CURRENT_LINK",
    "MANIFEST_NAME",
    "PARQUET_DIR",
    "PUBLISHED_DIR",
    "SERVING_NAME",
    "STORAGE_VERSION",
    "Publication",
    "PublishError",
    "publish",
    "read_manifest",
]

PUBLISHED_DIR = "published"
SERVING_NAME = "sop_serving.duckdb"
PARQUET_DIR = "parquet"
CURRENT_LINK = "current"
MANIFEST_NAME = "manifest.json"
_VERSION_DIR = re.compile(r"^v(\d+)$")
_TEMP_PREFIX = ".tmp-"


@dataclass(frozen=True)
class Publication:
    serving_path: Path
    parquet_dir: Path  # the stable `parquet/current` path
    manifest_path: Path
    version: int
    tables: dict[str, int]  # table name -> rows
    seconds: float
    views: dict[str, str] = field(default_factory=dict)  # latest_<table> view -> table


def publish(
    con: duckdb.DuckDBPyConnection,
    warehouse_dir: Path,
    tables: Iterable[str],
    *,
    comments: dict[str, tuple[str, dict[str, str]]] | None = None,
    alongside: dict[Path, Path] | None = None,
) -> Publication:
    """Publish `tables` of `con`'s main schema to the serving file and Parquet, atomically.

    `alongside` (written file -> its place, e.g. the cycle's staged pack) is renamed into
    place with the publication, before the manifest; if the publication fails it is removed,
    so the files of the last good publication stay together.

    Comments come from the working file's own table and column comments, else from the
    declarations in `sop_pipeline.tables`; `comments` (table -> (table comment, column ->
    comment)) overrides both.
    """
    started = time.perf_counter()
    names = list(dict.fromkeys(tables))
    source_db = con.execute("SELECT current_database()").fetchone()[0]
    columns = check_tables(con, source_db, names)
    views = latest_views(columns)
    table_comments = serving_comments(con, source_db, names, comments or {})

    published = Path(warehouse_dir) / PUBLISHED_DIR
    parquet_root = published / PARQUET_DIR
    parquet_root.mkdir(parents=True, exist_ok=True)
    version = _next_version(published)
    version_name = f"v{version:06d}"
    token = f"{_TEMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    serving_tmp = published / f"{token}-{SERVING_NAME}"
    parquet_tmp = parquet_root / f"{token}-{version_name}"
    link_tmp = parquet_root / f"{token}-{CURRENT_LINK}"
    manifest_tmp = published / f"{token}-{MANIFEST_NAME}"
    current = parquet_root / CURRENT_LINK
    previous = _link_target(current)

    try:
        relations = {name: published_rows(con, source_db, name) for name in names}
        rows = {name: _count(con, relations[name]) for name in names}
        cycle_months = {
            name: _cycle_months(con, relations[name])
            for name in names if "cycle_month" in columns[name]
        }
        view_rows = {view: _latest_rows(con, relations[table]) for view, table in views.items()}
        write_serving_file(con, relations, table_comments, serving_tmp, views)
        write_parquet(con, relations, parquet_tmp)
        manifest = _manifest(version, version_name, names, rows, cycle_months, views, view_rows)
        _write_json(manifest_tmp, manifest)
        os.symlink(version_name, link_tmp)

        # Swap in: everything above is complete and on disk; each rename is atomic.
        os.replace(parquet_tmp, parquet_root / version_name)
        fsync_dir(parquet_root)
        _remove(published / f"{SERVING_NAME}.wal")  # never left by read-only readers
        os.replace(serving_tmp, published / SERVING_NAME)
        os.replace(link_tmp, current)
        fsync_dir(parquet_root)
        for written, place in (alongside or {}).items():
            os.replace(written, place)
            fsync_dir(place.parent)
        os.replace(manifest_tmp, published / MANIFEST_NAME)
        fsync_dir(published)
    except BaseException:
        for leftover in (serving_tmp, Path(f"{serving_tmp}.wal"), link_tmp, manifest_tmp,
                         *(alongside or {})):
            _remove(leftover)
        shutil.rmtree(parquet_tmp, ignore_errors=True)
        if _link_target(current) != version_name:
            shutil.rmtree(parquet_root / version_name, ignore_errors=True)
        raise

    _prune(parquet_root, keep={version_name, previous})
    return Publication(
        serving_path=published / SERVING_NAME,
        parquet_dir=current,
        manifest_path=published / MANIFEST_NAME,
        version=version,
        tables=rows,
        seconds=round(time.perf_counter() - started, 3),
        views=views,
    )


def read_manifest(warehouse_dir: Path) -> dict | None:
    """The manifest of the last publication, or None before the first one."""
    path = Path(warehouse_dir) / PUBLISHED_DIR / MANIFEST_NAME
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def _manifest(
    version: int,
    version_name: str,
    names: list[str],
    rows: dict[str, int],
    cycle_months: dict[str, list[str]],
    views: dict[str, str],
    view_rows: dict[str, int],
) -> dict:
    return {
        "version": version,
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "serving_file": SERVING_NAME,
        "storage_version": STORAGE_VERSION,
        "parquet_dir": f"{PARQUET_DIR}/{version_name}",
        "cycle_months": sorted({month for months in cycle_months.values() for month in months}),
        "tables": {
            name: {"rows": rows[name], "cycle_months": cycle_months.get(name, [])}
            for name in names
        },
        "views": {
            view: {
                "table": table,
                "cycle_month": cycle_months[table][-1] if cycle_months[table] else None,
                "rows": view_rows[view],
            }
            for view, table in views.items()
        },
    }


def _next_version(published: Path) -> int:
    """One above both the manifest's version and every version directory on disk."""
    manifest = read_manifest(published.parent) or {}
    on_disk = [
        int(match.group(1))
        for entry in (published / PARQUET_DIR).iterdir()
        if (match := _VERSION_DIR.match(entry.name))
    ]
    return max([int(manifest.get("version", 0)), *on_disk]) + 1


def _prune(parquet_root: Path, keep: set[str | None]) -> None:
    """Delete version directories but the new and the previous one, and stale temp files.

    Best effort: the publication is already in place, so a file that will not go stays.
    """
    stale = [
        entry for entry in parquet_root.iterdir()
        if entry.name not in keep and entry.name != CURRENT_LINK
        and (_VERSION_DIR.match(entry.name) or entry.name.startswith(_TEMP_PREFIX))
    ]
    stale += parquet_root.parent.glob(f"{_TEMP_PREFIX}*")
    for entry in stale:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()


def _link_target(link: Path) -> str | None:
    try:
        return os.readlink(link)
    except OSError:
        return None


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    return con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]


def _latest_rows(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    """Rows of the newest cycle_month of `relation`: what its latest_ view holds."""
    return con.execute(
        f"SELECT count(*) FROM {relation} WHERE cycle_month = "
        f"(SELECT max(cycle_month) FROM {relation})"
    ).fetchone()[0]


def _cycle_months(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    found = con.execute(
        f"SELECT DISTINCT cycle_month FROM {relation} "
        "WHERE cycle_month IS NOT NULL ORDER BY 1"
    ).fetchall()
    return [str(row[0]) for row in found]


def _write_json(path: Path, payload: dict) -> None:
    with open(path, "w") as handle:
        json.dump(payload, handle, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())


def _remove(path: Path) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
