"""Would pandera replace the ingest layer's row rules with less code and the same messages?

Generates a demo company, breaks a share of its sales-order lines in each way the contract
quarantines (missing value, unparsable number and date, negative quantity, unknown status,
unknown sku, duplicate key), then finds the bad rows twice over the same staged rows:

- today's rules: `sop_pipeline.ingest.quarantine.quarantine_rows`, SQL over the staged table
  in DuckDB (what `land_extracts` runs);
- a pandera schema built from the same contract declaration (`pandera.pandas`, lazy
  validation), over the staged rows read into pandas.

Prints, for each: seconds, peak memory of this process, rows flagged per (column, rule), and
the lines of code that define the rules. pandera is not a project dependency; install it
beside the venv to run this: `.venv/bin/pip install --target /tmp/pandera pandera==0.35.0
typeguard typing_inspect mypy_extensions --no-deps`, then
`PYTHONPATH=/tmp/pandera .venv/bin/python benchmarks/row_rules_pandera.py --skus 400`.
"""

from __future__ import annotations

import argparse
import inspect
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from sop_pipeline.demo import generate_company
from sop_pipeline.ingest import landing
from sop_pipeline.ingest.contract import ENTITIES, Entity
from sop_pipeline.ingest.quarantine import quarantine_rows, row_rules

ENTITY = next(e for e in ENTITIES if e.name == "erp/sales_orders")
BREAKS = {  # column: bad value written into a share of the rows
    "sku": "", "quantity": "-3", "order_date": "31/02/2026", "net_amount": "n/a",
    "status": "maybe", "location_id": "NOWHERE",
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        import pandera.pandas as pa
    except ImportError:
        print("pandera is not installed: see this script's docstring", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        extracts = Path(tmp) / "extracts"
        generate_company(extracts, skus=args.skus, locations=2, years=args.years, seed=11)
        rows = _break_sales_orders(extracts / "erp" / "sales_orders.csv", args.share)
        con = duckdb.connect()
        for entity in ENTITIES:  # stage every file as land_extracts does (references need them)
            landing._stage_entity(con, entity, extracts)
        print(f"erp/sales_orders: {rows:,} rows, {args.share:.0%} broken per rule "
              f"({len(BREAKS)} rules + duplicate keys)")

        for entity in ENTITIES[:ENTITIES.index(ENTITY)]:
            quarantine_rows(con, entity, "", 1)  # referenced files' quarantine first
        started, peak = time.perf_counter(), _peak_mib()
        quarantined, problems = quarantine_rows(con, ENTITY, "sales_orders.csv", rows)
        duck_seconds = time.perf_counter() - started
        duck = con.execute("SELECT coalesce(column_name, 'key') AS column, rule, "
                           "count(DISTINCT row_number) AS rows FROM _q WHERE entity = ? "
                           "GROUP BY ALL ORDER BY ALL", [ENTITY.name]).df()
        duck_peak = _peak_mib() - peak

        started, peak = time.perf_counter(), _peak_mib()
        staged = con.execute(f"SELECT * FROM _in_{ENTITY.table}").df()
        known = {ref: set(con.execute(f"SELECT trim({col}) FROM _in_{ref.replace('/', '_')}")
                          .df().iloc[:, 0].dropna())
                 for ref, col in ENTITY.references.values()}
        schema = pandera_schema(pa, ENTITY, known)
        try:
            schema.validate(staged, lazy=True)
            failures = pd.DataFrame(columns=["column", "check", "index"])
        except pa.errors.SchemaErrors as error:
            failures = error.failure_cases
        pandera_seconds = time.perf_counter() - started
        pandera_peak = _peak_mib() - peak
        flagged = (failures.assign(column=failures["column"].fillna("key"))
                   .groupby(["column", "check"], dropna=False)["index"].nunique()
                   .rename("rows").reset_index())

    print(f"\nDuckDB SQL rules (today): {duck_seconds:.2f} s, +{duck_peak:.0f} MiB peak, "
          f"{quarantined:,} rows quarantined, {len(problems)} problems reported")
    print(duck.to_string(index=False))
    print(f"\npandera {pa.__name__} lazy validation: {pandera_seconds:.2f} s (read into pandas "
          f"included), +{pandera_peak:.0f} MiB peak, "
          f"{failures['index'].nunique():,} rows flagged")
    print(flagged.to_string(index=False))
    print("\nlines defining the rules: today's row_rules "
          f"{len(inspect.getsource(row_rules).splitlines())}, pandera_schema "
          f"{len(inspect.getsource(pandera_schema).splitlines())}")
    print("first pandera failure case, as pandera reports it:")
    print(failures.head(1).to_string(index=False))
    return 0


def pandera_schema(pa, entity: Entity, known: dict[str, set[str]]):
    """The entity's row rules as a pandera schema over its all-text staged rows."""
    kinds = {"int": "int64", "float": "float64", "date": "datetime64[ns]",
             "timestamp": "datetime64[ns]"}
    columns = {}
    for col in entity.columns:
        checks = []
        if col.allowed:
            checks.append(pa.Check(lambda s, a=col.allowed: s.str.strip().str.lower().isin(a),
                                   name="invalid_value", ignore_na=True))
        if col.nonnegative:
            checks.append(pa.Check.ge(0, name="negative_value", ignore_na=True))
        if col.positive:
            checks.append(pa.Check.gt(0, name="not_positive", ignore_na=True))
        reference = entity.references.get(col.name)
        if reference:
            checks.append(pa.Check(lambda s, k=known[reference[0]]: s.str.strip().isin(k),
                                   name=f"unknown_{col.name}", ignore_na=True))
        columns[col.name] = pa.Column(kinds.get(col.kind, "str"), checks=checks,
                                      nullable=col.nullable, coerce=col.kind in kinds,
                                      required=col.required)
    return pa.DataFrameSchema(columns, unique=list(entity.key),
                              report_duplicates="exclude_first")


def _break_sales_orders(path: Path, share: float) -> int:
    """Write BREAKS into `share` of the rows each (different rows per rule), and duplicate
    `share` of the rows at the end. Returns the file's rows."""
    orders = pd.read_csv(path, dtype=str, keep_default_na=False)
    rng = np.random.default_rng(5)
    for column, value in BREAKS.items():
        rows = rng.choice(len(orders), int(share * len(orders)), replace=False)
        orders.loc[rows, column] = value
    doubled = orders.sample(frac=share, random_state=5)
    orders = pd.concat([orders, doubled], ignore_index=True)
    orders.to_csv(path, index=False)
    return len(orders)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=400)
    parser.add_argument("--years", type=int, default=4)
    parser.add_argument("--share", type=float, default=0.01,
                        help="share of the rows broken per rule")
    return parser


if __name__ == "__main__":
    sys.exit(main())
