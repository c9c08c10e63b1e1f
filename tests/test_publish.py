"""Publishing to the serving file and Parquet: real DuckDB files, real reader processes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from sop_pipeline.report.publish import (
    STORAGE_VERSION,
    PublishError,
    publish,
    read_manifest,
)
from sop_pipeline.tables import OUTPUT_TABLES

REPO = Path(__file__).resolve().parents[1]
DUCKDB1_DIR = REPO / ".duckdb1"
TABLES = ["orders", "order_totals"]


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse"


@pytest.fixture
def con(warehouse: Path):
    """The pipeline's working file, with orders and their totals (which must always agree)."""
    warehouse.mkdir()
    connection = duckdb.connect(str(warehouse / "sop.duckdb"))
    connection.execute(
        "CREATE TABLE orders (cycle_month DATE, order_id BIGINT, sku VARCHAR, qty BIGINT, "
        "price DOUBLE, urgent BOOLEAN)"
    )
    connection.execute("COMMENT ON TABLE orders IS 'Customer orders of the cycle.'")
    connection.execute("COMMENT ON COLUMN orders.qty IS 'Units ordered.'")
    connection.execute("CREATE TABLE order_totals (cycle_month DATE, orders BIGINT, qty BIGINT)")
    fill(connection, cycle_month="2024-03-01", orders=5)
    yield connection
    connection.close()


def fill(con: duckdb.DuckDBPyConnection, cycle_month: str, orders: int) -> None:
    """Replace both tables: `orders` rows, and the one total row that matches them."""
    con.execute("DELETE FROM orders")
    con.execute("DELETE FROM order_totals")
    con.execute(
        "INSERT INTO orders SELECT ?::DATE, i, 'SKU-' || (i % 7), i * 3 + 1, i * 1.5, i % 2 = 0 "
        "FROM range(?) AS r(i)",
        [cycle_month, orders],
    )
    con.execute(
        "INSERT INTO order_totals SELECT ?::DATE, count(*), coalesce(sum(qty), 0) FROM orders",
        [cycle_month],
    )


def test_publish_writes_serving_file_parquet_comments_and_manifest(con, warehouse):
    publication = publish(
        con, warehouse, TABLES,
        comments={"order_totals": ("One row: the totals of orders.", {"qty": "Sum of qty."})},
    )

    published = warehouse / "published"
    assert publication.serving_path == published / "sop_serving.duckdb"
    assert publication.parquet_dir == published / "parquet" / "current"
    assert publication.manifest_path == published / "manifest.json"
    assert publication.tables == {"orders": 5, "order_totals": 1}
    assert publication.views == {"latest_orders": "orders", "latest_order_totals": "order_totals"}
    assert publication.version == 1
    assert os.readlink(publication.parquet_dir) == "v000001"

    serving = duckdb.connect(str(publication.serving_path), read_only=True)
    reader = duckdb.connect()
    for table in TABLES:
        expected = con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
        assert serving.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall() == expected
        parquet = publication.parquet_dir / f"{table}.parquet"
        assert reader.execute(
            "SELECT * FROM read_parquet(?) ORDER BY ALL", [str(parquet)]
        ).fetchall() == expected
    assert serving.execute(
        "SELECT table_name, comment FROM duckdb_tables() ORDER BY 1"
    ).fetchall() == [
        ("order_totals", "One row: the totals of orders."),
        ("orders", "Customer orders of the cycle."),
    ]
    column_comments = serving.execute(
        "SELECT table_name, column_name, comment FROM duckdb_columns() "
        "WHERE comment IS NOT NULL ORDER BY 1, 2"
    ).fetchall()
    assert column_comments == [("latest_order_totals", "qty", "Sum of qty."),
                               ("latest_orders", "qty", "Units ordered."),
                               ("order_totals", "qty", "Sum of qty."),
                               ("orders", "qty", "Units ordered.")]
    assert serving.execute(
        "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal ORDER BY 1"
    ).fetchall() == [
        ("latest_order_totals",
         "The rows of order_totals of its newest cycle_month. One row: the totals of orders."),
        ("latest_orders",
         "The rows of orders of its newest cycle_month. Customer orders of the cycle."),
    ]
    serving.close()

    manifest = read_manifest(warehouse)
    assert manifest == json.loads(publication.manifest_path.read_text())
    assert manifest["version"] == 1
    assert manifest["storage_version"] == STORAGE_VERSION
    assert manifest["parquet_dir"] == "parquet/v000001"
    assert manifest["cycle_months"] == ["2024-03-01"]
    assert manifest["tables"] == {
        "orders": {"rows": 5, "cycle_months": ["2024-03-01"]},
        "order_totals": {"rows": 1, "cycle_months": ["2024-03-01"]},
    }
    assert manifest["views"] == {
        "latest_orders": {"table": "orders", "cycle_month": "2024-03-01", "rows": 5},
        "latest_order_totals": {"table": "order_totals", "cycle_month": "2024-03-01", "rows": 1},
    }
    assert manifest["published_at"].endswith("+00:00")
    assert sorted(p.name for p in published.iterdir()) == [
        "manifest.json", "parquet", "sop_serving.duckdb"]


