"""`sop run` with the CRM pulled from a replay of Pipedrive on the loopback: the consensus uses
the pulled pipeline exactly as it uses the same deals from the extract files, a refused token
fails the run and changes nothing, and the token shows nowhere (output, logs, run storage,
warehouse tables and files)."""

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from sop_pipeline.cli import main
from sop_pipeline.ingest.pipedrive_replay import ReplayCrm, serve
from sop_pipeline.warehouse import database_path
from tests.pipedrive_replay import TOKEN

ROOT = Path(__file__).resolve().parent.parent
CYCLE = "2026-10"


def _pipeline(warehouse):
    with duckdb.connect(str(database_path(warehouse)), read_only=True) as con:
        return con.execute(
            "SELECT sku, location_id, month, crm_pipeline_qty FROM main.consensus_demand "
            "WHERE cycle_month = ? ORDER BY ALL", [f"{CYCLE}-01"]).df()


def _crm_rows(warehouse):
    with duckdb.connect(str(database_path(warehouse)), read_only=True) as con:
        return con.execute("SELECT * EXCLUDE (_loaded_at) FROM raw.crm_deals ORDER BY ALL").df()


@pytest.fixture(scope="module")
def pulled_run(company, tmp_path_factory):
    """`sop run --cycle 2026-10` of the shared company with its CRM served by the replay
    server (the demo-crm-server's) instead of read from crm/*.csv."""
    extracts, _ = company
    root = tmp_path_factory.mktemp("pulled_run")
    dagster_home, warehouse = root / "dagster_home", root / "warehouse"
    dagster_home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    crm = ReplayCrm.from_extracts(extracts, token=TOKEN)
    server = serve(crm, port=0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(dagster_home))
        patch.setenv("PIPEDRIVE_API_TOKEN", TOKEN)
        patch.setenv("PIPEDRIVE_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}")
        patch.setenv("PIPEDRIVE_MAX_ATTEMPTS", "2")
        patch.setenv("PIPEDRIVE_BACKOFF_SECONDS", "0.01")
        yield {"extracts": extracts, "warehouse": warehouse, "dagster_home": dagster_home,
               "crm": crm, "patch": patch}
    server.shutdown()


def test_sop_run_plans_with_the_pulled_pipeline(pulled_run, company, capsys):
    extracts, file_warehouse = company
    warehouse = pulled_run["warehouse"]
    assert main(["run", "--extracts", str(extracts), "--warehouse", str(warehouse),
                 "--cycle", CYCLE]) == 0
    out, err = capsys.readouterr()
    assert "CRM: " in out and "deal rows from the pipedrive http://127.0.0.1:" in out
    assert any(r.startswith("/api/v2/deals?") for r in pulled_run["crm"].requests)

    pulled, from_files = _pipeline(warehouse), _pipeline(file_warehouse)
    assert pulled["crm_pipeline_qty"].sum() > 0
    pd.testing.assert_frame_equal(pulled, from_files)
    _assert_token_nowhere([out, err], pulled_run, warehouse)


def test_a_refused_token_fails_the_run_and_keeps_the_last_good_crm(pulled_run, capsys):
    warehouse = pulled_run["warehouse"]
    before_pipeline, before_crm = _pipeline(warehouse), _crm_rows(warehouse)
    pulled_run["crm"].token = "the-token-changed-in-pipedrive"
    try:
        assert main(["run", "--extracts", str(pulled_run["extracts"]), "--warehouse",
                     str(warehouse), "--cycle", CYCLE]) == 1
    finally:
        pulled_run["crm"].token = TOKEN
    out, err = capsys.readouterr()
    assert "refused the API token (HTTP 401" in err and "PIPEDRIVE_API_TOKEN" in err
    assert "last good CRM data stays" in err
    pd.testing.assert_frame_equal(_pipeline(warehouse), before_pipeline)
    pd.testing.assert_frame_equal(_crm_rows(warehouse), before_crm)
    _assert_token_nowhere([out, err], pulled_run, warehouse)


def _assert_token_nowhere(texts, pulled_run, warehouse):
    """Not in what was printed, in any file of the warehouse (DuckDB file, dlt's folder, run
    log, publication) or of DAGSTER_HOME (run and event storage), nor in any text column."""
    secret = TOKEN.encode()
    assert all(TOKEN not in text for text in texts)
    for folder in (warehouse, pulled_run["dagster_home"]):
        files = [p for p in folder.rglob("*") if p.is_file()]
        assert files
        leaked = [str(p) for p in files if secret in p.read_bytes()]
        assert not leaked
    with duckdb.connect(str(database_path(warehouse)), read_only=True) as con:
        columns = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR'").fetchall()
        assert any(schema == "raw_crm" for schema, _, _ in columns)
        for schema, table, column in columns:
            hits = con.execute(f'SELECT count(*) FROM "{schema}"."{table}" '
                               f'WHERE "{column}" LIKE ?', [f"%{TOKEN}%"]).fetchone()[0]
            assert hits == 0, f"{schema}.{table}.{column}"
