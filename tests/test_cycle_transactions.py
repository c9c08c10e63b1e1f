"""A failed cycle leaves no trace: its rows are rolled back, the pack and the publication stay
as they were, and one run at a time holds a warehouse (sop_pipeline.runs)."""

from __future__ import annotations

import errno
import hashlib
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from sop_pipeline import warehouse as wh
from sop_pipeline.cli import BUSY, main, run_cycles
from sop_pipeline.demo import generate_company
from sop_pipeline.report.pack import pack_path
from sop_pipeline.report.publish import PUBLISHED_DIR
from sop_pipeline.runs import WarehouseBusy, warehouse_lock
from sop_pipeline.tables import OUTPUT_TABLES

GOOD, FAILING, LATER = (pd.Timestamp("2026-07-01"), pd.Timestamp("2026-08-01"),
                        pd.Timestamp("2026-09-01"))


@pytest.fixture(scope="module")
def extracts(tmp_path_factory):
    root = tmp_path_factory.mktemp("transactions") / "extracts"
    generate_company(root, skus=4, locations=2, years=3, seed=11, end_month="2026-08")
    return root


@pytest.fixture(scope="module")
def _good_warehouse(extracts):
    warehouse = extracts.parent / "warehouse"
    assert run_cycles([GOOD], extracts, warehouse)
    return warehouse


@pytest.fixture
def one_good_cycle(_good_warehouse, tmp_path):
    """A copy of a warehouse where cycle GOOD ran and was published."""
    return Path(shutil.copytree(_good_warehouse, tmp_path / "warehouse", symlinks=True))


def _fail_summary_check(monkeypatch):
    """cycle_summary's blocking check fails: every planning table is written before it."""
    monkeypatch.setattr("assets.report.summary_problems",
                        lambda row: ["cycle_summary: forced failure for the test"])


def _snapshot(warehouse: Path) -> dict[str, bytes]:
    """The bytes of every file of the publication and the packs."""
    files = [*(warehouse / PUBLISHED_DIR).rglob("*"), *(warehouse / "packs").glob("*.html")]
    return {str(f.relative_to(warehouse)): f.read_bytes() for f in files
            if f.is_file() and not f.is_symlink()}


def _cycle_rows(warehouse: Path, cycle_month: pd.Timestamp) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(wh.database_path(warehouse)), read_only=True) as con:
        return {name: wh.query(con, f"SELECT * FROM {wh.output_relation(con, name)} "
                                    "WHERE cycle_month = ? ORDER BY ALL",
                               [cycle_month.date()])
                for name in OUTPUT_TABLES}


def _counts(warehouse: Path, cycle_month: pd.Timestamp) -> dict[str, int]:
    return {name: len(rows) for name, rows in _cycle_rows(warehouse, cycle_month).items()}


def test_a_failed_cycle_leaves_nothing_and_a_later_cycle_publishes_none_of_it(
        extracts, one_good_cycle, monkeypatch, capsys):
    warehouse = one_good_cycle
    before = _snapshot(warehouse)
    with monkeypatch.context() as patch:
        _fail_summary_check(patch)
        code = main(["run", "--extracts", str(extracts), "--warehouse", str(warehouse),
                     "--cycle", "2026-08"])
    assert code == 1
    assert "cycle 2026-08 failed; earlier outputs are unchanged" in capsys.readouterr().err
    assert _snapshot(warehouse) == before  # publication and packs byte-identical
    assert not any(_counts(warehouse, FAILING).values())  # nothing left in the working file
    assert not pack_path(warehouse, FAILING).exists()
    with duckdb.connect(str(wh.database_path(warehouse)), read_only=True) as con:
        assert wh.open_runs(con) == []

    assert run_cycles([LATER], extracts, warehouse)  # another cycle runs, and publishes
    serving = warehouse / PUBLISHED_DIR / "sop_serving.duckdb"
    with duckdb.connect(str(serving), read_only=True) as con:
        for name in OUTPUT_TABLES:
            months = {str(m[0]) for m in con.execute(
                f"SELECT DISTINCT cycle_month FROM {name}").fetchall()}
            assert "2026-08-01" not in months, name
    assert not any(_counts(warehouse, FAILING).values())
    assert pack_path(warehouse, LATER).exists()


