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
def _isolated_environment(tmp_path_factory):
    """No developer's settings leak in; dlt keeps its global folder in the session's tmp and
    reports nothing (the Pipedrive pull's tests reach only a replay server on 127.0.0.1)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("DAGSTER_HOME", "SOP_EXTRACTS_DIR", "SOP_WAREHOUSE_DIR", "SOP_FIRST_CYCLE",
                     "PIPEDRIVE_API_TOKEN", "PIPEDRIVE_COMPANY_DOMAIN", "PIPEDRIVE_BASE_URL"):
            patch.delenv(name, raising=False)
        patch.setenv("DLT_DATA_DIR", str(tmp_path_factory.mktemp("dlt_data")))
        patch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
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
