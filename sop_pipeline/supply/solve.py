"""Solving the supply LP (sop_pipeline.supply.lp): one LP per group of nodes linked through
shared work centres, on HiGHS, locally or as engine tasks; the solution read back by block and
cleaned of solver noise."""

from __future__ import annotations

import functools
import math
import os
import sys
import time
from dataclasses import replace
from typing import Any

import highspy
import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from sop_pipeline.engine import Task, label_of, run_tasks
from sop_pipeline.supply.inputs import Network, SupplyPlanError, SupplySettings
from sop_pipeline.supply.lots import Lots
from sop_pipeline.supply.lp import Lp, build_lp
from sop_pipeline.supply.units import DECIMALS

CHUNK_NODES = 1000  # independent nodes per LP


def solve_groups(
    network: Network, settings: SupplySettings
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Planned and lost quantities per node x month, one LP per group of linked nodes, and
    the LPs' figures: sizes, build and solve seconds and objectives summed.

    With the local engine the LPs are solved here one after another (the time limit is on
    their solve time together); on Spark or Dask each LP is a task with the whole limit."""
    groups = node_groups(network)
    parts = [subnetwork(network, group) for group in groups]
    if settings.engine.distributed:
        tasks = [Task(label_of("nodes", _node_names(part)), (part, settings,
                                                             settings.time_limit_seconds))
                 for part in parts]
        solved = {id(task): result for task, result in run_tasks(settings.engine, solve_lp,
                                                                  tasks)}
        results = [solved[id(task)] for task in tasks]
    else:
        results, spent = [], 0.0
        for part in parts:
            results.append(solve_lp(part, settings, _time_left(settings, spent)))
            spent += results[-1][2]["solve_seconds"]
    planned, unmet = np.zeros_like(network.demand), np.zeros_like(network.demand)
    stats: dict[str, Any] = {"variables": 0, "constraints": 0, "nonzeros": 0,
                             "build_seconds": 0.0, "solve_seconds": 0.0, "objective": 0.0}
    for group, (group_planned, group_unmet, lp_stats) in zip(groups, results, strict=True):
        planned[group], unmet[group] = group_planned, group_unmet
        for key in ("variables", "constraints", "nonzeros", "build_seconds", "solve_seconds",
                    "objective"):
            stats[key] += lp_stats[key]
        stats["status"] = lp_stats["status"]
    return planned, unmet, {**stats, "lps": len(groups),
                            "largest_lp_nodes": max(len(group) for group in groups),
                            "engine": settings.engine.describe()}


def solve_lp(part: Network, settings: SupplySettings, time_limit: float | None
             ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """One group's LP built, solved and cleaned: the engines' task. Planned and lost per
    node x month, and the LP's size, seconds, objective and status."""
    started = time.perf_counter()
    lp = build_lp(part, settings)
    build_seconds = time.perf_counter() - started
    values, solve = solve_loaded(loaded_highs(lp, settings, time_limit))
    planned, unmet = clean_solution(values, lp, part)
    return planned, unmet, {
        "variables": lp.matrix.shape[1], "constraints": lp.matrix.shape[0],
        "nonzeros": int(lp.matrix.nnz), "build_seconds": build_seconds,
        "solve_seconds": solve["seconds"], "objective": solve["objective"],
        "status": solve["status"]}


def _node_names(part: Network) -> list[str]:
    return (part.nodes["sku"].astype(str) + "|" + part.nodes["location_id"].astype(str)).tolist()


def node_groups(network: Network) -> list[np.ndarray]:
    """Node indices per LP: nodes linked through shared work centres (a sku's locations, skus
    routed over a common centre, transitively) form one group; nodes that load no centre
    depend on nothing else and go in chunks of CHUNK_NODES."""
    nodes = len(network.nodes)
    size = nodes + len(network.centres)
    links = sparse.coo_array(
        (np.ones(len(network.routing_node)),
         (network.routing_node, nodes + network.routing_centre)), shape=(size, size))
    _, label = csgraph.connected_components(links, directed=False)
    node_label = label[:nodes]
    linked = np.isin(node_label, label[nodes:])
    groups = [np.flatnonzero(node_label == component)
              for component in np.unique(node_label[linked])]
    free = np.flatnonzero(~linked)
    if len(free):
        groups += np.array_split(free, math.ceil(len(free) / CHUNK_NODES))
    return groups


def subnetwork(network: Network, group: np.ndarray) -> Network:
    """The nodes `group` with their routing steps and the work centres those load."""
    position = np.full(len(network.nodes), -1)
    position[group] = np.arange(len(group))
    step = position[network.routing_node] >= 0
    centres = np.unique(network.routing_centre[step])
    centre_position = np.full(len(network.centres), -1)
    centre_position[centres] = np.arange(len(centres))
    return replace(
        network,
        nodes=network.nodes.iloc[group].reset_index(drop=True),
        demand=network.demand[group],
        receipts=network.receipts[group],
        opening=network.opening[group],
        safety=network.safety[group],
        allowed=network.allowed[group],
        lots=Lots(multiple=network.lots.multiple[group], minimum=network.lots.minimum[group]),
        routing_node=position[network.routing_node[step]],
        routing_centre=centre_position[network.routing_centre[step]],
        routing_hours=network.routing_hours[step],
        centres=network.centres[centres],
        available=network.available[centres],
        committed=network.committed[centres],
    )


def _time_left(settings: SupplySettings, spent_seconds: float) -> float | None:
    """What remains of the time limit for the next LP (None: no limit)."""
    if settings.time_limit_seconds is None:
        return None
    return max(settings.time_limit_seconds - spent_seconds, 0.0)


def loaded_highs(lp: Lp, settings: SupplySettings, time_limit: float | None = None
                 ) -> highspy.Highs:
    """A quiet HiGHS instance holding the LP, with the settings' solver and time limit."""
    _discard_highs_banner()
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("solver", settings.solver)
    if time_limit is not None:
        highs.setOptionValue("time_limit", float(time_limit))
    if highs.passModel(_highs_lp(lp)) == highspy.HighsStatus.kError:
        raise SupplyPlanError("HiGHS rejected the supply LP (passModel returned an error).")
    return highs


def solve_loaded(highs: highspy.Highs) -> tuple[np.ndarray, dict[str, Any]]:
    """Solve (again, from the last basis after bounds changed): column values of the optimal
    solution, and its seconds, objective and status."""
    started = time.perf_counter()
    highs.run()
    seconds = time.perf_counter() - started
    status = highs.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise SupplyPlanError(_status_message(highs, status, seconds))
    values = np.asarray(highs.getSolution().col_value, dtype=float)
    return values, {"seconds": seconds,
                    "objective": float(highs.getInfo().objective_function_value),
                    "status": highs.modelStatusToString(status)}


def _highs_lp(lp: Lp) -> highspy.HighsLp:
    """The LP as a HighsLp: arrays passed whole, column-wise matrix."""
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = lp.matrix.shape[1], lp.matrix.shape[0]
    model.offset_ = lp.offset
    model.col_cost_, model.col_lower_, model.col_upper_ = lp.cost, lp.col_lower, lp.col_upper
    model.row_lower_, model.row_upper_ = lp.row_lower, lp.row_upper
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.num_col_, model.a_matrix_.num_row_ = model.num_col_, model.num_row_
    model.a_matrix_.start_ = lp.matrix.indptr.astype(np.int32)
    model.a_matrix_.index_ = lp.matrix.indices.astype(np.int32)
    model.a_matrix_.value_ = lp.matrix.data.astype(float)
    return model


def _status_message(highs: highspy.Highs, status: highspy.HighsModelStatus, seconds: float) -> str:
    """What the solver said, and what in the data usually causes it."""
    text = highs.modelStatusToString(status)
    causes = {
        highspy.HighsModelStatus.kInfeasible: (
            "infeasible: with lost sales allowed this needs inconsistent bounds, e.g. negative "
            "opening stock, receipts or available hours slipping past validation"),
        highspy.HighsModelStatus.kUnbounded: (
            "unbounded: usually a negative cost (unit_cost, unit_price or a settings rate)"),
        highspy.HighsModelStatus.kUnboundedOrInfeasible: (
            "infeasible or unbounded: check for negative costs, stock, receipts or hours"),
        highspy.HighsModelStatus.kTimeLimit: (
            f"time limit reached after {seconds:.1f} s: raise settings.time_limit_seconds, "
            "or plan fewer nodes or months"),
        highspy.HighsModelStatus.kIterationLimit: "iteration limit reached",
        highspy.HighsModelStatus.kMemoryLimit: "out of memory: plan fewer nodes or months",
    }
    cause = causes.get(status, "the solver stopped without an optimal plan")
    return f"Supply LP not solved to optimality (HiGHS status {text!r}): {cause}."


@functools.cache
def _discard_highs_banner() -> None:
    """HiGHS prints a banner to the process's stdout (not sys.stdout, so output_flag cannot
    stop it) when its first instance is made: make that one with stdout on /dev/null."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no stdout to protect
        highspy.Highs()
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def clean_solution(values: np.ndarray, lp: Lp, network: Network) -> tuple[np.ndarray, np.ndarray]:
    """Planned receipts and lost demand per node x month, rounded to DECIMALS (solver noise
    below a millionth goes) and within bounds."""
    shape = network.demand.shape
    planned = np.clip(lp.values(values, "planned").round(DECIMALS), 0.0, None).reshape(shape)
    planned[~network.allowed] = 0.0
    unmet = lp.values(values, "lost").round(DECIMALS).reshape(shape)
    return planned, np.clip(unmet, 0.0, network.demand)
