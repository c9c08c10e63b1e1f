"""Tests run in their own folders: no developer's Dagster home or extract settings leak in."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def _isolated_environment():
    with pytest.MonkeyPatch.context() as patch:
        for name in ("DAGSTER_HOME", "SOP_EXTRACTS_DIR", "SOP_WAREHOUSE_DIR", "SOP_FIRST_CYCLE"):
            patch.delenv(name, raising=False)
        yield
