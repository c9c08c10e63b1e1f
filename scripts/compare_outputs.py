"""Compare the output tables of two warehouses row for row: `python scripts/compare_outputs.py
WAREHOUSE_A WAREHOUSE_B [--tolerance 1e-9]`.

For refactors that must not change results: run the same cycles into two warehouse folders
(before and after the change) and compare. Every planning table of `sop_pipeline.tables` is
read from both `sop.duckdb` files, sorted by all its columns, and compared cell by cell; text,
dates and booleans must be equal, numbers equal within the tolerance (relative to the value,
absolute below 1). Exits 1 when any table differs, and prints where.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from sop_pipeline.tables import OUTPUT_TABLES
from sop_pipeline.warehouse import database_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path, help="warehouse folder (holds sop.duckdb)")
    parser.add_argument("second", type=Path, help="warehouse folder to compare with")
    parser.add_argument("--tolerance", type=float, default=1e-9)
    args = parser.parse_args(argv)
    differing = 0
    for name in OUTPUT_TABLES:
        first, second = _rows(args.first, name), _rows(args.second, name)
        problem = _difference(first, second, args.tolerance)
        print(f"{name:32} {len(first):>8,} rows  {problem or 'identical'}")
        differing += bool(problem)
    print(f"{differing} of {len(OUTPUT_TABLES)} tables differ")
    return 1 if differing else 0


def _rows(warehouse_dir: Path, name: str) -> pd.DataFrame:
    with duckdb.connect(str(database_path(warehouse_dir)), read_only=True) as con:
        exists = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchone()[0]
        if not exists:
            return pd.DataFrame(columns=OUTPUT_TABLES[name].column_names)
        columns = ", ".join(OUTPUT_TABLES[name].column_names)
        return con.execute(f"SELECT {columns} FROM main.{name} ORDER BY ALL").df()


def _difference(first: pd.DataFrame, second: pd.DataFrame, tolerance: float) -> str:
    """'' when equal, else what differs first."""
    if len(first) != len(second):
        return f"row counts differ: {len(first)} vs {len(second)}"
    for column in first.columns:
        a, b = first[column], second[column]
        if pd.api.types.is_numeric_dtype(a) and not pd.api.types.is_bool_dtype(a):
            x, y = a.to_numpy(float), b.to_numpy(float)
            both_nan = np.isnan(x) & np.isnan(y)
            scale = np.maximum(np.maximum(np.abs(x), np.abs(y)), 1.0)
            bad = ~both_nan & ~(np.abs(x - y) <= tolerance * scale)
        else:
            bad = ~((a == b) | (a.isna() & b.isna())).to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            return (f"{int(bad.sum())} cell(s) of {column} differ, e.g. row {row}: "
                    f"{a.iloc[row]!r} vs {b.iloc[row]!r}")
    return ""


if __name__ == "__main__":
    sys.exit(main())
