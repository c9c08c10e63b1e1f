"""Row-level contract rules: find the staged rows that break them and say why.

`landing` stages each file as temp table `_in_<table>`; `quarantine_rows` records the rows
that break a rule in temp table `_q`, which `landing` publishes as `raw.quarantine`.
"""

from __future__ import annotations

import duckdb

from sop_pipeline.ingest.contract import Entity

SAMPLE_ROWS = 3
_SQL_TYPE = {"int": "BIGINT", "float": "DOUBLE", "date": "DATE", "timestamp": "TIMESTAMP"}


def quarantine_rows(
    con: duckdb.DuckDBPyConnection, entity: Entity, source_file: str | None, rows: int
) -> tuple[int, list[str]]:
    """Record the staged rows of `entity` that break a row rule in `_q`.

    Returns how many rows broke a rule and one problem per (column, rule) naming the file,
    the count and sample rows, for the load report.
    """
    staged = f"_in_{entity.table}"
    con.execute(
        "CREATE TEMP TABLE IF NOT EXISTS _q (entity VARCHAR, row_number BIGINT, "
        "column_name VARCHAR, rule VARCHAR, reason VARCHAR, value VARCHAR)"
    )
    # a row that says where it came from (`source_ref`, e.g. the Pipedrive ids of a pulled
    # deal) has it added to every reason
    columns = {r[0] for r in con.execute(f"DESCRIBE {staged}").fetchall()}
    where = " || coalesce(' (' || t.source_ref || ')', '')" if "source_ref" in columns else ""
    for column_name, rule, reason, condition in row_rules(entity):
        value = "NULL" if column_name is None else f'CAST("{column_name}" AS VARCHAR)'
        con.execute(
            f"INSERT INTO _q SELECT '{entity.name}', _row_number, "
            f"{'NULL' if column_name is None else repr(column_name)}, '{rule}', {reason}{where}, "
            f"{value} FROM {staged} AS t WHERE {condition}"
        )
    key = ", ".join(f'trim(CAST("{k}" AS VARCHAR))' for k in entity.key)
    con.execute(  # duplicate key: the first row in file order is kept
        f"""INSERT INTO _q SELECT '{entity.name}', _row_number, NULL, 'duplicate_key',
               'duplicate of row ' || first_row || ' on key ({', '.join(entity.key)})', NULL
            FROM (SELECT _row_number, min(_row_number) OVER (PARTITION BY {key}) AS first_row
                  FROM {staged}) WHERE _row_number > first_row"""
    )
    counts = con.execute(
        "SELECT column_name, rule, count(DISTINCT row_number), min(row_number) FROM _q "
        "WHERE entity = ? GROUP BY ALL ORDER BY 3 DESC",
        [entity.name],
    ).fetchall()
    quarantined = con.execute(
        "SELECT count(DISTINCT row_number) FROM _q WHERE entity = ?", [entity.name]
    ).fetchone()[0]
    problems = []
    for column_name, rule, n, _ in counts:
        rows_sample = sample(
            con, staged,
            f"_row_number IN (SELECT row_number FROM _q WHERE entity = '{entity.name}' "
            f"AND rule = '{rule}' AND column_name IS NOT DISTINCT FROM "
            f"{'NULL' if column_name is None else repr(column_name)})",
        )
        problems.append(
            f"{source_file}: column '{column_name or ', '.join(entity.key)}': {n:,} of "
            f"{rows:,} rows quarantined ({rule}). Sample rows:\n{rows_sample}"
        )
    return quarantined, problems


def row_rules(entity: Entity) -> list[tuple[str | None, str, str, str]]:
    """(column, rule, reason SQL expression, condition SQL) for every row rule of an entity."""
    rules: list[tuple[str | None, str, str, str]] = []
    for col in entity.columns:
        text = f'trim(CAST(t."{col.name}" AS VARCHAR))'
        present = f"({text} IS NOT NULL AND {text} <> '')"
        if not col.nullable:
            rules.append((col.name, "missing_value", "'no value'", f"NOT {present}"))
        if col.kind in _SQL_TYPE:
            rules.append((
                col.name, f"unparsable_{col.kind}", f"'not a valid {col.kind}: ' || {text}",
                f"{present} AND TRY_CAST({text} AS {_SQL_TYPE[col.kind]}) IS NULL",
            ))
        if col.kind == "float":  # "inf" and "nan" parse as DOUBLE but are no quantity
            rules.append((
                col.name, "not_finite", f"'not a finite number: ' || {text}",
                f"NOT isfinite(TRY_CAST({text} AS DOUBLE))",
            ))
        if col.nonnegative:
            rules.append((
                col.name, "negative_value", f"'negative: ' || {text}",
                f"TRY_CAST({text} AS DOUBLE) < 0",
            ))
        if col.positive:
            rules.append((
                col.name, "not_positive", f"'not above 0: ' || {text}",
                f"TRY_CAST({text} AS DOUBLE) <= 0",
            ))
        if col.allowed:
            rules.append((
                col.name, "invalid_value",
                f"'not one of {'/'.join(col.allowed)}: ' || {text}",
                f"{present} AND lower({text}) NOT IN ({_sql_list(col.allowed)})",
            ))
    for col_name, (ref_entity, ref_col) in entity.references.items():
        ref_table = f"_in_{ref_entity.replace('/', '_')}"
        text = f'trim(CAST(t."{col_name}" AS VARCHAR))'
        rules.append((
            col_name, f"unknown_{col_name}", f"'not in {ref_entity}: ' || {text}",
            f"{text} <> '' AND {text} NOT IN (SELECT trim(CAST(r.\"{ref_col}\" AS VARCHAR)) "
            f"FROM {ref_table} AS r WHERE r._row_number NOT IN "
            f"(SELECT row_number FROM _q WHERE entity = '{ref_entity}'))",
        ))
    return rules


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def sample(con: duckdb.DuckDBPyConnection, table: str, where: str | None) -> str:
    """A few rows rendered `row N: col=value, ...` for error messages."""
    frame = con.execute(
        f"SELECT * EXCLUDE (_source_file, _file_hash, _loaded_at) FROM {table} "
        f"{'WHERE ' + where if where else ''} ORDER BY _row_number LIMIT {SAMPLE_ROWS}"
    ).df()
    lines = []
    for record in frame.to_dict("records"):
        row_number = record.pop("_row_number")
        lines.append(
            f"    row {row_number}: " + ", ".join(f"{k}={_show(v)}" for k, v in record.items())
        )
    return "\n".join(lines) or "    (no rows)"


def _show(value: object) -> str:
    return "<empty>" if value is None or value != value else repr(str(value))