def test_a_failed_rerun_of_a_good_cycle_restores_its_rows(one_good_cycle, extracts,
                                                           monkeypatch):
    warehouse = one_good_cycle
    rows_before, files_before = _cycle_rows(warehouse, GOOD), _snapshot(warehouse)
    with monkeypatch.context() as patch:
        _fail_summary_check(patch)
        assert not run_cycles([GOOD], extracts, warehouse)
    rows_after = _cycle_rows(warehouse, GOOD)
    assert all(len(rows_before[name]) for name in ("demand_forecast", "supply_plan",
                                                    "scenario_kpis", "cycle_summary"))
    for name, rows in rows_before.items():
        pd.testing.assert_frame_equal(rows_after[name], rows, obj=name)
    assert _snapshot(warehouse) == files_before


def test_a_publication_that_fails_keeps_the_pack_with_it(one_good_cycle, extracts, monkeypatch):
    """Disk full while the publication is written: neither it nor the pack is replaced."""
    warehouse = one_good_cycle
    before, rows_before = _snapshot(warehouse), _cycle_rows(warehouse, GOOD)

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr("sop_pipeline.report.publish.write_parquet", disk_full)
        assert not run_cycles([GOOD], extracts, warehouse)
    assert _snapshot(warehouse) == before
    assert not list((warehouse / "packs").rglob(".staged/*.html"))
    for name, rows in rows_before.items():
        pd.testing.assert_frame_equal(_cycle_rows(warehouse, GOOD)[name], rows, obj=name)


def test_rows_of_a_run_that_died_are_rolled_back_by_the_next_run(one_good_cycle, extracts):
    """A run killed mid-cycle (kill -9) leaves its journal: the next run undoes it first."""
    warehouse = one_good_cycle
    good_forecast = _cycle_rows(warehouse, GOOD)["demand_forecast"]
    with wh.connect(warehouse) as con:
        wh.replace_cycle_rows(con, "demand_forecast", GOOD, wh.cycle_rows(
            con, "demand_forecast", GOOD).assign(forecast_qty=1e14), run_id="killed-run")
        wh.replace_cycle_rows(con, "cycle_summary", FAILING,
                              wh.cycle_rows(con, "cycle_summary", GOOD), run_id="killed-run")
        assert wh.open_runs(con) == ["killed-run"]
    assert run_cycles([LATER], extracts, warehouse)
    pd.testing.assert_frame_equal(_cycle_rows(warehouse, GOOD)["demand_forecast"],
                                  good_forecast)
    assert not _counts(warehouse, FAILING)["cycle_summary"]


def test_commit_and_rollback_of_a_run(tmp_path):
    cycle = pd.Timestamp("2026-10-01")
    typed = {"VARCHAR": "WC", "DATE": cycle, "BOOLEAN": False}
    rows = pd.DataFrame({name: [typed.get(sql_type, 1.0)] for name, sql_type, _
                         in OUTPUT_TABLES["capacity_plan"].columns
                         if name not in ("cycle_month", "scenario")})
    with wh.connect(tmp_path) as con:
        wh.replace_cycle_rows(con, "capacity_plan", cycle, rows)  # before any run
        wh.replace_cycle_rows(con, "capacity_plan", cycle, rows.assign(required_hours=5.0),
                              run_id="r1")
        wh.replace_cycle_rows(con, "capacity_plan", cycle, rows.assign(required_hours=7.0),
                              run_id="r1")  # journaled once: the rows before the run
        assert wh.rollback_run(con, "r1") == 1
        assert wh.cycle_rows(con, "capacity_plan", cycle)["required_hours"].tolist() == [1.0]
        wh.replace_cycle_rows(con, "capacity_plan", cycle, rows.assign(required_hours=9.0),
                              run_id="r2")
        assert wh.commit_run(con, "r2") == 1
        assert wh.cycle_rows(con, "capacity_plan", cycle)["required_hours"].tolist() == [9.0]
        assert wh.open_runs(con) == []
        assert not con.execute(f"SELECT count(*) FROM duckdb_tables() WHERE schema_name = "
                               f"'{wh.JOURNAL}' AND table_name = 'capacity_plan'").fetchone()[0]


