"""One run at a time on a warehouse, and a run's planning rows kept only when it succeeds.

`guarded_run` wraps every run that writes the working file (a `sop run` cycle, a run started
in the Dagster UI, a `materialize` in a test):

1. It takes the warehouse's lock (`<warehouse>/.sop_run.lock`, an flock the system releases
   when the process ends, even on `kill -9`), or refuses at once with one line naming the run
   that holds it, before anything is landed or written. The lock is re-entrant within one
   process: `sop run` holds it for all its cycles and each cycle's run takes it again.
2. It rolls back what runs that died without ending (killed, machine lost) left journaled
   (sop_pipeline.warehouse): with the lock held, no such run is still going.
3. At the end it commits what the run wrote if it succeeded, and rolls it back if it failed,
   so a failed cycle leaves none of its rows in the working file for a later publication.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sop_pipeline import warehouse

LOCK_NAME = ".sop_run.lock"

_held: dict[Path, int] = {}  # lock file -> how many holders in this process
_held_guard = threading.Lock()


class WarehouseBusy(RuntimeError):
    """Another run holds the warehouse."""


@contextlib.contextmanager
def warehouse_lock(warehouse_dir: Path | str, holder: str) -> Iterator[None]:
    """Hold the warehouse for this process, or raise WarehouseBusy naming who holds it."""
    path = Path(warehouse_dir).resolve() / LOCK_NAME
    with _held_guard:
        if _held.get(path):
            _held[path] += 1
            nested = True
        else:
            nested = False
    if nested:
        try:
            yield
        finally:
            with _held_guard:
                _held[path] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WarehouseBusy(
                f"warehouse {path.parent} is in use by {_holder_of(handle) or 'another run'}; "
                "wait for it to finish (one run at a time writes a warehouse).") from None
        os.ftruncate(handle, 0)
        os.write(handle, f"{holder} (pid {os.getpid()}, since "
                         f"{time.strftime('%Y-%m-%d %H:%M:%S')})".encode())
        with _held_guard:
            _held[path] = 1
        try:
            yield
        finally:
            with _held_guard:
                del _held[path]
            os.ftruncate(handle, 0)
    finally:
        os.close(handle)  # releases the flock


@contextlib.contextmanager
def guarded_run(warehouse_dir: Path | str, run_id: str, holder: str,
                failed: Callable[[], bool]) -> Iterator[None]:
    """The run `run_id` holds the warehouse; what it writes stays only if `failed()` is False
    at its end (see the module docstring)."""
    with warehouse_lock(warehouse_dir, holder):
        with warehouse.connect(warehouse_dir) as con:
            for stale in warehouse.open_runs(con):
                warehouse.rollback_run(con, stale)
        try:
            yield
        finally:
            with warehouse.connect(warehouse_dir) as con:
                if failed():
                    warehouse.rollback_run(con, run_id)
                else:
                    warehouse.commit_run(con, run_id)


def _holder_of(handle: int) -> str:
    with contextlib.suppress(OSError):
        return os.pread(handle, 4096, 0).decode(errors="replace").strip()
    return ""
