"""The LP's continuous plan as lots a buyer or scheduler can place, without losing sales the
LP serves where that can be helped.

First every node is rounded in one pass (sop_pipeline.supply.lots.round_to_lots). Where nodes
of a group linked through shared work centres then lose more sales value than the LP did (lots
large against demand at a saturated centre: the one pass cannot see that a lot placed now
leaves no hours for another node next month), the group is planned again by relax-and-fix over
the months: its LP is solved with the months already in lots fixed, the next month's plan is
rounded to lots within capacity (the same rounding and repair; a node that would still lose a
sale that month gets the smallest lot that serves it where the allowed overtime has room: an
hour costs less than a lost sale), fixed, and the LP solved again, so every later month
re-plans around the stock and hours the lots left. HiGHS re-solves from its last basis.

A group of up to WHOLE_GROUP_NODES nodes is re-planned whole; in a larger one only the nodes
that lose sales are, in the hours the others' lots leave (the whole group's 18 re-solves cost
several times its LP at 7,000 nodes: benchmarks/README.md). The group keeps whichever plan
loses less sales value (the one-pass plan on a tie), so none is made worse. On the test
company's cycle 2026-10 the one pass lost 190 units the LP served, relax-and-fix 104 (a
mixed-integer program of that group, solved to optimality, 56).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from sop_pipeline.checks import QTY_TOLERANCE, tolerance
from sop_pipeline.supply.inputs import Network, SupplySettings
from sop_pipeline.supply.lots import Routing, fit_capacity, round_back_up, round_to_lots
from sop_pipeline.supply.lp import INF, build_lp
from sop_pipeline.supply.solve import (
    clean_solution,
    loaded_highs,
    node_groups,
    solve_loaded,
    subnetwork,
)
from sop_pipeline.supply.units import DECIMALS

WHOLE_GROUP_NODES = 1000  # a larger group re-plans only its nodes that lose sales (module doc)


def plan_in_lots(
    network: Network, planned: np.ndarray, unmet: np.ndarray, settings: SupplySettings
) -> tuple[np.ndarray, dict[str, Any]]:
    """Lots per node x month for the LP's `planned` (which loses `unmet`), and how many
    nodes were re-planned month by month (module doc)."""
    price = network.nodes["unit_price"].to_numpy()
    ordered = one_pass_lots(network, planned, settings)
    lost = lost_value(network, ordered)
    lp_lost = (unmet * price[:, None]).sum(axis=1)
    behind = lost > lp_lost + tolerance(lost, lp_lost, absolute=QTY_TOLERANCE * price)
    replanned = 0
    for group in node_groups(network):
        if not behind[group].any():
            continue
        part = subnetwork(network, group)
        if not len(part.routing_node):  # loads no centre: its rounding was never cut
            continue
        replan = behind[group] | (len(group) <= WHOLE_GROUP_NODES)
        # the nodes that keep their lots keep their hours; the others share what is left
        kept = np.where(replan[:, None], 0.0, ordered[group])
        left = replace(part, available=np.clip(part.available - centre_hours(part, kept),
                                               0.0, None))
        candidate = ordered[group].copy()
        candidate[replan] = relax_and_fix(subnetwork(left, np.flatnonzero(replan)), settings)
        kept, fewer = lost[group].sum(), lost_value(part, candidate).sum()
        if fewer < kept - tolerance(kept, fewer, absolute=QTY_TOLERANCE * price.max()):
            ordered[group] = candidate
            replanned += int(replan.sum())
    return ordered, {"lot_nodes_replanned": replanned}


def one_pass_lots(network: Network, planned: np.ndarray, settings: SupplySettings
                  ) -> np.ndarray:
    """The LP's plan rounded to lots in one pass (sop_pipeline.supply.lots.round_to_lots)."""
    return round_to_lots(planned, network.lots, network.allowed,
                         lot_routing(network, planned, settings),
                         network.nodes["unit_price"].to_numpy())


