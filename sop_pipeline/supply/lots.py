"""Lot sizing: planned orders a buyer or a scheduler can place, in lots of each item.

A node's lot (item_lots): orders are whole multiples of `multiple` (the item's order_multiple
rounded up to its unit's step, else the step itself: 1 unit, or 0.001 of a continuous unit),
and at least `minimum` (min_order_qty rounded up to a multiple; one multiple without it).
Min 25 in multiples of 10 means orders of 30, 40, ...

The LP is solved continuous; then round_to_lots walks the months in order and orders, per
node, the LP's cumulative plan not yet covered, rounded up to a lot; nothing is ordered while
less than QTY_TOLERANCE is missing. Repair, where the rounded orders of a month load a work
centre beyond its cap — its available hours, or the LP's own hours where the LP planned
overtime (never beyond the allowed share): rounding buys no overtime the LP did not — the
orders of the nodes on that centre are rounded down instead (to the largest lot within what is
missing, or 0), further down one multiple at a time while it is still over, then rounded up
again one node at a time (highest unit_price first) wherever every centre the node loads has
room. What a month leaves uncovered is carried into the next month's need. Last, a catch-up
pass: where a node is still behind the LP's cumulative plan in a month, a lot is added in the
latest month up to it whose centres have hours left (highest price first), so rounding at the
cap does not turn into lost sales the LP avoided (on the demo company's 2026-09 cycle it took
the sales lost after rounding from 80 units back to the LP's 57). Orders only fall in
months the LP may plan (lead time), so lead times hold; capacity holds by the repair. (Letting
rounding use all the allowed overtime instead cost the same on the benchmark company at 1,000
nodes, with 3.5 times the overtime hours.) Where this one pass still loses sales the LP served,
sop_pipeline.supply.lot_plan re-plans the group month by month and keeps the better plan.

This holds at 10,000 nodes x 18 months (0.2 s). A mixed-integer program with lots as integer
variables was measured and dropped: it did not close its gap at 100 nodes
(benchmarks/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sop_pipeline.checks import QTY_TOLERANCE, tolerance
from sop_pipeline.supply.units import ceil_to_step, whole_down, whole_up


@dataclass(frozen=True)
class Lots:
    """Per node: the order multiple and the smallest order (a multiple of it), in units."""

    multiple: np.ndarray
    minimum: np.ndarray

    def up(self, need: np.ndarray) -> np.ndarray:
        """The smallest lot covering `need` (0 where less than QTY_TOLERANCE is needed)."""
        lots = whole_up(need / self.multiple) * self.multiple
        return np.where(need > QTY_TOLERANCE, np.maximum(lots, self.minimum), 0.0)

    def down(self, need: np.ndarray) -> np.ndarray:
        """The largest lot within `need`, or 0 where it is below the minimum."""
        lots = whole_down(need / self.multiple) * self.multiple
        return np.where(lots >= self.minimum - QTY_TOLERANCE, lots, 0.0)


def item_lots(step: np.ndarray, min_order_qty: np.ndarray, order_multiple: np.ndarray) -> Lots:
    """Lots from the items' optional columns (NaN: none) and their unit's step."""
    multiple = np.where(order_multiple > 0, ceil_to_step(np.nan_to_num(order_multiple), step),
                        step)
    multiple = np.maximum(multiple, step)
    minimum = np.where(min_order_qty > 0,
                       whole_up(np.nan_to_num(min_order_qty) / multiple) * multiple,
                       multiple)
    return Lots(multiple=multiple, minimum=np.maximum(minimum, multiple).round(3))


@dataclass(frozen=True)
class Routing:
    """Routing steps (node, centre, hours per unit) and each centre's hours cap per month."""

    node: np.ndarray
    centre: np.ndarray
    hours: np.ndarray
    cap: np.ndarray  # (centres, months): the hours the orders may load

    def load(self, orders: np.ndarray) -> np.ndarray:
        """Hours per centre of one month's orders (per node)."""
        return np.bincount(self.centre, weights=self.hours * orders[self.node],
                           minlength=self.cap.shape[0])


