"""What `sop run` prints: a line per cycle, the time of every stage, the summary, and nothing
of Dagster's event stream or the libraries' warnings unless --verbose asks for them."""

import contextlib
import csv
import io
import re

import pytest

from sop_pipeline.cli import main, run_tags
from sop_pipeline.cycle import month_start
from sop_pipeline.demo import generate_company
from sop_pipeline.report.console import RunConsole

CYCLES = "2026-08..2026-09"
STAGE_LINE = re.compile(r"^  (\w+) +(\d+) +(\d+\.\d) +(\d+\.\d) +(\d+\.\d)$")


@pytest.fixture(scope="module")
def quiet_run(tmp_path_factory):
    """(exit code, stdout, stderr, root) of `sop run` over two cycles of a tiny company, with
    a Dagster home so the runs and their tags are kept."""
    root = tmp_path_factory.mktemp("quiet_run")
    generate_company(root / "extracts", skus=6, locations=2, years=3, seed=3,
                     end_month="2026-09")
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        (root / "dagster_home").mkdir()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["run", "--extracts", str(root / "extracts"),
                         "--warehouse", str(root / "warehouse"), "--cycles", CYCLES])
        from dagster import DagsterInstance

        with DagsterInstance.get() as instance:
            tags = [dict(run.tags) for run in instance.get_runs()]
    return code, out.getvalue(), err.getvalue(), root, tags


def test_a_quiet_run_prints_a_line_per_cycle_and_per_stage_with_its_time(quiet_run):
    code, out, err, _, _ = quiet_run
    assert code == 0, err
    lines = out.splitlines()
    assert [line for line in lines if line.startswith("cycle ")] == [
        line for line in lines if re.fullmatch(r"cycle 2026-0[89]: planned in \d+\.\d s", line)]
    assert len([line for line in lines if line.startswith("cycle ")]) == 2
    stages = {m[1]: m for line in lines if (m := STAGE_LINE.match(line))}
    assert {"raw_extracts", "sop_dbt_models", "demand_forecast", "supply_plan",
            "published_tables"} <= set(stages)
    assert stages["raw_extracts"][2] == "1" and stages["demand_forecast"][2] == "2"
    assert "Output tables in" in out and "Latest cycle 2026-09:" in out
    # the summary is ~30 lines; 12 cycles add 10 cycle lines to this: under 100 for `make demo`
    assert len(lines) < 70, out
    assert err == ""


def test_a_quiet_run_keeps_dagster_dbt_and_warnings_in_the_run_log(quiet_run):
    _, out, err, root, _ = quiet_run
    for text in (out, err):
        assert "DEBUG" not in text and "STEP_START" not in text
        assert "RuntimeWarning" not in text and "Warning:" not in text
        assert not re.search(r"\d+ of \d+ (START|OK|PASS)", text)  # dbt's progress lines
    log = (root / "warehouse" / "logs" / "sop_run.log").read_text()
    assert "STEP_SUCCESS" in log and "START sql" in log
    assert f"Run log (Dagster events, dbt output, warnings): {root / 'warehouse'}" in out


def test_runs_started_by_sop_run_are_tagged_with_their_source_cycle_and_stage(quiet_run):
    _, _, _, _, tags = quiet_run
    by_cycle = {t["sop/cycle"]: t for t in tags}
    assert set(by_cycle) == {"2026-08", "2026-09"}
    assert by_cycle["2026-08"]["sop/stage"] == "land_and_plan"
    assert by_cycle["2026-09"]["sop/stage"] == "plan"
    for cycle, tag in by_cycle.items():
        assert tag["sop/source"] == "cli" and tag["dagster/partition"] == cycle
        assert tag["sop/batch"] == CYCLES


def test_verbose_prints_dagsters_events_and_errors_stay_clear(tmp_path, capsys):
    broken = tmp_path / "extracts"
    generate_company(broken, skus=6, locations=2, years=3, seed=3, end_month="2026-09")
    path = broken / "erp/items.csv"
    rows = list(csv.DictReader(path.open()))
    with path.open("w", newline="") as fh:  # drop a required column: the first step fails
        writer = csv.DictWriter(fh, [c for c in rows[0] if c != "unit_cost"],
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    args = ["run", "--extracts", str(broken), "--warehouse", str(tmp_path / "warehouse"),
            "--cycle", "2026-09"]
    assert main([*args, "--verbose"]) == 1
    verbose = capsys.readouterr()
    assert "STEP_START" in verbose.err and "DEBUG" in verbose.err
    assert main(args) == 1
    quiet = capsys.readouterr()
    assert "STEP_START" not in quiet.out + quiet.err
    for err in (verbose.err, quiet.err):
        assert "cycle 2026-09 failed; earlier outputs are unchanged." in err
        assert "[raw_extracts]" in err and "'unit_cost'" in err
    assert f"full log: {tmp_path / 'warehouse' / 'logs' / 'sop_run.log'}" in quiet.err


def test_without_a_terminal_a_long_stage_prints_an_occasional_plain_line():
    out = io.StringIO()
    console = RunConsole(out, heartbeat_seconds=0.0)
    console.start_cycle("2026-09", steps=2)
    console.step_started("demand_forecast")
    console.forecast_progress(5, 10)
    console.step_finished("demand_forecast", 2.0)
    console.end_cycle("cycle 2026-09: planned in 2.0 s")
    lines = out.getvalue().splitlines()
    assert lines[-1] == "cycle 2026-09: planned in 2.0 s"
    assert "  cycle 2026-09: demand_forecast running for 0 s, 5 of 10 series forecast" in lines
    assert "\r" not in out.getvalue()
    quiet = io.StringIO()
    console = RunConsole(quiet)  # the default: a line only after 30 s without one
    console.start_cycle("2026-09", steps=1)
    console.step_started("demand_forecast")
    console.forecast_progress(5, 10)
    assert quiet.getvalue() == ""


def test_on_a_terminal_the_forecast_is_a_bar_that_vanishes():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    console = RunConsole(out)
    console.start_cycle("2026-09", steps=1)
    console.step_started("demand_forecast")
    for done in range(1, 11):
        console.forecast_progress(done, 10)
    console.step_finished("demand_forecast", 2.0)
    console.end_cycle("cycle 2026-09: planned in 2.0 s")
    text = out.getvalue()
    assert "forecast" in text and "series" in text and "\r" in text
    assert text.rstrip().endswith("cycle 2026-09: planned in 2.0 s")
    assert console.stages["demand_forecast"].runs == [2.0]


def test_run_tags_name_the_source_the_cycle_and_the_stage():
    cycles = [month_start("2026-08"), month_start("2026-09")]
    assert run_tags("planning_only", cycles[1], cycles) == {
        "sop/source": "cli", "sop/cycle": "2026-09", "sop/stage": "plan",
        "sop/batch": "2026-08..2026-09"}
