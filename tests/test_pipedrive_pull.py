"""The Pipedrive pull against a replay of the API on the loopback (pytest-httpserver): real
dlt pipeline, real DuckDB, real HTTP; nothing reaches the network."""

import json
import re
import socket
import threading
import time
import urllib.request

import duckdb
import pytest

from sop_pipeline.cli import main
from sop_pipeline.demo import generate_company
from sop_pipeline.ingest.landing import land_extracts
from sop_pipeline.ingest.pipedrive import PipedriveError, PipedriveSettings, pull
from sop_pipeline.ingest.pipedrive_map import contract_frames
from sop_pipeline.ingest.pipedrive_replay import DEMO_TOKEN, ReplayCrm
from sop_pipeline.warehouse import connect, database_path
from tests.pipedrive_replay import TOKEN, serve_replay, settings_for


@pytest.fixture(scope="module")
def extracts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pd_extracts")
    generate_company(folder, skus=12, locations=2, years=2, seed=5, end_month="2026-09")
    return folder


@pytest.fixture
def crm(extracts):
    return ReplayCrm.from_extracts(extracts, token=TOKEN)


def _rows(warehouse, sql):
    with duckdb.connect(str(database_path(warehouse)), read_only=True) as con:
        return con.execute(sql).fetchall()


def _deal_requests(crm):
    return [r for r in crm.requests if r.startswith("/api/v2/deals?")]


