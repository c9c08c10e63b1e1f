"""What `sop run` shows while cycles run: a line per cycle, a bar for the forecast, stage times.

On a terminal the current cycle and the forecast are tqdm bars that vanish when done; in a log
or CI (no TTY) a plain line appears only when a stage has run HEARTBEAT_SECONDS without one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TextIO

from tqdm import tqdm

HEARTBEAT_SECONDS = 30.0


@dataclass
class StageTimes:
    """Seconds per run of one stage (an asset step), over the cycles of one `sop run`."""

    runs: list[float] = field(default_factory=list)

    def line(self, stage: str) -> str:
        return (f"  {stage:28} {len(self.runs):>4} {sum(self.runs) / len(self.runs):>8.1f} "
                f"{max(self.runs):>8.1f} {sum(self.runs):>8.1f}")


class RunConsole:
    """Follows the steps of each cycle's run and prints what a planner needs to see."""

    def __init__(self, out: TextIO, bars: bool | None = None,
                 heartbeat_seconds: float | None = HEARTBEAT_SECONDS) -> None:
        self.out = out
        self.bars = out.isatty() if bars is None else bars
        self.heartbeat_seconds = heartbeat_seconds
        self.stages: dict[str, StageTimes] = {}
        self._cycle = ""
        self._step: str | None = None
        self._step_started = self._last_line = time.monotonic()
        self._cycle_bar: tqdm | None = None
        self._forecast_bar: tqdm | None = None

    def start_cycle(self, cycle: str, steps: int) -> None:
        self._cycle, self._last_line = cycle, time.monotonic()
        if self.bars:
            self._cycle_bar = tqdm(total=steps, desc=f"cycle {cycle}", unit="step",
                                   leave=False, file=self.out, dynamic_ncols=True)

    def step_started(self, step: str) -> None:
        self._step, self._step_started = step, time.monotonic()
        if self._cycle_bar is not None:
            self._cycle_bar.set_postfix_str(step)
        self.tick()

    def step_finished(self, step: str, seconds: float) -> None:
        self.stages.setdefault(step, StageTimes()).runs.append(seconds)
        self._close_forecast_bar()
        if self._cycle_bar is not None:
            self._cycle_bar.update(1)
        self._step = None

    def forecast_progress(self, done: int, total: int) -> None:
        """Series forecast so far in the running step."""
        if self.bars:
            if self._forecast_bar is None:
                self._forecast_bar = tqdm(total=total, desc="  forecast", unit="series",
                                          leave=False, file=self.out, position=1,
                                          dynamic_ncols=True)
            self._forecast_bar.update(done - self._forecast_bar.n)
        else:
            self.tick(f", {done:,} of {total:,} series forecast")

    def tick(self, detail: str = "") -> None:
        """Without bars: a line when a step has run heartbeat_seconds since the last line."""
        now = time.monotonic()
        if (self.bars or self.heartbeat_seconds is None or self._step is None
                or now - max(self._last_line, self._step_started) < self.heartbeat_seconds):
            return
        self._print(f"  cycle {self._cycle}: {self._step} running for "
                    f"{now - self._step_started:.0f} s{detail}")

    def end_cycle(self, line: str) -> None:
        """Close the bars and print the cycle's line (or write nothing: line="")."""
        self._close_forecast_bar()
        if self._cycle_bar is not None:
            self._cycle_bar.close()
            self._cycle_bar = None
        if line:
            self._print(line)

    def stage_times(self) -> str:
        """One line per stage: runs, mean, max and total seconds, in the order they ran."""
        header = f"  {'stage':28} {'runs':>4} {'mean s':>8} {'max s':>8} {'total s':>8}"
        return "\n".join(["Stage times:", header,
                          *(times.line(stage) for stage, times in self.stages.items())])

    def _close_forecast_bar(self) -> None:
        if self._forecast_bar is not None:
            self._forecast_bar.close()
            self._forecast_bar = None

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)
        self._last_line = time.monotonic()