def round_to_lots(
    planned: np.ndarray, lots: Lots, allowed: np.ndarray, routing: Routing,
    unit_price: np.ndarray,
) -> np.ndarray:
    """The LP's continuous plan (nodes x months) as lots, month by month (module doc)."""
    target = np.cumsum(planned, axis=1)
    ordered = np.zeros_like(planned)
    covered = np.zeros(planned.shape[0])
    priority = np.argsort(-unit_price, kind="stable")
    for month in range(planned.shape[1]):
        need = target[:, month] - covered
        up = np.where(allowed[:, month], lots.up(need), 0.0)
        orders = up
        if len(routing.node):
            orders = fit_capacity(up, np.minimum(lots.down(need), up), lots, routing, month,
                                   priority)
        ordered[:, month] = orders
        covered += orders
    if len(routing.node):
        _catch_up(ordered, target, lots, allowed, routing, priority)
    return ordered


def _catch_up(ordered: np.ndarray, target: np.ndarray, lots: Lots, allowed: np.ndarray,
              routing: Routing, priority: np.ndarray) -> None:
    """Where the repair left a node behind the LP's cumulative plan, add lots in earlier
    months whose centres have hours left (highest price first, latest such month first), so
    that rounding at the cap does not turn into lost sales (in place)."""
    hours = np.stack([routing.load(ordered[:, month]) for month in range(ordered.shape[1])],
                     axis=1)
    room = routing.cap + tolerance(routing.cap, hours) - hours
    per_unit = {node: np.bincount(routing.centre[routing.node == node],
                                  weights=routing.hours[routing.node == node],
                                  minlength=room.shape[0])
                for node in np.unique(routing.node)}
    for node in priority:
        if node not in per_unit:
            continue  # loads no centre: its rounding was never cut
        multiple, minimum = lots.multiple[node], lots.minimum[node]
        for month in range(ordered.shape[1]):
            short = target[node, month] - ordered[node, : month + 1].sum()
            if short <= QTY_TOLERANCE:
                continue
            lot = whole_up(short / multiple) * multiple
            for earlier in range(month, -1, -1):
                size = lot if ordered[node, earlier] > 0 else max(lot, minimum)
                need = per_unit[node] * size
                if allowed[node, earlier] and (need <= room[:, earlier]).all():
                    ordered[node, earlier] += size
                    room[:, earlier] -= need
                    break


def fit_capacity(
    up: np.ndarray, down: np.ndarray, lots: Lots, routing: Routing, month: int,
    priority: np.ndarray,
) -> np.ndarray:
    """Orders within every centre's cap: rounded down on overloaded centres, cut one multiple
    at a time while still over, rounded back up where room is left."""
    cap = routing.cap[:, month]
    cap = cap + tolerance(cap)  # capacity sums carry float noise
    over = routing.load(up) > cap
    if not over.any():
        return up
    orders = np.where(_on_centres(routing, over, len(up)), down, up)
    while (over := routing.load(orders) > cap).any():
        cut = _on_centres(routing, over, len(up)) & (orders > 0)
        if not cut.any():  # the overload comes from nothing this month can change
            break
        orders = np.where(cut, lots.down(orders - lots.multiple), orders)
    return round_back_up(orders, up, routing, cap, priority)


def _on_centres(routing: Routing, centres: np.ndarray, nodes: int) -> np.ndarray:
    """Nodes with a routing step on one of `centres` (a bool per centre)."""
    marked = np.zeros(nodes, dtype=bool)
    marked[routing.node[centres[routing.centre]]] = True
    return marked


def round_back_up(
    orders: np.ndarray, up: np.ndarray, routing: Routing, cap: np.ndarray,
    priority: np.ndarray,
) -> np.ndarray:
    """Give nodes cut below their rounded-up order that order back, highest price first,
    wherever every centre they load keeps within its cap."""
    hours = routing.load(orders)
    cut = up > orders
    for node in priority[cut[priority]]:
        steps = routing.node == node
        extra = np.bincount(routing.centre[steps],
                            weights=routing.hours[steps] * (up[node] - orders[node]),
                            minlength=len(cap))
        if (hours + extra <= cap).all():
            hours += extra
            orders[node] = up[node]
    return orders
