"""Row-level contract rules: find the staged rows that break them and say why.

`landing` stages each file as temp table `_in_<table>`; `quarantine_rows` records the rows
that break a rule in temp table `_q`, which `landing` publishes as `raw.quarantine` (or, for a
file used whole, refuses the file with).
"""

from __future__ import annotations

import duckdb

from sop_pipeline.ingest.contract import (
    DATE_REFERENCE,
    EARLIEST_DATE,
    LATEST_YEARS,
    Column,
    Entity,
    HistoryBound,
)
from sop_pipeline.sql import ident, literal

SAMPLE_ROWS = 3
MAX_HISTORY_PASSES = 20  # each pass finds the lines judged against an implausible earlier one
_SQL_TYPE = {"int": "BIGINT", "float": "DOUBLE", "date": "DATE", "timestamp": "TIMESTAMP"}


def quarantine_rows(
    con: duckdb.DuckDBPyConnection, entity: Entity, source_file: str | None, rows: int
) -> tuple[int, list[str]]:
    """Record the staged rows of `entity` that break a row rule in `_q`.

    Returns how many rows broke a rule and one problem per (column, rule) naming the file,
    the count and sample rows, for the load report.
    """
    staged = _staged(entity.name)
    con.execute(
        "CREATE TEMP TABLE IF NOT EXISTS _q (entity VARCHAR, row_number BIGINT, "
        "column_name VARCHAR, rule VARCHAR, reason VARCHAR, value VARCHAR)"
    )
    if DATE_REFERENCE[0] in depends_on(entity):
        con.execute(_DATE_BOUND)
    for col in entity.columns:
        if col.history:
            _judge_history(con, entity, col.name, col.history)
    # a row that says where it came from (`source_ref`, e.g. the Pipedrive ids of a pulled
    # deal) has it added to every reason
    columns = {r[0] for r in con.execute(f"DESCRIBE {staged}").fetchall()}
    where = " || coalesce(' (' || t.source_ref || ')', '')" if "source_ref" in columns else ""
    for column_name, rule, reason, condition in row_rules(entity):
        value = "NULL" if column_name is None else f"CAST(t.{ident(column_name)} AS VARCHAR)"
        con.execute(
            f"INSERT INTO _q SELECT $entity, _row_number, $column, $rule, {reason}{where}, "
            f"{value} FROM {staged} AS t WHERE {condition}",
            {"entity": entity.name, "column": column_name, "rule": rule},
        )
    key = ", ".join(f"trim(CAST({ident(k)} AS VARCHAR))" for k in entity.key)
    con.execute(  # duplicate key: the first row in file order is kept
        f"""INSERT INTO _q SELECT $entity, _row_number, NULL, 'duplicate_key',
               'duplicate of row ' || first_row || ' on key ({', '.join(entity.key)})', NULL
            FROM (SELECT _row_number, min(_row_number) OVER (PARTITION BY {key}) AS first_row
                  FROM {staged}) WHERE _row_number > first_row""",
        {"entity": entity.name},
    )
    counts = con.execute(
        "SELECT column_name, rule, count(DISTINCT row_number), arg_min(reason, row_number) "
        "FROM _q WHERE entity = ? GROUP BY ALL ORDER BY 3 DESC",
        [entity.name],
    ).fetchall()
    quarantined = con.execute(
        "SELECT count(DISTINCT row_number) FROM _q WHERE entity = ?", [entity.name]
    ).fetchone()[0]
    problems = []
    for column_name, rule, n, reason in counts:
        rows_sample = sample(
            con, staged,
            f"_row_number IN (SELECT row_number FROM _q WHERE entity = {literal(entity.name)} "
            f"AND rule = {literal(rule)} AND column_name IS NOT DISTINCT FROM "
            f"{'NULL' if column_name is None else literal(column_name)})",
        )
        problems.append(
            f"{source_file}: column '{column_name or ', '.join(entity.key)}': {n:,} of "
            f"{rows:,} rows {'refused' if entity.whole else 'quarantined'} ({rule}), e.g. "
            f"{reason}. Sample rows:\n{rows_sample}"
        )
    return quarantined, problems


def refused(entity: Entity, source_file: str | None, quarantined: int, rows: int,
            limit: float) -> str | None:
    """Why a file whose rows break row rules is refused whole, or None to quarantine them:
    a planner's file (`Entity.whole`) is used whole or refused, and any file with more than
    `limit` of its rows broken is systematically wrong."""
    if not quarantined:
        return None
    if entity.whole:
        return (
            f"{source_file}: {quarantined:,} of {rows:,} rows break row rules, and "
            f"{entity.name} is used whole or refused: fix the rows below and load again "
            "(nothing of it is planned until then)."
        )
    share = quarantined / rows
    if share > limit:
        return (
            f"{source_file}: {quarantined:,} of {rows:,} rows ({share:.0%}) break row rules, "
            f"more than the {limit:.0%} allowed: the file looks systematically wrong."
        )
    return None


def depends_on(entity: Entity) -> set[str]:
    """The entities whose staged rows the entity's row rules read: those it references, and
    the sales orders whose order dates bound every date."""
    dated = any(c.kind in ("date", "timestamp") for c in entity.columns)
    return ({ref for ref, _ in entity.references.values()}
            | ({DATE_REFERENCE[0]} if dated else set()))


