"""The supply plan's linear program as named blocks (the maths: sop_pipeline.supply.plan).

Columns are registered by block, each with its cost and bounds (Model.add_columns): planned
receipts x, stock b, lost sales u, stock held as safety stock a, overtime o. Rows are built
by one function per constraint family, called in order by build_lp: stock balance, capacity.
A new block is one registration and one row function. Solving: sop_pipeline.supply.solve.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
from scipy import sparse

from sop_pipeline.supply.inputs import SAMPLE_ROWS, Network, SupplyPlanError, SupplySettings

INF = highspy.kHighsInf


@dataclass(frozen=True)
class Lp:
    """The linear program in HiGHS's column-wise form, with its blocks of columns and rows."""

    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    matrix: sparse.csc_array
    offset: float  # the shortfall cost when no safety stock is held, a constant
    columns: dict[str, range]  # block name -> its columns
    rows: dict[str, range]  # constraint family -> its rows

    def values(self, solution: np.ndarray, block: str) -> np.ndarray:
        """The solution's values of one block of columns."""
        span = self.columns[block]
        return solution[span.start : span.stop]


class Model:
    """The LP being built: blocks of columns registered by name with their cost and bounds,
    families of rows by name with their coefficients, each in the order they are added."""

    def __init__(self) -> None:
        self.columns: dict[str, range] = {}
        self.rows: dict[str, range] = {}
        self._bounds: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # cost, lower, upper
        self._entries: list[tuple[np.ndarray, ...]] = []  # row, column, value, lower, upper

    def add_columns(self, name: str, cost: np.ndarray, upper: np.ndarray | float,
                    lower: np.ndarray | float = 0.0) -> range:
        """A block of len(cost) columns with its cost and bounds; its column indices."""
        start = self._end(self.columns)
        cost = np.asarray(cost, dtype=float)
        self.columns[name] = span = range(start, start + len(cost))
        self._bounds.append((cost, np.broadcast_to(np.asarray(lower, float), cost.shape),
                             np.broadcast_to(np.asarray(upper, float), cost.shape)))
        return span

    def add_rows(self, name: str, row: np.ndarray, column: np.ndarray, value: np.ndarray,
                 lower: np.ndarray, upper: np.ndarray) -> range:
        """A family of len(lower) rows: coefficients at (row within the family, column)."""
        start = self._end(self.rows)
        self.rows[name] = span = range(start, start + len(lower))
        self._entries.append((np.asarray(row) + start, np.asarray(column), np.asarray(value),
                              np.asarray(lower, float), np.asarray(upper, float)))
        return span

    def index(self, block: str) -> np.ndarray:
        """The column indices of a block."""
        span = self.columns[block]
        return np.arange(span.start, span.stop)

    def lp(self, offset: float) -> Lp:
        cost, lower, upper = (np.concatenate(part) for part in zip(*self._bounds, strict=True))
        row, column, value, row_lower, row_upper = (
            np.concatenate(part) for part in zip(*self._entries, strict=True))
        matrix = sparse.csc_array((value, (row, column)), shape=(len(row_lower), len(cost)))
        matrix.sort_indices()
        return Lp(cost, np.array(lower), np.array(upper), row_lower, row_upper, matrix, offset,
                  dict(self.columns), dict(self.rows))

    @staticmethod
    def _end(blocks: dict[str, range]) -> int:
        return next(reversed(blocks.values())).stop if blocks else 0


def build_lp(network: Network, settings: SupplySettings) -> Lp:
    """The columns, then the rows family by family: stock balance, capacity."""
    model = Model()
    add_variables(model, network, settings)
    define_stock_balance(model, network)
    define_capacity(model, network, settings)
    return model.lp(offset=safety_offset(network, settings))


def add_variables(model: Model, network: Network, settings: SupplySettings) -> None:
    """The blocks of columns, each with its cost and bounds (all >= 0):

    - planned x[n,t]: planned_unit_cost each; 0 in months the lead time rules out.
    - stock b[n,t]: closing stock (above safety stock where the node has some), holding cost.
    - lost u[n,t] <= demand: lost_sale_cost.
    - safety_stock a[n,t] <= safety stock, nodes with safety stock only: stock I = a + b, and
      the shortfall s = SS - a costs the rate, i.e. a constant (the offset) minus the rate per
      unit of a; at the optimum a = min(I, SS), the same as s >= SS - I, s >= 0, with bounds.
    - overtime o[w,t] <= overtime_share x available: overtime_cost_per_hour.
    """
    nodes, months = network.demand.shape
    safe = safe_nodes(network)
    unit_cost = network.nodes["unit_cost"].to_numpy()
    holding = settings.holding_cost_rate * unit_cost
    shortfall = settings.safety_shortfall_rate * unit_cost[safe]
    model.add_columns("planned", np.full(nodes * months, settings.planned_unit_cost),
                      upper=np.where(network.allowed.ravel(), INF, 0.0))
    model.add_columns("stock", np.repeat(holding, months), upper=INF)
    model.add_columns("lost", lost_sale_cost(network, settings).ravel(),
                      upper=network.demand.ravel())
    model.add_columns("safety_stock", np.repeat(holding[safe] - shortfall, months),
                      upper=np.repeat(network.safety[safe], months))
    model.add_columns("overtime", np.full(len(network.centres) * months,
                                          settings.overtime_cost_per_hour),
                      upper=settings.overtime_share * network.available.ravel())