def test_declared_tables_get_their_data_dictionary(con, warehouse):
    """A planning table created without comments still gets those of sop_pipeline.tables."""
    alerts = OUTPUT_TABLES["alerts"]
    con.execute(f"CREATE TABLE alerts ({', '.join(f'{n} {t}' for n, t, _ in alerts.columns)})")

    publication = publish(con, warehouse, ["alerts"])

    serving = duckdb.connect(str(publication.serving_path), read_only=True)
    table_comment = serving.execute(
        "SELECT comment FROM duckdb_tables() WHERE table_name = 'alerts'").fetchone()[0]
    assert table_comment.startswith(alerts.description)
    assert dict(serving.execute(
        "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'alerts'"
    ).fetchall()) == {name: text for name, _, text in alerts.columns}
    serving.close()
    manifest = read_manifest(warehouse)
    assert manifest["tables"]["alerts"] == {"rows": 0, "cycle_months": []}
    assert manifest["views"] == {
        "latest_alerts": {"table": "alerts", "cycle_month": None, "rows": 0}}


def add_cycle(con: duckdb.DuckDBPyConnection, cycle_month: str, orders: int) -> None:
    """Append a cycle's orders to those already in `orders` (the tables keep every cycle)."""
    con.execute(
        "INSERT INTO orders SELECT ?::DATE, 1000 + i, 'SKU-' || (i % 7), i + 1, i * 2.0, false "
        "FROM range(?) AS r(i)",
        [cycle_month, orders],
    )


def test_latest_views_hold_each_tables_newest_cycle_from_the_serving_file_alone(con, warehouse):
    add_cycle(con, "2024-04-01", orders=3)  # orders: 5 of March, 3 of April; totals: March
    publication = publish(con, warehouse, TABLES)
    con.close()  # and the working file deleted: the views must read the serving file only
    (warehouse / "sop.duckdb").unlink()

    # ATTACHed under another name, beside a same-named table of the default database.
    reader = duckdb.connect()
    reader.execute("CREATE TABLE orders AS SELECT DATE '2030-01-01' AS cycle_month")
    reader.execute(f"ATTACH '{publication.serving_path}' AS sop (READ_ONLY)")
    assert reader.execute(
        "SELECT cycle_month::VARCHAR, count(*) FROM sop.latest_orders GROUP BY 1"
    ).fetchall() == [("2024-04-01", 3)]
    assert reader.execute(
        "SELECT cycle_month::VARCHAR, orders FROM sop.latest_order_totals").fetchall() == [
        ("2024-03-01", 5)]  # each view takes its own table's newest cycle
    assert reader.execute(
        "SELECT sql FROM duckdb_views() WHERE view_name = 'latest_orders'").fetchone()[0] == (
        "CREATE VIEW latest_orders AS SELECT * FROM orders WHERE "
        "(cycle_month = (SELECT max(cycle_month) FROM orders));")
    assert read_manifest(warehouse)["views"]["latest_orders"] == {
        "table": "orders", "cycle_month": "2024-04-01", "rows": 3}


