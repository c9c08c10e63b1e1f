"""Tests run in their own folders: no developer's Dagster home or extract settings leak in.

The dbt manifest is prepared once per session, as `make prepare` does, before any test imports
the Dagster code location (`assets.dbt` reads the manifest when it is imported).
"""

import pytest

from assets.project import prepare_dbt_project


@pytest.fixture(autouse=True, scope="session")
def _isolated_environment():
    with pytest.MonkeyPatch.context() as patch:
        for name in ("DAGSTER_HOME", "SOP_EXTRACTS_DIR", "SOP_WAREHOUSE_DIR", "SOP_FIRST_CYCLE"):
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(autouse=True, scope="session")
def _dbt_manifest():
    prepare_dbt_project()
