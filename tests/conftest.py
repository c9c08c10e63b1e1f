"""Tests run in their own folders: no developer's Dagster home or extract settings leak in.

The dbt manifest is prepared once per session, as `make prepare` does, before any test imports
the Dagster code location (`assets.dbt` reads the manifest when it is imported).
"""

import pandas as pd
import pytest

from assets.project import prepare_dbt_project

# The cycles the shared `company` runs; its warehouse is read by several test modules.
COMPANY_CYCLES = [pd.Timestamp("2026-08-01"), pd.Timestamp("2026-09-01"),
                  pd.Timestamp("2026-10-01")]


@pytest.fixture(autouse=True, scope="session")
def _isolated_environment():
    with pytest.MonkeyPatch.context() as patch:
        for name in ("DAGSTER_HOME", "SOP_EXTRACTS_DIR", "SOP_WAREHOUSE_DIR", "SOP_FIRST_CYCLE"):
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(autouse=True, scope="session")
def _dbt_manifest():
    prepare_dbt_project()


@pytest.fixture(scope="session")
def company(tmp_path_factory):
    """(extracts, warehouse) of a small demo company run through the real Dagster job for
    COMPANY_CYCLES, once per session."""
    from sop_pipeline.cli import run_cycles
    from sop_pipeline.demo import generate_company

    root = tmp_path_factory.mktemp("company")
    extracts, warehouse = root / "extracts", root / "warehouse"
    generate_company(extracts, skus=6, locations=2, years=3, seed=3, end_month="2026-09")
    assert run_cycles(COMPANY_CYCLES, extracts, warehouse)
    return extracts, warehouse