def test_latest_plan_views_show_the_adopted_plan_of_the_newest_cycle(con, warehouse):
    """A plan table publishes each cycle's adopted plan; its latest_ view the newest of them."""
    capacity = OUTPUT_TABLES["capacity_plan"]
    con.execute(
        f"CREATE TABLE capacity_plan ({', '.join(f'{n} {t}' for n, t, _ in capacity.columns)})")
    for cycle_month in ("2024-03-01", "2024-04-01"):
        for scenario in ("baseline", "overtime"):
            con.execute(
                "INSERT INTO capacity_plan (cycle_month, scenario, work_center_id, month) "
                "VALUES (?::DATE, ?, 'WC-1', ?::DATE)", [cycle_month, scenario, cycle_month])
    con.execute("CREATE TABLE plan_version (cycle_month DATE, scenario VARCHAR)")
    con.execute("INSERT INTO plan_version VALUES ('2024-04-01', 'overtime')")

    publication = publish(con, warehouse, ["capacity_plan", "plan_version"])

    serving = duckdb.connect(str(publication.serving_path), read_only=True)
    assert serving.execute(
        "SELECT cycle_month::VARCHAR, scenario FROM latest_capacity_plan").fetchall() == [
        ("2024-04-01", "overtime")]
    comment = serving.execute(
        "SELECT comment FROM duckdb_views() WHERE view_name = 'latest_capacity_plan'"
    ).fetchone()[0]
    assert comment.startswith("The latest adopted plan: the rows of capacity_plan of its "
                              "newest cycle_month, which hold that cycle's adopted plan")
    assert capacity.description in comment
    assert dict(serving.execute(
        "SELECT column_name, comment FROM duckdb_columns() "
        "WHERE table_name = 'latest_capacity_plan'").fetchall()) == {
        name: text for name, _, text in capacity.columns}
    serving.close()


def test_every_planning_table_gets_a_latest_view(con, warehouse):
    for declared in OUTPUT_TABLES.values():
        columns = ", ".join(f"{n} {t}" for n, t, _ in declared.columns)
        con.execute(f"CREATE TABLE {declared.name} ({columns})")

    publication = publish(con, warehouse, OUTPUT_TABLES)

    assert publication.views == {f"latest_{name}": name for name in OUTPUT_TABLES}
    serving = duckdb.connect(str(publication.serving_path), read_only=True)
    for view in publication.views:
        assert serving.execute(f"SELECT count(*) FROM {view}").fetchone() == (0,)
    serving.close()
    assert set(read_manifest(warehouse)["views"]) == set(publication.views)


def test_a_table_named_like_a_latest_view_is_refused(con, warehouse):
    con.execute("CREATE TABLE latest_orders AS SELECT * FROM orders")
    with pytest.raises(PublishError, match="latest_orders clash with the latest-cycle view"):
        publish(con, warehouse, [*TABLES, "latest_orders"])
    assert not (warehouse / "published").exists()


def test_republish_swaps_in_new_data_and_open_readers_keep_the_old(con, warehouse):
    first = publish(con, warehouse, TABLES)
    old_reader = duckdb.connect(str(first.serving_path), read_only=True)
    old_parquet_dir = first.parquet_dir.resolve()

    fill(con, cycle_month="2024-04-01", orders=9)
    second = publish(con, warehouse, TABLES)

    # DuckDB shares one instance per path within a process: a fresh instance sees the new file.
    fresh = duckdb.connect()
    fresh.execute(f"ATTACH '{second.serving_path}' AS serving (READ_ONLY)")
    assert fresh.execute("SELECT orders, qty FROM serving.order_totals").fetchone() == (9, 117)
    assert fresh.execute("SELECT count(*), sum(qty) FROM serving.orders").fetchone() == (9, 117)
    assert fresh.execute(
        "SELECT count(*) FROM read_parquet(?)", [str(second.parquet_dir / "orders.parquet")]
    ).fetchone() == (9,)

    # The connection opened before the swap reads the old file, whole and consistent.
    assert old_reader.execute("SELECT orders, qty FROM order_totals").fetchone() == (5, 35)
    assert old_reader.execute("SELECT count(*), sum(qty) FROM orders").fetchone() == (5, 35)
    assert old_reader.execute("SELECT DISTINCT cycle_month::VARCHAR FROM orders").fetchone() == (
        "2024-03-01",)
    old_reader.close()

    # The two newest Parquet versions are kept; the third publish drops the first.
    assert old_parquet_dir.exists()
    third = publish(con, warehouse, TABLES)
    parquet_root = warehouse / "published" / "parquet"
    assert sorted(p.name for p in parquet_root.iterdir()) == ["current", "v000002", "v000003"]
    assert third.version == 3
    assert read_manifest(warehouse)["cycle_months"] == ["2024-04-01"]


