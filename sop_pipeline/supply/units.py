"""Units of measure: the smallest quantity each can be planned in, how quantities are rounded
to it, and how precisely stock and solver output are kept.

- Discrete units (EA, PCS, SET, BOX, ... and an empty or unknown uom: most items are counted)
  are planned in whole units: step 1.
- Continuous units (weights, volumes, lengths, areas and time: KG, L, M, M2, H, ...) are
  planned to CONTINUOUS_STEP (0.001 of the unit).
- Stock on hand, open orders and the solver's solution are taken to DECIMALS (a millionth of
  a unit), so every stored quantity is a sum of quantities on that grid and the plan's
  balances close to float noise, whatever the magnitudes.
- Statuses and alerts compare with sop_pipeline.checks.tolerance(..., absolute=QTY_TOLERANCE):
  0.01 units plus float noise of the quantities compared, so solver rounding never raises a
  status (a plan that holds exactly its safety stock is healthy, a lost sale of 1e-7 units is
  none). Planned quantities are multiples of their step (1 or 0.001), so nothing a planner
  decides is below it.
- Demand (a forecast, fractional) is rounded cumulatively: month t gets round(D[t]) -
  round(D[t-1]) of the running total D, so a slow mover at 0.3 a month is planned 1 unit
  every three or four months instead of 0 every month, and horizon totals keep within half a
  step of the forecast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sop_pipeline.checks import ABSOLUTE

CONTINUOUS_UOMS = frozenset({
    "KG", "G", "MG", "T", "TON", "LB", "OZ",  # weight
    "L", "ML", "CL", "HL", "M3", "GAL", "FT3",  # volume
    "M", "CM", "MM", "KM", "FT", "IN", "YD",  # length
    "M2", "CM2", "FT2",  # area
    "H", "HR", "MIN", "KWH",  # time and energy
})
CONTINUOUS_STEP = 0.001
DISCRETE_STEP = 1.0
DECIMALS = 6  # stock, open orders and the solver's solution: to a millionth of a unit
_DECIMALS = 3  # of CONTINUOUS_STEP: what output quantities are rounded to, at most


def quantity_step(uom: pd.Series) -> np.ndarray:
    """The smallest plannable quantity per item: 1 for discrete (or unknown) units of
    measure, CONTINUOUS_STEP for continuous ones."""
    code = uom.astype("string").str.strip().str.upper()
    return np.where(code.isin(CONTINUOUS_UOMS).fillna(False).to_numpy(bool),
                    CONTINUOUS_STEP, DISCRETE_STEP)


def round_to_step(values: np.ndarray, step: np.ndarray) -> np.ndarray:
    """values (rows x ...) rounded to the nearest multiple of each row's step."""
    step = _column(step, values)
    return (np.round(values / step) * step).round(_DECIMALS)


def ceil_to_step(values: np.ndarray, step: np.ndarray) -> np.ndarray:
    """values rounded up to a multiple of the step (safety stock: never below its target);
    within a millionth of a step of a multiple (float noise) counts as that multiple."""
    step = _column(step, values)
    return (whole_up(values / step) * step).round(_DECIMALS) + 0.0  # no -0.0


def whole_up(count: np.ndarray) -> np.ndarray:
    """count (of steps or lot multiples) rounded up to a whole number; within ABSOLUTE (a
    millionth) of a whole number counts as it (float noise): 3.0000000001 gives 3. Not the
    relative tolerance of sums: 1e-9 of a count of 1e12 steps would drop 1,000 steps, while a
    count is exact to a millionth up to 1e9 steps (one step too many beyond is harmless)."""
    return np.ceil(count - ABSOLUTE)


def whole_down(count: np.ndarray) -> np.ndarray:
    """count rounded down to a whole number, float noise counted as whole: 2.9999999999 gives 3."""
    return np.floor(count + ABSOLUTE)


def cumulative_round(values: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Monthly quantities (rows x months) in steps, with running totals rounded: each month is
    round(cumulative) - round(previous cumulative), never negative for values >= 0."""
    total = round_to_step(np.cumsum(values, axis=1), step)
    return np.diff(total, axis=1, prepend=0.0).round(_DECIMALS)


def _column(step: np.ndarray, values: np.ndarray) -> np.ndarray:
    """step broadcast along the rows of values."""
    step = np.asarray(step, dtype=float)
    return step.reshape(step.shape + (1,) * (np.ndim(values) - step.ndim))
