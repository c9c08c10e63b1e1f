"""The dbt sources of the raw layer, rendered from the extract contract.

`python -m sop_pipeline.ingest.dbt_sources` rewrites dbt_project/models/staging/_sources.yml; a
test fails when the checked-in file and the contract disagree. What the contract does not
declare (the load metadata columns, `raw.quarantine`, `raw.load_log`) is described here.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from sop_pipeline.ingest.contract import ENTITIES, Column, Entity
from sop_pipeline.ingest.landing import META_COLUMNS

SOURCES_YML = Path(__file__).resolve().parents[2] / "dbt_project/models/staging/_sources.yml"
COMMAND = "python -m sop_pipeline.ingest.dbt_sources"
WIDTH = 100

HEADER = f"""\
# Generated from sop_pipeline/ingest/contract.py by `{COMMAND}`:
# do not edit, change the contract and regenerate (tests/test_dbt_sources.py checks it).
# Raw extracts as landed by sop_pipeline.ingest.landing, one table per contract entity, plus
# the quarantine and the load log."""

SOURCE_DESCRIPTION = (
    "Extract files landed untouched in DuckDB: every contract column (VARCHAR from CSV, "
    "possibly typed from Parquet), any extra column the source sent, and load metadata "
    "(_row_number, _source_file, _file_hash, _loaded_at). Rows that broke a row-level contract "
    "rule stay here and are listed in raw.quarantine; staging leaves them out."
)

META_DESCRIPTIONS = {
    "_row_number": "1-based row number in the extract file; quarantine.row_number refers to it.",
    "_source_file": "Path of the extract file the row came from.",
    "_file_hash": "Hash of the extract file content.",
    "_loaded_at": "When the file was loaded.",
}

# The tables landing writes beside the entities: name -> (description, column descriptions).
LOG_TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "quarantine": (
        "Raw rows that broke a row-level contract rule (unparsable date or number, negative "
        "value, value not allowed or out of its bounds, date out of range, implausible order "
        "quantity, duplicate key, unknown sku or location), one row per broken rule. Staging "
        "models exclude every (entity, row_number) listed here.",
        {
            "entity": "Contract entity name, e.g. erp/items.",
            "row_number": "The _row_number of the quarantined raw row in the entity's table.",
            "column_name": "Column (or key columns) the rule checked.",
            "rule": "Contract rule that was broken.",
            "reason": "Human-readable reason.",
            "value": "The offending value as text.",
            "record": "The whole raw row as JSON.",
            "source_file": "Extract file the row came from.",
            "load_id": "Load that quarantined the row (raw.load_log.load_id).",
            "quarantined_at": "When the row was quarantined.",
        },
    ),
    "load_log": (
        "One row per entity per load attempt: status (loaded, absent, rejected, not_loaded), "
        "file, hash, row and quarantine counts, and the problems found.",
        {
            "load_id": "Load attempt.",
            "entity": "Contract entity name, e.g. erp/items.",
            "status": "loaded, absent (optional file missing), rejected or not_loaded.",
            "source_file": "Extract file read, if any.",
            "file_hash": "Hash of the extract file.",
            "rows": "Rows in the file.",
            "quarantined": "Rows quarantined.",
            "message": "Problems found, one per line.",
            "loaded_at": "When the load ran.",
        },
    ),
}


def table_description(entity: Entity) -> str:
    """The entity's description, whether its file is required, and its key."""
    need = "required" if entity.required else "optional (an empty table when the file is absent)"
    need += ", used whole (a row breaking a rule refuses the file)" if entity.whole else ""
    return (f"{entity.description} Contract entity `{entity.name}`, {need}; "
            f"key ({', '.join(entity.key)}).")


def column_description(column: Column) -> str:
    """The column's description with the contract rules dbt docs readers need, and its type."""
    notes = " (may be empty)" if column.nullable else ""
    if column.allowed:
        notes += f" (allowed: {', '.join(column.allowed)})"
    if column.bounds_text():
        notes += f" ({column.bounds_text()})"
    if column.history:
        notes += f" ({column.history.text()})"
    return f"{column.description}{notes} [{column.kind}]"


def render() -> str:
    """The `_sources.yml` text: source `raw`, one table per contract entity, then the logs."""
    lines = [HEADER, "version: 2", "", "sources:", "  - name: raw", "    schema: raw",
             *_description(SOURCE_DESCRIPTION, 4), "    tables:"]
    meta = [(name, META_DESCRIPTIONS[name]) for name in META_COLUMNS]
    for entity in ENTITIES:
        lines += [f"      - name: {entity.table}", *_description(table_description(entity), 8),
                  "        config:", "          meta:",
                  f"            contract_entity: {entity.name}"]
        lines += _columns([(c.name, column_description(c)) for c in entity.columns] + meta)
    for name, (description, columns) in LOG_TABLES.items():
        lines += [f"      - name: {name}", *_description(description, 8)]
        lines += _columns(list(columns.items()))
    return "\n".join(lines) + "\n"


def _columns(columns: list[tuple[str, str]]) -> list[str]:
    lines = ["        columns:"]
    for name, description in columns:
        lines += [f"          - name: {name}", *_description(description, 12)]
    return lines


def _description(text: str, indent: int) -> list[str]:
    """`description:` as one quoted line when it fits the width, else folded (`>-`) to it."""
    pad = " " * indent
    line = f"{pad}description: {json.dumps(text, ensure_ascii=False)}"
    if len(line) <= WIDTH:
        return [line]
    body = textwrap.wrap(text, WIDTH, initial_indent=pad + "  ", subsequent_indent=pad + "  ",
                         break_long_words=False, break_on_hyphens=False)
    return [f"{pad}description: >-", *body]


if __name__ == "__main__":
    SOURCES_YML.write_text(render())