READER = textwrap.dedent("""
    import json, os, sys, time
    import duckdb

    serving, current, manifest, stop = sys.argv[1:5]
    reads, errors, seen = 0, [], set()
    parquet = duckdb.connect()
    print("ready", flush=True)
    deadline = time.monotonic() + 20
    while not os.path.exists(stop) and time.monotonic() < deadline:
        try:
            con = duckdb.connect(serving, read_only=True)
            try:
                rows, qty, total_rows, total_qty = con.execute(
                    "SELECT (SELECT count(*) FROM orders), (SELECT coalesce(sum(qty), 0) "
                    "FROM orders), orders, qty FROM order_totals").fetchone()
            finally:
                con.close()
            if (rows, qty) != (total_rows, total_qty):
                errors.append(f"serving file: orders {rows}, {qty} vs totals "
                              f"{total_rows}, {total_qty}")
            seen.add(total_rows)
            version_dir = os.path.realpath(current)  # one version for both files
            rows, qty = parquet.execute(
                "SELECT count(*), coalesce(sum(qty), 0) FROM read_parquet(?)",
                [os.path.join(version_dir, "orders.parquet")]).fetchone()
            total_rows, total_qty = parquet.execute(
                "SELECT orders, qty FROM read_parquet(?)",
                [os.path.join(version_dir, "order_totals.parquet")]).fetchone()
            if (rows, qty) != (total_rows, total_qty):
                errors.append(f"parquet {version_dir}: orders {rows}, {qty} vs totals "
                              f"{total_rows}, {total_qty}")
            with open(manifest) as handle:
                json.load(handle)["version"]
            reads += 1
        except Exception as error:
            errors.append(f"{type(error).__name__}: {error}")
    print(json.dumps({"reads": reads, "errors": errors[:10], "seen": sorted(seen)}))
""")


def test_reader_process_never_sees_a_partial_or_locked_publication(con, warehouse, tmp_path):
    first = publish(con, warehouse, TABLES)
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(first.serving_path), str(first.parquet_dir),
         str(first.manifest_path), str(stop)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "ready"
        publishes = 20
        for cycle in range(publishes):
            fill(con, cycle_month=f"2024-{cycle % 12 + 1:02d}-01", orders=(cycle * 37) % 150 + 1)
            publish(con, warehouse, TABLES)
            time.sleep(0.05)  # some reads per version; a Parquet version lives two publishes
        stop.touch()
        out, err = reader.communicate(timeout=30)
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    assert reader.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert report["errors"] == []
    assert report["reads"] >= 15
    assert len(report["seen"]) >= 5, report  # the reads really spanned several publishes
    assert read_manifest(warehouse)["version"] == publishes + 1


def _fingerprint(warehouse: Path) -> dict[str, str]:
    """Every file and link under published/, with a hash of each file's bytes."""
    published = warehouse / "published"
    found = {}
    for path in sorted(published.rglob("*")):
        key = str(path.relative_to(published))
        if path.is_symlink():
            found[key] = "-> " + os.readlink(path)
        elif path.is_file():
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def test_failed_publish_leaves_the_last_publication_byte_identical(con, warehouse):
    publish(con, warehouse, TABLES)
    before = _fingerprint(warehouse)
    manifest = read_manifest(warehouse)
    fill(con, cycle_month="2024-05-01", orders=3)

    with pytest.raises(PublishError, match="forecast_accuracy"):
        publish(con, warehouse, [*TABLES, "forecast_accuracy"])
    assert _fingerprint(warehouse) == before
    assert read_manifest(warehouse) == manifest

    # A failure while writing (after the temporary files exist) cleans them up as well.
    con.execute("CREATE VIEW broken AS SELECT CAST(sku AS INTEGER) AS sku_number FROM orders")
    with pytest.raises(duckdb.ConversionException, match="SKU-"):
        publish(con, warehouse, [*TABLES, "broken"])
    assert _fingerprint(warehouse) == before
    assert read_manifest(warehouse) == manifest

    # The pipeline's connection is still fine, and the next publish goes through.
    assert publish(con, warehouse, TABLES).tables == {"orders": 3, "order_totals": 1}
    assert read_manifest(warehouse)["version"] == 2