def row_rules(entity: Entity) -> list[tuple[str | None, str, str, str]]:
    """(column, rule, reason SQL expression, condition SQL) for every row rule of an entity."""
    rules: list[tuple[str | None, str, str, str]] = []
    for col in entity.columns:
        text = f"trim(CAST(t.{ident(col.name)} AS VARCHAR))"
        present = f"({text} IS NOT NULL AND {text} <> '')"
        number = f"TRY_CAST({text} AS DOUBLE)"
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
                f"NOT isfinite({number})",
            ))
        if col.nonnegative:
            rules.append((col.name, "negative_value", f"'negative: ' || {text}", f"{number} < 0"))
        if col.positive:
            rules.append((
                col.name, "not_positive", f"'not above 0: ' || {text}", f"{number} <= 0",
            ))
        if col.minimum is not None or col.maximum is not None:
            rules.append((
                col.name, "out_of_bounds",
                f"{literal(f'not {col.bounds_text()} (plausibility bound): ')} || {text}",
                _outside_bounds(col, number),
            ))
        if col.kind in ("date", "timestamp"):
            day = f"TRY_CAST({text} AS DATE)"
            rules.append((
                col.name, "date_out_of_range",
                f"'not from {EARLIEST_DATE} to ' || "
                f"coalesce(CAST(({_LATEST_DATE}) AS VARCHAR), '(no bound)') "
                f"|| ' ({LATEST_YEARS} years after the median order date of "
                f"{DATE_REFERENCE[0]}): ' || {text}",
                f"{day} < DATE {literal(EARLIEST_DATE)} OR {day} > ({_LATEST_DATE})",
            ))
        if col.history:
            judged = _judged(entity)
            rules.append((
                col.name, "implausible_quantity",
                f"'more than {col.history.multiple:,g} x ' || (SELECT printf('%.6g', "
                f"j.reference) FROM {judged} AS j WHERE j._row_number = t._row_number) "
                f"|| ' (the largest earlier line of "
                f"its {col.history.by}, at least the median line of the file): ' || {text}",
                f"t._row_number IN (SELECT _row_number FROM {judged} WHERE implausible)",
            ))
        if col.allowed:
            rules.append((
                col.name, "invalid_value",
                f"'not one of {'/'.join(col.allowed)}: ' || {text}",
                f"{present} AND lower({text}) NOT IN ({_sql_list(col.allowed)})",
            ))
    for col_name, (ref_entity, ref_col) in entity.references.items():
        text = f"trim(CAST(t.{ident(col_name)} AS VARCHAR))"
        rules.append((
            col_name, f"unknown_{col_name}", f"'not in {ref_entity}: ' || {text}",
            f"{text} <> '' AND {text} NOT IN (SELECT trim(CAST(r.{ident(ref_col)} AS VARCHAR)) "
            f"FROM {_staged(ref_entity)} AS r WHERE r._row_number NOT IN "
            f"(SELECT row_number FROM _q WHERE entity = {literal(ref_entity)}))",
        ))
    return rules


def _staged(entity_name: str) -> str:
    return ident(f"_in_{entity_name.replace('/', '_')}")


def _judged(entity: Entity) -> str:
    return ident(f"_judged_{entity.table}")


def _outside_bounds(col: Column, number: str) -> str:
    below = f"{number} < {col.minimum!r}" if col.minimum is not None else "false"
    above = f"{number} > {col.maximum!r}" if col.maximum is not None else "false"
    return f"({below} OR {above})"


# The latest date a column may hold: LATEST_YEARS after the median order date (NULL, so no
# bound, while no order date parses); computed once a load, in temp table _q_date_bound.
_LATEST_DATE = "SELECT latest FROM _q_date_bound"
_DATE_BOUND = (
    f"CREATE TEMP TABLE IF NOT EXISTS _q_date_bound AS SELECT CAST(quantile_disc(TRY_CAST("
    f"trim(CAST(r.{ident(DATE_REFERENCE[1])} AS VARCHAR)) AS DATE), 0.5) "
    f"+ INTERVAL {LATEST_YEARS} YEAR AS DATE) AS latest FROM {_staged(DATE_REFERENCE[0])} AS r"
)


def _judge_history(con: duckdb.DuckDBPyConnection, entity: Entity, column: str,
                   bound: HistoryBound) -> None:
    """Temp table `_judged_<table>`: each line's reference and whether it is implausible.

    The reference is the largest value of the same `bound.by` on an earlier `bound.date`,
    leaving out the lines already found implausible, and never below the file's median
    (positive) value. Passes repeat until no new line is found, so a second absurd line is
    judged against the sku's history, not against the first.
    """
    judged, staged = _judged(entity), _staged(entity.name)
    value = f"TRY_CAST(trim(CAST({ident(column)} AS VARCHAR)) AS DOUBLE)"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {judged} AS
            SELECT _row_number, trim(CAST({ident(bound.by)} AS VARCHAR)) AS by_key,
                   TRY_CAST(trim(CAST({ident(bound.date)} AS VARCHAR)) AS DATE) AS day,
                   {value} AS value, false AS implausible, NULL::DOUBLE AS reference
            FROM {staged} WHERE isfinite({value}) AND {value} >= 0"""
    )
    floor = con.execute(f"SELECT median(value) FILTER (WHERE value > 0) FROM {judged}"
                        ).fetchone()[0]
    if floor is None:
        return
    for _ in range(MAX_HISTORY_PASSES):
        found = con.execute(
            f"""UPDATE {judged} AS j SET implausible = true, reference = e.reference
                FROM (SELECT by_key, day, greatest(coalesce(max(top) OVER (
                             PARTITION BY by_key ORDER BY day
                             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0), $floor)
                             AS reference
                      FROM (SELECT by_key, day, max(value) FILTER (WHERE NOT implausible) AS top
                            FROM {judged} WHERE day IS NOT NULL GROUP BY ALL)) AS e
                WHERE j.by_key = e.by_key AND j.day = e.day AND NOT j.implausible
                  AND j.value > $multiple * e.reference""",
            {"floor": floor, "multiple": bound.multiple},
        ).fetchone()[0]
        if not found:
            return


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(literal(v) for v in values)


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
