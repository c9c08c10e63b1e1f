"""What a publication must hold for BI readers (the published_tables asset's check): the
manifest names every published table, and its row count per table is the count in the
serving file and in the Parquet version it points at.

publication_problems is the rule, on counts; published_counts reads them from the files, each
through a fresh in-memory DuckDB (the serving file read-only, as a BI reader opens it).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

from sop_pipeline.report.publish import MANIFEST_NAME, PUBLISHED_DIR, SERVING_NAME
from sop_pipeline.sql import ident, literal


def publication_problems(
    manifest: dict | None, tables: Iterable[str], serving_rows: dict[str, int],
    parquet_rows: dict[str, int],
) -> list[str]:
    """The manifest against the counts read from the serving file and from the Parquet
    files, for the `tables` meant to be published."""
    if manifest is None:
        return [f"published_tables: no {MANIFEST_NAME}"]
    listed = {name: entry.get("rows") for name, entry in manifest.get("tables", {}).items()}
    problems = []
    missing = [name for name in tables if name not in listed]
    if missing:
        problems.append(f"published_tables: {len(missing)} table(s) missing from "
                        f"{MANIFEST_NAME}, e.g. {', '.join(missing[:3])}")
    for place, counted in (("the serving file", serving_rows), ("the Parquet", parquet_rows)):
        off = {name: (rows, counted.get(name)) for name, rows in listed.items()
               if counted.get(name) != rows}
        if off:
            shown = "; ".join(f"{name}: {rows} in the manifest, {found} in {place}"
                              for name, (rows, found) in list(off.items())[:3])
            problems.append(f"published_tables: rows in {MANIFEST_NAME} != rows in {place}: "
                            f"{len(off)} table(s), e.g. {shown}")
    return problems


def published_counts(warehouse_dir: Path, manifest: dict) -> tuple[dict[str, int],
                                                                     dict[str, int]]:
    """(rows per table of the serving file, rows per table of the manifest's Parquet
    version); a table absent from a place is absent from its dict."""
    published = Path(warehouse_dir) / PUBLISHED_DIR
    parquet_dir = published / manifest.get("parquet_dir", "")
    with duckdb.connect() as con:
        con.execute(f"ATTACH {literal(published / SERVING_NAME)} AS serving (READ_ONLY)")
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                             "WHERE database_name = 'serving'").fetchall()
        serving = {name: con.execute(
            f"SELECT count(*) FROM serving.{ident(schema)}.{ident(name)}").fetchone()[0]
            for schema, name in tables}
        parquet = {path.stem: con.execute("SELECT count(*) FROM read_parquet(?)",
                                          [str(path)]).fetchone()[0]
                   for path in sorted(parquet_dir.glob("*.parquet"))}
        con.execute("DETACH serving")
    return serving, parquet