def test_types_an_old_reader_cannot_read_are_refused(con, warehouse):
    con.execute("CREATE TABLE big AS SELECT 12345678901234567890123::BIGNUM AS n")
    with pytest.raises(PublishError, match=r"big\.n BIGNUM"):
        publish(con, warehouse, ["big"])
    assert not (warehouse / "published").exists()


def test_read_manifest_before_the_first_publish(warehouse):
    assert read_manifest(warehouse) is None


DUCKDB1_READER = textwrap.dedent("""
    import json, sys
    import duckdb

    serving, current = sys.argv[1:3]
    con = duckdb.connect(serving, read_only=True)
    attached = duckdb.connect()
    attached.execute(f"ATTACH '{serving}' AS sop (READ_ONLY)")
    print(json.dumps({
        "version": duckdb.__version__,
        "latest_alerts": con.execute(
            "SELECT cycle_month::VARCHAR, entity FROM latest_alerts ORDER BY ALL").fetchall(),
        "attached_latest_alerts": attached.execute(
            "SELECT count(*) FROM sop.latest_alerts").fetchone()[0],
        "view_comment": con.execute(
            "SELECT comment FROM duckdb_views() WHERE view_name = 'latest_alerts'").fetchone()[0],
        "view_column_comment": con.execute(
            "SELECT comment FROM duckdb_columns() WHERE table_name = 'latest_alerts' "
            "AND column_name = 'entity'").fetchone()[0],
        "totals": con.execute("SELECT orders, qty FROM order_totals").fetchone(),
        "orders": con.execute("SELECT count(*), sum(qty) FROM orders").fetchone(),
        "comment": con.execute(
            "SELECT comment FROM duckdb_tables() WHERE table_name = 'orders'").fetchone()[0],
        "parquet": con.execute(
            "SELECT count(*) FROM read_parquet(?)", [current + "/orders.parquet"]).fetchone()[0],
    }))
""")


def test_a_duckdb_1x_client_opens_the_serving_file(con, warehouse):
    if not (DUCKDB1_DIR / "duckdb").is_dir():
        reason = f"{DUCKDB1_DIR} is missing: run scripts/install_duckdb1.sh (make install)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    alerts = OUTPUT_TABLES["alerts"]
    con.execute(f"CREATE TABLE alerts ({', '.join(f'{n} {t}' for n, t, _ in alerts.columns)})")
    con.execute(
        "INSERT INTO alerts (cycle_month, kind, entity) VALUES "
        "('2024-02-01', 'stockout', 'SKU-1'), ('2024-03-01', 'stockout', 'SKU-2'), "
        "('2024-03-01', 'capacity', 'WC-1')")
    publication = publish(con, warehouse, [*TABLES, "alerts"])

    result = subprocess.run(
        [sys.executable, "-c", DUCKDB1_READER, str(publication.serving_path),
         str(publication.parquet_dir)],
        env={**os.environ, "PYTHONPATH": str(DUCKDB1_DIR)},
        capture_output=True, text=True, timeout=60,
    )

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["version"].startswith("1."), report
    assert report["totals"] == [5, 35]
    assert report["orders"] == [5, 35]
    assert report["comment"] == "Customer orders of the cycle."
    assert report["parquet"] == 5
    assert report["latest_alerts"] == [["2024-03-01", "SKU-2"], ["2024-03-01", "WC-1"]]
    assert report["attached_latest_alerts"] == 2  # DuckDB 1.2+ resolves in the attached file
    assert report["view_comment"].startswith("The rows of alerts of its newest cycle_month.")
    assert report["view_column_comment"] == {
        name: text for name, _, text in alerts.columns}["entity"]