def relax_and_fix(network: Network, settings: SupplySettings) -> np.ndarray:
    """Lots per node x month, one month at a time, the LP re-solved after each (module doc)."""
    lp = build_lp(network, settings)
    highs = loaded_highs(lp, settings)
    nodes, months = network.demand.shape
    priority = np.argsort(-network.nodes["unit_price"].to_numpy(), kind="stable")
    allowed_hours = np.clip(network.available * (1.0 + settings.overtime_share)
                            - network.committed, 0.0, None)
    allowed_hours = allowed_hours + tolerance(allowed_hours)  # capacity sums carry float noise
    ordered = np.zeros_like(network.demand)
    stock = network.opening.copy()
    for month in range(months):
        values, _ = solve_loaded(highs)
        planned, _ = clean_solution(values, lp, network)
        orders = _month_in_lots(network, planned, month, settings, priority)
        # a node the rounding leaves short of this month's demand gets the smallest lot that
        # serves it where the allowed overtime has room: an hour costs less than a lost sale
        supply = stock + network.receipts[:, month]
        short = network.demand[:, month] - supply - orders
        urgent = (short > QTY_TOLERANCE) & network.allowed[:, month]
        if urgent.any():
            wanted = np.where(urgent, network.lots.up(orders + short), orders)
            orders = round_back_up(orders, wanted, lot_routing(network, planned, settings),
                                   allowed_hours[:, month], priority)
        ordered[:, month] = orders
        stock = np.maximum(supply + orders - network.demand[:, month], 0.0)
        columns = lp.columns["planned"].start + np.arange(nodes) * months + month
        highs.changeColsBounds(nodes, columns, orders, orders)
        # the month's hours were kept within its cap by the rounding: its capacity rows
        # must not make the fixed lots infeasible by float noise
        rows = lp.rows["capacity"].start + np.arange(len(network.centres)) * months + month
        highs.changeRowsBounds(len(rows), rows, np.full(len(rows), -INF),
                               np.full(len(rows), INF))
    return ordered


def _month_in_lots(network: Network, planned: np.ndarray, month: int,
                   settings: SupplySettings, priority: np.ndarray) -> np.ndarray:
    """The LP's plan of one month in lots within capacity (sop_pipeline.supply.lots)."""
    need = planned[:, month]
    up = np.where(network.allowed[:, month], network.lots.up(need), 0.0)
    return fit_capacity(up, np.minimum(network.lots.down(need), up), network.lots,
                        lot_routing(network, planned, settings), month, priority)


def lot_routing(network: Network, planned: np.ndarray, settings: SupplySettings) -> Routing:
    """The routing steps, and the hours each centre may work once orders are lots: the free
    hours (available - committed), or the LP's own hours where it planned overtime (within the
    allowed share), so rounding to lots never buys overtime the LP did not."""
    free = free_hours(network)
    cap = np.maximum(free, centre_hours(network, planned))
    return Routing(network.routing_node, network.routing_centre, network.routing_hours,
                   np.clip(np.minimum(cap, network.available * (1.0 + settings.overtime_share)
                                      - network.committed), 0.0, None))


def free_hours(network: Network) -> np.ndarray:
    """Available hours less those open production orders hold, per centre x month."""
    return network.available - network.committed


def centre_hours(network: Network, planned: np.ndarray) -> np.ndarray:
    """Planned hours per work centre x month."""
    hours = np.zeros((len(network.centres), len(network.months)))
    if planned.size:
        np.add.at(hours, network.routing_centre,
                  network.routing_hours[:, None] * planned[network.routing_node])
    return hours


def lost_value(network: Network, planned: np.ndarray) -> np.ndarray:
    """Sales value lost per node when `planned` arrives (served in time order)."""
    _, _, unmet = served_in_time_order(network, planned)
    return (unmet * network.nodes["unit_price"].to_numpy()[:, None]).sum(axis=1)


def served_in_time_order(
    network: Network, planned: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(opening, closing, unmet) month by month: each month serves what its stock and
    receipts allow and loses the rest, the LP's own rule (lost sales cost more the earlier
    they fall, sop_pipeline.supply.lp) applied to the lot-sized receipts.

    Every quantity is on the grid of a millionth (stock and open orders to DECIMALS, demand and
    planned in steps), so each month's unmet and closing are rounded to it: that removes float
    noise only, and the stored columns keep closing = opening + receipts - served exactly up to
    float noise, with each opening the previous closing itself, at any magnitude."""
    opening, closing, unmet = (np.empty_like(planned) for _ in range(3))
    stock = network.opening.copy()
    for month in range(planned.shape[1]):
        supply = stock + network.receipts[:, month] + planned[:, month]
        demand = network.demand[:, month]
        unmet[:, month] = np.maximum((demand - supply).round(DECIMALS), 0.0)
        opening[:, month] = stock
        closing[:, month] = stock = np.maximum((supply - demand + unmet[:, month]).round(DECIMALS),
                                               0.0)
    return opening, closing, unmet
