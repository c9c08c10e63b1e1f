"""The README's contract and data dictionary are generated from the declarations."""

from sop_pipeline.ingest.contract import ENTITIES
from sop_pipeline.report import docs
from sop_pipeline.tables import OUTPUT_TABLES


def test_readme_reference_sections_match_the_declarations():
    readme = docs.README.read_text()
    assert docs.render(readme) == readme, "run: python -m sop_pipeline.report.docs"


def test_every_contract_file_and_output_column_is_documented():
    readme = docs.README.read_text()
    for entity in ENTITIES:
        assert f"#### `{entity.name}`" in readme
        assert all(c.description and c.example is not None for c in entity.columns)
    for table in OUTPUT_TABLES.values():
        assert f"#### `{table.name}`" in readme
        assert all(len(description) > 10 for _, _, description in table.columns)