_HOLD = textwrap.dedent("""
    import sys, time
    from sop_pipeline.runs import warehouse_lock
    with warehouse_lock(sys.argv[1], "sop run --cycle 2026-09 (the other one)"):
        print("held", flush=True)
        time.sleep(120)
""")


def test_a_second_run_on_a_held_warehouse_refuses_at_once_before_touching_it(
        extracts, tmp_path, capsys):
    warehouse = tmp_path / "warehouse"
    other = subprocess.Popen([sys.executable, "-c", _HOLD, str(warehouse)],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "held"
        code = main(["run", "--extracts", str(extracts), "--warehouse", str(warehouse),
                     "--cycle", "2026-07"])
        err = capsys.readouterr().err.strip()
        assert code == BUSY
        assert len(err.splitlines()) == 1
        assert "in use by sop run --cycle 2026-09 (the other one)" in err
        assert f"pid {other.pid}" in err
        assert not wh.database_path(warehouse).exists()  # nothing landed or written
        # a run started elsewhere (the Dagster UI, a test's materialize) is refused the same way
        with pytest.raises(WarehouseBusy, match="the other one"), \
                warehouse_lock(warehouse, "a UI run"):
            pass
        assert not run_cycles([GOOD], extracts, warehouse)
        assert not wh.database_path(warehouse).exists()
    finally:
        other.kill()
        other.wait()
    with warehouse_lock(warehouse, "after"):  # the lock dies with its process
        pass


def test_the_lock_is_reentrant_within_one_process(tmp_path):
    with warehouse_lock(tmp_path, "outer"), warehouse_lock(tmp_path, "inner"):
        text = (tmp_path / ".sop_run.lock").read_text()
        assert text.startswith("outer")
    digest = hashlib.sha256((tmp_path / ".sop_run.lock").read_bytes()).hexdigest()
    assert digest == hashlib.sha256(b"").hexdigest()  # emptied when released


def test_a_refused_planner_file_fails_the_cycle_and_changes_nothing(extracts, one_good_cycle,
                                                                    tmp_path, capsys):
    """An override whose month reads 01/2027 is not dropped silently: the cycle fails naming
    the file, the column and the row; the publication, packs and planning rows stay."""
    warehouse = one_good_cycle
    refused = Path(shutil.copytree(extracts, tmp_path / "refused"))
    (refused / "plan").mkdir(exist_ok=True)
    (refused / "plan/overrides.csv").write_text(
        "month,sku,family,location_id,quantity,pct_change,reason,author\n"
        "01/2027,,Bikes,,500,,Tender won,j.doe\n")
    before, rows_before = _snapshot(warehouse), _cycle_rows(warehouse, GOOD)
    code = main(["run", "--extracts", str(refused), "--warehouse", str(warehouse),
                 "--cycle", "2026-07"])
    err = capsys.readouterr().err
    assert code == 1
    assert "plan/overrides.csv" in err and "'month'" in err and "1 of 1 rows" in err
    assert "01/2027" in err  # the sample row
    assert _snapshot(warehouse) == before
    for name, rows in rows_before.items():
        pd.testing.assert_frame_equal(_cycle_rows(warehouse, GOOD)[name], rows, obj=name)


def test_sop_run_names_its_command_line_in_the_lock(tmp_path, monkeypatch):
    seen = {}

    def holding(args, warehouse_dir):
        seen["holder"] = (warehouse_dir / ".sop_run.lock").read_text()
        return 0

    monkeypatch.setattr("sop_pipeline.cli._run_holding", holding)
    assert main(["run", "--warehouse", str(tmp_path), "--cycle", "2026-07"]) == 0
    assert seen["holder"].startswith(f"sop run --warehouse {tmp_path} --cycle 2026-07 (pid ")
