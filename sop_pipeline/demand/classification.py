"""Demand classes of a series (Syntetos & Boylan, 2005) and the facts its forecast rules read.

Over the months from a series' first demand (a launch's leading zeros do not count):

- ADI, the average inter-demand interval = months / months with demand;
- CV², the squared coefficient of variation of the demand sizes (the non-zero months).

smooth (ADI < 1.32, CV² < 0.49), erratic (ADI < 1.32, CV² >= 0.49), intermittent
(ADI >= 1.32, CV² < 0.49), lumpy (ADI >= 1.32, CV² >= 0.49); `no_demand` for an all-zero
history. Intermittent and lumpy series get the intermittent-demand methods.

A series is `possibly_obsolete` when it had demand once but none in its last
OBSOLETE_MONTHS months: it is forecast at its recent (zero) rate, not its old one, and raises
an alert.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
OBSOLETE_MONTHS = 12
INTERMITTENT_CLASSES = ("intermittent", "lumpy")


def classify(history: pd.DataFrame) -> pd.DataFrame:
    """Per series (index unique_id): n, total, demands (months with demand), adi, cv2,
    demand_class, possibly_obsolete. history: long unique_id, ds, y in time order."""
    rows = {}
    for unique_id, y in history.groupby("unique_id", sort=True)["y"]:
        rows[unique_id] = _facts(y.to_numpy(dtype=float))
    frame = pd.DataFrame.from_dict(
        rows, orient="index",
        columns=["n", "total", "demands", "adi", "cv2", "demand_class", "possibly_obsolete"])
    return frame.rename_axis("unique_id").astype(
        {"n": int, "total": float, "demands": int, "adi": float, "cv2": float,
         "possibly_obsolete": bool})


def _facts(y: np.ndarray) -> tuple:
    positive = np.flatnonzero(y > 0)
    if not positive.size:
        return y.size, float(y.sum()), 0, np.nan, np.nan, "no_demand", False
    sizes = y[positive]
    adi = (y.size - positive[0]) / positive.size
    cv2 = float((sizes.std() / sizes.mean()) ** 2)
    lumpy_side = cv2 >= CV2_CUTOFF
    if adi < ADI_CUTOFF:
        demand_class = "erratic" if lumpy_side else "smooth"
    else:
        demand_class = "lumpy" if lumpy_side else "intermittent"
    obsolete = bool(y.size > OBSOLETE_MONTHS and not y[-OBSOLETE_MONTHS:].any())
    return y.size, float(y.sum()), int(positive.size), float(adi), cv2, demand_class, obsolete