def test_pull_lands_every_table_page_by_page(httpserver, crm, tmp_path):
    serve_replay(httpserver, crm)
    summary = pull(settings_for(httpserver), tmp_path)
    assert summary["rows"]["deals"] == len(crm.deals) > 3  # more than one page of 3
    assert summary["rows"]["deal_products"] == len(crm.deal_products)
    assert summary["rows"]["products"] == len(crm.products)
    assert len(_deal_requests(crm)) == -(-len(crm.deals) // 3)
    assert any("cursor=c3" in r for r in _deal_requests(crm))
    tables = {t for (t,) in _rows(tmp_path, "SELECT table_name FROM duckdb_tables() "
                                            "WHERE schema_name = 'raw_crm'")}
    assert {"pipelines", "stages", "products", "organizations", "deals", "deal_products",
            "_dlt_loads"} <= tables
    assert _rows(tmp_path, "SELECT DISTINCT _dlt_load_id FROM raw_crm.deals") == [
        (summary["load_id"],)]
    assert _rows(tmp_path, "SELECT count(*) FROM raw_crm._dlt_loads") == [(1,)]


def test_a_429_and_a_503_are_retried_then_the_pull_succeeds(httpserver, crm, tmp_path):
    httpserver.expect_oneshot_request("/api/v2/stages").respond_with_json(
        {"success": False, "error": "Too many requests"}, status=429,
        headers={"Retry-After": "0"})
    httpserver.expect_oneshot_request("/api/v2/products").respond_with_data(
        "<html>Service Unavailable</html>", status=503)
    serve_replay(httpserver, crm)
    summary = pull(settings_for(httpserver), tmp_path)
    assert summary["rows"]["stages"] == len(crm.stages)
    assert summary["rows"]["products"] == len(crm.products)
    # the 429 and the 503 were answered first, by the one-shot answers
    assert crm.requests.count("/api/v2/stages?limit=3") == 1
    assert crm.requests.count("/api/v2/products?limit=3") == 1
    assert len(httpserver.log) == len(crm.requests) + 2


def test_a_wrong_token_fails_naming_the_setting_and_changes_nothing(httpserver, crm, tmp_path):
    serve_replay(httpserver, crm)
    pull(settings_for(httpserver), tmp_path)
    before = _rows(tmp_path, "SELECT id, _dlt_load_id FROM raw_crm.deals ORDER BY id")
    with pytest.raises(PipedriveError) as failure:
        pull(settings_for(httpserver, token="wrong-token-0000"), tmp_path)
    message = str(failure.value)
    assert "HTTP 401" in message and "PIPEDRIVE_API_TOKEN" in message
    assert "last good CRM data stays" in message and "wrong-token-0000" not in message
    assert _rows(tmp_path, "SELECT id, _dlt_load_id FROM raw_crm.deals ORDER BY id") == before


def test_an_unreachable_host_fails_after_the_retries(tmp_path):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = PipedriveSettings(base_url=f"http://127.0.0.1:{port}", token=TOKEN,
                                 max_attempts=2, backoff_seconds=0.01, max_retry_delay=0.02)
    with pytest.raises(PipedriveError, match="could not be reached after 2 attempts") as failure:
        pull(settings, tmp_path)
    assert "PIPEDRIVE_BASE_URL" in str(failure.value)


def test_a_malformed_page_is_quarantined_not_guessed(httpserver, crm, tmp_path):
    serve_replay(httpserver, crm)
    pull(settings_for(httpserver), tmp_path)
    before = _rows(tmp_path, "SELECT id, _dlt_load_id FROM raw_crm.deals ORDER BY id")
    httpserver.clear()
    httpserver.expect_oneshot_request("/api/v2/deals").respond_with_json(
        {"success": True, "data": {"id": 1, "title": "not a list"}})
    serve_replay(httpserver, crm)
    with pytest.raises(PipedriveError, match=r"malformed \(no 'data' list\)"):
        pull(settings_for(httpserver), tmp_path)
    assert _rows(tmp_path, "SELECT path, reason FROM raw_crm.malformed_pages") == [
        ("/api/v2/deals", "no 'data' list")]
    assert _rows(tmp_path, "SELECT id, _dlt_load_id FROM raw_crm.deals ORDER BY id") == before


def _land(extracts, warehouse):
    with connect(warehouse) as con:
        report = land_extracts(con, extracts, pulled=contract_frames(con, "pipedrive (test)"))
        deals = con.execute("SELECT * FROM raw.crm_deals ORDER BY _row_number").df()
        quarantine = con.execute(
            "SELECT rule, reason FROM raw.quarantine WHERE entity = 'crm/deals'").fetchall()
    return report, deals, quarantine


def test_products_deletions_and_unknown_skus_map_to_the_contract(httpserver, crm, extracts,
                                                                 tmp_path):
    one, two, three, four = crm.deals[:4]
    line = next(p for p in crm.deal_products if p["deal_id"] == one["id"])
    crm.deal_products.append({**line, "id": 9001, "product_id": crm.products[-1]["id"],
                              "quantity": 7.0, "sum": 70.0})  # a deal with two products
    crm.deal_products[:] = [p for p in crm.deal_products if p["deal_id"] != two["id"]]
    three.update(is_deleted=True)  # a deleted deal
    crm.products.append({"id": 999, "name": "Not in the ERP", "code": "NOPE-1",
                         "is_deleted": False, "update_time": "2020-01-01T00:00:00Z"})
    next(p for p in crm.deal_products if p["deal_id"] == four["id"])["product_id"] = 999
    serve_replay(httpserver, crm)
    pull(settings_for(httpserver), tmp_path)
    report, deals, quarantine = _land(extracts, tmp_path)

    load = next(e for e in report.entities if e.entity == "crm/deals")
    assert load.source_file == "pipedrive (test)"
    # one row per product line: the deal with two products gives two keyed rows
    ids = list(deals["deal_id"])
    assert [i for i in ids if i.startswith(f"PD-{one['id']}-")] == [
        f"PD-{one['id']}-{line['id']}", f"PD-{one['id']}-9001"]
    assert f"PD-{two['id']}" in ids  # kept, and quarantined below
    assert not any(i.startswith(f"PD-{three['id']}") for i in ids)  # deleted: gone
    assert len(ids) == len(set(ids)) == len(crm.deals) - 1 + 1
    row = deals[deals["deal_id"] == f"PD-{one['id']}-9001"].iloc[0]
    assert (row["sku"], float(row["quantity"]), float(row["amount"])) == (
        crm.products[-2]["code"], 7.0, 70.0)
    reasons = dict(quarantine)
    assert reasons["missing_value"] == f"no value (pipedrive deal {two['id']} (no products))"
    assert reasons["unknown_sku"].startswith("not in erp/items: NOPE-1 (pipedrive deal "
                                             f"{four['id']}, deal-product ")
    assert "product 999 code NOPE-1" in reasons["unknown_sku"]


def test_probability_from_the_deal_else_its_stage(httpserver, crm, extracts, tmp_path):
    crm.deals[0].update(probability=None, stage_id=3, status="open")  # stage 'proposal': 50 %
    crm.deals[1].update(probability=35, status="open")
    serve_replay(httpserver, crm)
    pull(settings_for(httpserver), tmp_path)
    _, deals, _ = _land(extracts, tmp_path)
    first, second = (deals[deals["deal_id"].str.startswith(f"PD-{d['id']}-")].iloc[0]
                     for d in crm.deals[:2])
    assert (first["stage"], float(first["probability"])) == ("proposal", 0.5)
    assert float(second["probability"]) == 0.35


def test_the_second_pull_fetches_only_the_changed_deals(httpserver, crm, extracts, tmp_path):
    serve_replay(httpserver, crm)
    first = pull(settings_for(httpserver), tmp_path)
    latest = max(d["update_time"] for d in crm.deals)
    changed, deleted = crm.deals[1], crm.deals[2]
    changed.update(update_time="2026-11-02T10:00:00Z", status="open")
    deleted.update(update_time="2026-11-03T09:00:00Z", is_deleted=True)
    line = next(p for p in crm.deal_products if p["deal_id"] == changed["id"])
    line.update(quantity=123.0)
    crm.requests.clear()
    second = pull(settings_for(httpserver), tmp_path)

    assert all(f"updated_since={latest}" in r for r in _deal_requests(crm))
    assert [r for r in crm.requests if r.startswith("/api/v2/deals/products")] == [
        f"/api/v2/deals/products?limit=3&deal_ids={changed['id']}&sort_by=deal_id"]
    loaded = _rows(tmp_path, f"SELECT id FROM raw_crm.deals WHERE _dlt_load_id = "
                             f"'{second['load_id']}' ORDER BY id")
    assert loaded == [(changed["id"],), (deleted["id"],)]
    assert first["load_id"] != second["load_id"]
    _, deals, _ = _land(extracts, tmp_path)
    assert not any(i.startswith(f"PD-{deleted['id']}-") for i in deals["deal_id"])
    row = deals[deals["deal_id"] == f"PD-{changed['id']}-{line['id']}"].iloc[0]
    assert float(row["quantity"]) == 123.0
    assert len(deals) == len(crm.deals) - 1


def test_sop_demo_crm_server_serves_a_company_on_the_loopback(extracts, capsys):
    done = {}
    thread = threading.Thread(target=lambda: done.update(code=main([
        "demo-crm-server", "--extracts", str(extracts), "--port", "0", "--seconds", "3"])))
    thread.start()
    for _ in range(100):
        if "PIPEDRIVE_BASE_URL=" in (out := capsys.readouterr().out):
            break
        time.sleep(0.03)
    url = re.search(r"PIPEDRIVE_BASE_URL=(http://127\.0\.0\.1:\d+)", out).group(1)
    assert f"PIPEDRIVE_API_TOKEN={DEMO_TOKEN}" in out
    request = urllib.request.Request(f"{url}/api/v2/deals?limit=2",
                                     headers={"x-api-token": DEMO_TOKEN})
    with urllib.request.urlopen(request, timeout=5) as response:
        body = json.load(response)
    assert body["success"] and len(body["data"]) == 2
    assert body["additional_data"]["next_cursor"] == "c2"
    thread.join(timeout=10)
    assert done == {"code": 0}


def test_the_dagster_assets_pull_incrementally_between_runs(httpserver, crm, tmp_path,
                                                             monkeypatch):
    from dagster import materialize
    from dagster_dlt import DagsterDltResource

    from assets.crm import build_pipedrive_assets
    from assets.resources import SopSettings

    serve_replay(httpserver, crm)
    monkeypatch.setenv("PIPEDRIVE_API_TOKEN", TOKEN)
    monkeypatch.setenv("PIPEDRIVE_BASE_URL", httpserver.url_for("").rstrip("/"))
    pipedrive_crm = build_pipedrive_assets(tmp_path)
    resources = {"dlt": DagsterDltResource(), "sop": SopSettings(warehouse_dir=str(tmp_path))}
    first = materialize([pipedrive_crm], resources=resources)
    assert {e.asset_key.to_user_string() for e in first.get_asset_materialization_events()
            } == {f"raw_crm/{name}" for name in ("pipelines", "stages", "products", "organizations",
                                       "deals", "deal_products")}
    crm.deals[0].update(update_time="2026-11-05T08:00:00Z")
    crm.requests.clear()
    assert materialize([pipedrive_crm], resources=resources).success
    loads = _rows(tmp_path, "SELECT load_id FROM raw_crm._dlt_loads ORDER BY inserted_at")
    assert len(loads) == 2
    assert _rows(tmp_path, f"SELECT id FROM raw_crm.deals WHERE _dlt_load_id = '{loads[1][0]}'"
                 ) == [(crm.deals[0]["id"],)]
