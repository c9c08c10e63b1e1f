"""Extract files as every reader sees them: found by entity, read as text by DuckDB, headers in
the contract's spelling, and refused with a reason a person can act on.

Landing, `order_dates` (the latest month, for `sop run` and the landing sensor) and anything
else that reads an extract file go through `read_file` and `normalise`, so a header the
contract accepts (`Order Date`) is accepted by each of them.

Encodings: extracts are UTF-8 (a byte-order mark is fine). Any other encoding is refused, not
guessed (Windows-1252 and Latin-1 read the same bytes as different letters): the message
names the file, the first line that is not UTF-8 and the encoding it looks like, and says
to save the file as UTF-8.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import duckdb

from sop_pipeline.ingest.contract import Entity
from sop_pipeline.sql import literal

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class UnreadableFile(ValueError):
    """An extract file DuckDB cannot read; the message names the file and why."""


def find_file(entity: Entity, extracts_dir: Path) -> tuple[Path | None, str | None]:
    """(the entity's file, None), (None, None) when an optional file is absent, or (None, the
    problem): a required file missing, or two files for one entity."""
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


def read_file(con: duckdb.DuckDBPyConnection, path: Path,
              build: Callable[[str], str] | None = None) -> duckdb.DuckDBPyConnection:
    """Run `build(source)` (default: copy the file into temp table `_read`), `source` being
    the table function that reads `path` as text; a CSV the dialect sniffer rejects is
    retried in lenient mode. Raises UnreadableFile naming the file and the reader's error,
    or the line and the encoding when the file is not UTF-8."""
    build = build or (lambda source: f"CREATE OR REPLACE TEMP TABLE _read AS SELECT * FROM "
                                     f"{source}")
    if path.suffix == ".csv" and (problem := _utf16_problem(path)):
        raise UnreadableFile(problem)
    attempts = [False, True] if path.suffix == ".csv" else [False]
    first_error: duckdb.Error | None = None
    for lenient in attempts:
        try:
            return con.execute(build(reader(path, lenient)))
        except duckdb.Error as exc:
            first_error = first_error or exc
    problem = encoding_problem(path) if path.suffix == ".csv" else None
    raise UnreadableFile(problem or f"{path}: unreadable file: {str(first_error).splitlines()[0]}")


def reader(path: Path, lenient: bool = False) -> str:
    """DuckDB table function reading an extract; text kept as text, nothing inferred."""
    if path.suffix != ".csv":
        return f"read_parquet({literal(path)})"
    # lenient: a comma CSV whose lines end in a mix of \n and \r\n (appended to by hand)
    # defeats the dialect sniffer; ragged rows still fail in this mode.
    options = ", delim=',', quote='\"', strict_mode=false" if lenient else ""
    return f"read_csv({literal(path)}, header=true, all_varchar=true{options})"


def columns_of(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, str]:
    """The columns `source` (a relation or table function) has: {contract spelling: as sent}."""
    return {normalise(row[0]): row[0]
            for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}


def normalise(name: str) -> str:
    """Header as the contract spells it: trimmed, lower-case, runs of non-word chars → `_`."""
    return re.sub(r"\W+", "_", name.strip().lstrip("\ufeff").lower()).strip("_")


def is_blank(path: Path) -> bool:
    """True for a file with nothing in it (no header either): an empty CSV export."""
    if path.suffix != ".csv" or path.stat().st_size > 64:
        return False
    return not path.read_bytes().lstrip(codecs.BOM_UTF8).strip()


def file_hash(path: Path) -> str:
    """The sha256 of the file's bytes: its version."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def encoding_problem(path: Path) -> str | None:
    """Why `path` is not UTF-8, naming its first line that is not and the encoding that line
    looks like; None when every line is UTF-8."""
    if problem := _utf16_problem(path):
        return problem
    with path.open("rb") as fh:
        for line_number, line in enumerate(fh, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as error:
                return _not_utf8(path, line_number, line, error.start)
    return None


def _utf16_problem(path: Path) -> str | None:
    with path.open("rb") as fh:
        start = fh.read(4)
    if not start.startswith(_UTF16_BOMS):
        return None
    return (f"{path}: the file is UTF-16 (it starts with a UTF-16 byte-order mark), not UTF-8. "
            "Save it as UTF-8 (e.g. Excel's 'CSV UTF-8', or "
            "`iconv -f UTF-16 -t UTF-8`) and load again.")


def _not_utf8(path: Path, line_number: int, line: bytes, position: int) -> str:
    byte = line[position]
    if b"\x00" in line:
        looks, iconv = "UTF-16 without a byte-order mark", "UTF-16"
    else:
        looks, iconv = "Windows-1252 / Latin-1 (ISO-8859-1)", "WINDOWS-1252"
    text = line.decode("cp1252", errors="replace").strip()
    shown = text if len(text) <= 80 else text[:77] + "..."
    return (f"{path}: not UTF-8: line {line_number} has byte 0x{byte:02X}, which UTF-8 cannot "
            f"read; the file looks like {looks} (line {line_number} read that way: "
            f"{shown!r}). Save it as UTF-8 (e.g. Excel's 'CSV UTF-8', or "
            f"`iconv -f {iconv} -t UTF-8`) and load again; nothing is guessed.")