def define_stock_balance(model: Model, network: Network) -> None:
    """Per node x month: I[t] - I[t-1] - x[t] - u[t] = receipts[t] - d[t] (+ opening stock in
    the first month), where I = b (+ a for nodes with safety stock)."""
    nodes, months = network.demand.shape
    cell = np.arange(nodes * months)
    safe_cell = (safe_nodes(network)[:, None] * months + np.arange(months)).ravel()
    stock = np.concatenate([model.index("stock"), model.index("safety_stock")])
    stock_cell = np.concatenate([cell, safe_cell])
    carried = stock_cell % months < months - 1  # closing stock that opens the next month
    rhs = network.receipts - network.demand
    rhs[:, 0] += network.opening
    model.add_rows(
        "stock_balance",
        row=np.concatenate([stock_cell, stock_cell[carried] + 1, cell, cell]),
        column=np.concatenate([stock, stock[carried], model.index("planned"),
                               model.index("lost")]),
        value=np.concatenate([np.ones(len(stock)), -np.ones(carried.sum()),
                              -np.ones(2 * len(cell))]),
        lower=rhs.ravel(), upper=rhs.ravel())


def define_capacity(model: Model, network: Network, settings: SupplySettings) -> None:
    """Per work centre w x month t: sum of x[n,t] x hours_per_unit - o[w,t] <= available -
    committed (the hours open production orders hold); where those exceed available +
    overtime, the plan gets no hours (and the check names the centre-month)."""
    months = network.demand.shape[1]
    month = np.arange(months)
    centre_month = np.arange(len(network.centres) * months)
    planned = model.index("planned")
    upper = np.maximum(network.available - network.committed,
                       -settings.overtime_share * network.available).ravel()
    model.add_rows(
        "capacity",
        row=np.concatenate([(network.routing_centre[:, None] * months + month).ravel(),
                            centre_month]),
        column=np.concatenate([planned[(network.routing_node[:, None] * months + month).ravel()],
                               model.index("overtime")]),
        value=np.concatenate([np.repeat(network.routing_hours, months),
                              -np.ones(len(centre_month))]),
        lower=np.full(len(upper), -INF), upper=upper)


def safe_nodes(network: Network) -> np.ndarray:
    """The nodes with safety stock: only they have a safety_stock block."""
    return np.flatnonzero(network.safety > 0)


def safety_offset(network: Network, settings: SupplySettings) -> float:
    """The shortfall cost when no safety stock is held: the objective's constant."""
    safe = safe_nodes(network)
    shortfall = settings.safety_shortfall_rate * network.nodes["unit_cost"].to_numpy()[safe]
    return float(len(network.months) * (shortfall * network.safety[safe]).sum())


def check_penalties(network: Network, settings: SupplySettings) -> None:
    """A node with demand must lose something when a sale is lost, else the plan drops it."""
    penalty = lost_sale_cost(network, settings)[:, -1]  # the lowest: the last month's
    free = (network.demand.sum(axis=1) > 0) & (penalty <= settings.planned_unit_cost)
    if free.any():
        skus = network.nodes.loc[free, "sku"].drop_duplicates()
        raise SupplyPlanError(
            f"items: {len(skus)} sku(s) with demand have unit_cost and unit_price 0 (or "
            f"lost_sales_penalty 0), so losing their sales costs nothing, e.g. "
            f"{list(skus.head(SAMPLE_ROWS))}")


def lost_sale_cost(network: Network, settings: SupplySettings) -> np.ndarray:
    """Per unit lost, per node x month: above the cost of holding it, or of missing it from
    safety stock, for the whole horizon, so building ahead and using safety stock come before
    losing a sale; and higher the earlier the month, by more than a unit costs to hold (and
    miss from safety stock) for a month, so a sale is never lost while stock is kept for a
    later month: demand is served in time order and safety stock is used before a sale is lost.
    planned_unit_cost a month more breaks the tie of items without cost."""
    nodes = network.nodes
    months = len(network.months)
    rate = settings.holding_cost_rate + settings.safety_shortfall_rate
    months_left = np.arange(months, 0, -1)  # months from t to the horizon's end
    unit_cost = nodes["unit_cost"].to_numpy()[:, None]
    return (settings.lost_sales_penalty * nodes["unit_price"].to_numpy()[:, None]
            + unit_cost * (1.0 + rate * (months + months_left))
            + settings.planned_unit_cost * months_left)
