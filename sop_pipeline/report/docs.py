"""The README's reference sections, rendered from the contract and table declarations.

`python -m sop_pipeline.report.docs` rewrites the marked sections of README.md; a test fails when
the README and the declarations disagree.
"""

from __future__ import annotations

import re
from pathlib import Path

from sop_pipeline.ingest.contract import DATE_RANGE_TEXT, ENTITIES
from sop_pipeline.tables import OUTPUT_TABLES

README = Path(__file__).resolve().parents[2] / "README.md"


def contract_markdown() -> str:
    parts = [DATE_RANGE_TEXT + " A file marked *used whole* is refused when any of its rows "
             "breaks a rule; other files have such rows quarantined."]
    for entity in ENTITIES:
        need = "required" if entity.required else "optional"
        need += ", used whole" if entity.whole else ""
        parts.append(
            f"#### `{entity.name}` ({need}; key: {', '.join(entity.key)})\n\n"
            f"{entity.description}\n\n| column | type | rules | description | example |\n"
            "|---|---|---|---|---|"
        )
        for col in entity.columns:
            rules = [("nullable" if col.nullable else "not null")]
            if not col.required:
                rules.append("column optional")
            if col.nonnegative:
                rules.append(">= 0")
            if col.positive:
                rules.append("> 0")
            if col.bounds_text():
                rules.append(col.bounds_text())
            if col.history:
                rules.append(col.history.text())
            if col.allowed:
                rules.append("one of " + "/".join(col.allowed))
            if col.name in entity.references:
                rules.append("must exist in " + entity.references[col.name][0])
            parts[-1] += (f"\n| `{col.name}` | {col.kind} | {', '.join(rules)} | "
                          f"{col.description} | `{col.example}` |")
    return "\n\n".join(parts)


def output_tables_markdown() -> str:
    parts = []
    for table in OUTPUT_TABLES.values():
        rows = "\n".join(f"| `{name}` | {sql_type} | {text} |"
                         for name, sql_type, text in table.columns)
        parts.append(
            f"#### `{table.name}`\n\n{table.description} Grain: {', '.join(table.grain)}.\n\n"
            f"| column | type | description |\n|---|---|---|\n{rows}"
        )
    return "\n\n".join(parts)


SECTIONS = {"contract": contract_markdown, "output-tables": output_tables_markdown}


def render(readme: str) -> str:
    """README text with every `<!-- BEGIN name -->…<!-- END name -->` section regenerated."""
    for name, build in SECTIONS.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", re.S)
        readme = pattern.sub(lambda m, b=build: m.group(1) + b() + "\n" + m.group(2), readme)
    return readme


if __name__ == "__main__":
    README.write_text(render(README.read_text()))
