"""The extract contract: which files a landing folder holds, their columns, types and keys.

One declaration serves validation on load, the dbt sources, the generator and the README.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Dates (and timestamps) outside this range are out of range (rule `date_out_of_range`): before
# EARLIEST_DATE, or more than LATEST_YEARS after the median order date of erp/sales_orders (the
# median, so that one wrong order date cannot move the bound itself).
EARLIEST_DATE = "1900-01-01"
LATEST_YEARS = 30
DATE_REFERENCE = ("erp/sales_orders", "order_date")
DATE_RANGE_TEXT = (f"Every date and timestamp must lie from {EARLIEST_DATE} to {LATEST_YEARS} "
                   f"years after the median `{DATE_REFERENCE[1]}` of `{DATE_REFERENCE[0]}` "
                   "(rule `date_out_of_range`).")
# Plausibility bounds shared by several columns (see Column.minimum / maximum).
MAX_MONEY = 1e9  # a unit price or cost: a billion in the currency
MAX_LOT = 1e7  # a minimum order or an order multiple: ten million units


@dataclass(frozen=True)
class HistoryBound:
    """A value more than `multiple` x its reference is implausible (rule
    `implausible_quantity`). The reference is the larger of the same `by`'s largest value on
    an earlier `date` (values found implausible left out) and the file's median value: the
    median is the floor, so the first lines of a young sku are judged against the file."""

    by: str
    date: str
    multiple: float

    def text(self) -> str:
        return (f"at most {self.multiple:,g} x the {self.by}'s largest line on an earlier "
                f"{self.date} (or the file's median line)")


@dataclass(frozen=True)
class Column:
    """One contract column. `kind` is one of text, int, float, date, timestamp."""

    name: str
    kind: str
    description: str
    example: str
    nullable: bool = False
    required: bool = True
    nonnegative: bool = False
    positive: bool = False  # > 0 where present (sizes and multiples: 0 means nothing)
    allowed: tuple[str, ...] = ()
    # plausibility bounds (inclusive; rule `out_of_bounds`): values no real company would
    # enter, so a value beyond one is a typo or a unit mistake (10 meant as 10 %)
    minimum: float | None = None
    maximum: float | None = None
    history: HistoryBound | None = None

    def bounds_text(self) -> str:
        """The plausibility bounds in words: `from -1 to 3`, `at most 730`, or ``."""
        low, high = (None if b is None else _number(b) for b in (self.minimum, self.maximum))
        if low is not None and high is not None:
            return f"from {low} to {high}"
        if high is not None:
            return f"at most {high}"
        return f"at least {low}" if low is not None else ""


@dataclass(frozen=True)
class Entity:
    """One extract file: `erp/items` is read from `erp/items.csv` or `erp/items.parquet`."""

    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    required: bool = False
    references: dict[str, tuple[str, str]] = field(default_factory=dict)
    # a planner's file is used whole or refused: a row breaking a rule fails the load
    # instead of being quarantined (a dropped override would change the plan silently)
    whole: bool = False

    @property
    def table(self) -> str:
        """Name of the raw table in DuckDB, e.g. `erp_items`."""
        return self.name.replace("/", "_")

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _c(name: str, kind: str, description: str, example: str, **kw) -> Column:
    return Column(name, kind, description, example, **kw)


def _number(value: float) -> str:
    """1e9 -> `1,000,000,000`, -0.95 -> `-0.95`."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


ENTITIES: tuple[Entity, ...] = (
    Entity(
        "erp/items",
        "Item master: one row per sku.",
        key=("sku",),
        required=True,
        columns=(
            _c("sku", "text", "Stock-keeping unit code.", "BIK-001"),
            _c("description", "text", "Item description.", "Road bike 54cm", nullable=True),
            _c("family", "text", "Product family used for budget and roll-ups.", "Bikes"),
            _c("uom", "text", "Unit of measure.", "EA", nullable=True),
            _c("unit_cost", "float", "Standard cost per unit.", "412.50", nonnegative=True,
               maximum=MAX_MONEY),
            _c("unit_price", "float", "List price per unit.", "899.00", nonnegative=True,
               maximum=MAX_MONEY),
            _c("make_or_buy", "text", "Whether the item is produced or purchased.", "make",
               allowed=("make", "buy")),
            _c("lead_time_days", "float", "Replenishment lead time in days.", "21",
               nonnegative=True, maximum=730),
            _c("min_order_qty", "float", "Smallest quantity one planned order may have, in "
               "the item's unit (a batch or supplier minimum); empty: no minimum.", "50",
               nullable=True, required=False, positive=True, maximum=MAX_LOT),
            _c("order_multiple", "float", "Planned orders are whole multiples of this "
               "quantity (a pack, pallet or batch size); empty: any quantity the unit of "
               "measure allows.", "10", nullable=True, required=False, positive=True,
               maximum=MAX_LOT),
        ),
    ),
    Entity(
        "erp/locations",
        "Plants and distribution centres.",
        key=("location_id",),
        required=True,
        columns=(
            _c("location_id", "text", "Location code.", "PLT1"),
            _c("name", "text", "Location name.", "Main plant", nullable=True),
            _c("kind", "text", "plant or dc.", "plant", allowed=("plant", "dc")),
        ),
    ),
    Entity(
        "erp/sales_orders",
        "Sales order lines, the demand history.",
        key=("order_id", "line_no"),
        required=True,
        references={"sku": ("erp/items", "sku"), "location_id": ("erp/locations", "location_id")},
        columns=(
            _c("order_id", "text", "Sales order number.", "SO-000123"),
            _c("line_no", "int", "Line number within the order.", "1", nonnegative=True),
            _c("order_date", "date", "Date the order was booked.", "2025-03-14"),
            _c("requested_date", "date", "Date the customer asked for.", "2025-03-28",
               nullable=True),
            _c("account_id", "text", "Customer account (CRM account_id).", "ACC-0042",
               nullable=True),
            _c("sku", "text", "Ordered sku.", "BIK-001"),
            _c("location_id", "text", "Shipping location.", "DC1"),
            _c("quantity", "float", "Ordered quantity in the item's unit.", "4",
               nonnegative=True, history=HistoryBound("sku", "order_date", 1000)),
            _c("net_amount", "float", "Net order line value.", "3420.00", nullable=True),
            _c("status", "text", "open, shipped, invoiced or cancelled.", "invoiced",
               nullable=True),
        ),
    ),
    Entity(
        "erp/work_centers",
        "Work centres and the hours they have each month.",
        key=("work_center_id",),
        references={"location_id": ("erp/locations", "location_id")},
        columns=(
            _c("work_center_id", "text", "Work centre code.", "WC-ASSY"),
            _c("name", "text", "Work centre name.", "Final assembly", nullable=True),
            _c("location_id", "text", "Plant where the centre is.", "PLT1"),
            _c("available_hours_per_month", "float", "Hours available in a normal month.",
               "640", nonnegative=True),
        ),
    ),
    Entity(
        "erp/work_center_calendar",
        "Months where a work centre has other hours than usual: shutdowns, holidays, overtime.",
        key=("work_center_id", "month"),
        references={"work_center_id": ("erp/work_centers", "work_center_id")},
        columns=(
            _c("work_center_id", "text", "Work centre code.", "WC-ASSY"),
            _c("month", "date", "First day of the month.", "2026-08-01"),
            _c("available_hours", "float", "Hours available that month (replaces the "
               "normal month).", "320", nonnegative=True),
            _c("reason", "text", "Why the month differs.", "Summer shutdown", nullable=True),
        ),
    ),
    Entity(
        "erp/routings",
        "Hours each sku needs on each work centre.",
        key=("sku", "work_center_id"),
        references={"sku": ("erp/items", "sku"),
                    "work_center_id": ("erp/work_centers", "work_center_id")},
        columns=(
            _c("sku", "text", "Produced sku.", "BIK-001"),
            _c("work_center_id", "text", "Work centre used.", "WC-ASSY"),
            _c("hours_per_unit", "float", "Hours per unit produced.", "0.75", nonnegative=True,
               maximum=1000),
        ),
    ),
    Entity(
        "erp/purchase_orders",
        "Purchase order lines, open and closed.",
        key=("po_id", "line_no"),
        references={"sku": ("erp/items", "sku"), "location_id": ("erp/locations", "location_id")},
        columns=(
            _c("po_id", "text", "Purchase order number.", "PO-004711"),
            _c("line_no", "int", "Line number within the order.", "1", nonnegative=True),
            _c("supplier_id", "text", "Supplier code.", "SUP-07"),
            _c("sku", "text", "Purchased sku.", "CMP-010"),
            _c("location_id", "text", "Receiving location.", "PLT1"),
            _c("quantity", "float", "Ordered quantity.", "500", nonnegative=True),
            _c("order_date", "date", "Date the order was placed.", "2025-02-01"),
            _c("due_date", "date", "Promised arrival date.", "2025-03-01"),
            _c("received_date", "date", "Date received; empty while open.", "2025-03-04",
               nullable=True),
            _c("status", "text", "open, received or cancelled.", "received",
               allowed=("open", "received", "cancelled")),
        ),
    ),
    Entity(
        "erp/production_orders",
        "Production (manufacturing) orders.",
        key=("mo_id",),
        references={"sku": ("erp/items", "sku"), "location_id": ("erp/locations", "location_id")},
        columns=(
            _c("mo_id", "text", "Production order number.", "MO-000321"),
            _c("sku", "text", "Produced sku.", "BIK-001"),
            _c("location_id", "text", "Producing plant.", "PLT1"),
            _c("quantity", "float", "Quantity to produce.", "120", nonnegative=True),
            _c("due_date", "date", "Planned completion date.", "2025-04-15"),
            _c("status", "text", "planned, released, completed or cancelled.", "released",
               allowed=("planned", "released", "completed", "cancelled")),
            _c("order_date", "date", "Day the order was created in the ERP. A cycle counts "
               "the order as open (holding its quantity and work-centre hours) only if it was "
               "created before the cut-off; empty: every order not completed or cancelled "
               "before the cut-off is open (right for an extract taken at the cut-off).",
               "2025-03-20", nullable=True, required=False),
        ),
    ),
    Entity(
        "erp/budget",
        "Budget by month and product family.",
        key=("month", "family"),
        columns=(
            _c("month", "date", "First day of the budget month.", "2026-01-01"),
            _c("family", "text", "Product family.", "Bikes"),
            _c("volume", "float", "Budgeted units.", "1500", nonnegative=True),
            _c("revenue", "float", "Budgeted revenue.", "1250000", nonnegative=True),
        ),
    ),
    Entity(
        "crm/accounts",
        "Customer accounts from the CRM.",
        key=("account_id",),
        columns=(
            _c("account_id", "text", "Account code.", "ACC-0042"),
            _c("name", "text", "Account name.", "Velo Retail GmbH", nullable=True),
            _c("segment", "text", "Customer segment.", "Retail", nullable=True),
            _c("region", "text", "Sales region.", "EMEA", nullable=True),
        ),
    ),
    Entity(
        "crm/deals",
        "Sales opportunities in the CRM pipeline.",
        key=("deal_id",),
        references={"sku": ("erp/items", "sku")},
        columns=(
            _c("deal_id", "text", "Deal code.", "DL-00017"),
            _c("account_id", "text", "Account of the deal.", "ACC-0042", nullable=True),
            _c("sku", "text", "Sku the deal is for.", "BIK-001"),
            _c("quantity", "float", "Units in the deal.", "200", nonnegative=True),
            _c("amount", "float", "Deal value.", "170000", nullable=True, nonnegative=True),
            _c("stage", "text", "Sales stage.", "proposal", nullable=True),
            _c("probability", "float", "Win probability, 0 to 1.", "0.4", nullable=True,
               nonnegative=True, maximum=1),
            _c("expected_close_date", "date", "Expected close date.", "2026-12-15"),
            _c("status", "text", "open, won or lost.", "open", allowed=("open", "won", "lost")),
            _c("updated_at", "timestamp", "Last change in the CRM.", "2026-10-20 14:03:00"),
        ),
    ),
    Entity(
        "stock/inventory",
        "Inventory snapshots: stock on hand per sku and location at a date.",
        key=("snapshot_date", "sku", "location_id"),
        required=True,
        references={"sku": ("erp/items", "sku"), "location_id": ("erp/locations", "location_id")},
        columns=(
            _c("snapshot_date", "date", "Date of the snapshot (end of day).", "2026-10-31"),
            _c("sku", "text", "Sku.", "BIK-001"),
            _c("location_id", "text", "Location.", "DC1"),
            _c("on_hand_qty", "float", "Units on hand.", "37", nonnegative=True),
        ),
    ),
    Entity(
        "plan/overrides",
        "Planner overrides of the demand plan (sku or family; quantity or pct_change).",
        key=("month", "sku", "family", "location_id"),
        whole=True,
        columns=(
            _c("month", "date", "First day of the month overridden.", "2026-12-01"),
            _c("sku", "text", "Sku overridden (or empty with a family).", "BIK-001",
               nullable=True, required=False),
            _c("family", "text", "Family overridden (or empty with a sku).", "",
               nullable=True, required=False),
            _c("location_id", "text", "Location.", "DC1", nullable=True),
            _c("quantity", "float", "Absolute quantity for the month.", "250", nullable=True,
               required=False, nonnegative=True),
            _c("pct_change", "float", "Relative change, 0.1 = +10 %.", "", nullable=True,
               required=False, minimum=-1, maximum=3),
            _c("reason", "text", "Why the planner overrides.", "Tender won"),
            _c("author", "text", "Who overrides.", "j.doe"),
        ),
    ),
    Entity(
        "plan/events",
        "Known events (promotions, launches), past and planned, as uplifts.",
        key=("name",),
        whole=True,
        columns=(
            _c("name", "text", "Event name.", "Spring promo"),
            _c("start_month", "date", "First month of the event.", "2027-03-01"),
            _c("end_month", "date", "Last month of the event.", "2027-04-01"),
            _c("sku", "text", "Sku affected (or empty with a family).", "", nullable=True,
               required=False),
            _c("family", "text", "Family affected (or empty with a sku).", "Bikes",
               nullable=True, required=False),
            _c("uplift_pct", "float", "Expected uplift, 0.2 = +20 %.", "0.2", minimum=-0.95,
               maximum=5),
        ),
    ),
    Entity(
        "plan/scenarios",
        "What-if scenarios, one row per lever of a named scenario; 'baseline' is reserved "
        "(it always exists and has no levers).",
        key=("scenario", "lever", "family", "sku", "work_center_id", "supplier_id",
             "start_month"),
        whole=True,
        references={"sku": ("erp/items", "sku"),
                    "work_center_id": ("erp/work_centers", "work_center_id")},
        columns=(
            _c("scenario", "text", "Scenario name (not 'baseline').", "Extra shift"),
            _c("description", "text", "What the scenario is about.",
               "A second shift on final assembly", nullable=True, required=False),
            _c("lever", "text", "What the row changes: demand_pct, capacity_pct, "
               "capacity_hours, supplier_delay_days, price_pct, cost_pct or service_level.",
               "capacity_pct", allowed=("demand_pct", "capacity_pct", "capacity_hours",
                                        "supplier_delay_days", "price_pct", "cost_pct",
                                        "service_level")),
            _c("family", "text", "Family the lever acts on (demand, price, cost; or empty).",
               "", nullable=True, required=False),
            _c("sku", "text", "Sku the lever acts on (demand, price, cost, supplier delay; or "
               "empty).", "", nullable=True, required=False),
            _c("work_center_id", "text", "Work centre of a capacity lever.", "WC-ASSY",
               nullable=True, required=False),
            _c("supplier_id", "text", "Supplier of a supplier_delay_days lever (a supplier_id "
               "of erp/purchase_orders).", "", nullable=True, required=False),
            _c("start_month", "date", "First month the lever acts on; empty: the horizon's "
               "first.", "2026-11-01", nullable=True, required=False),
            _c("end_month", "date", "Last month the lever acts on; empty: the horizon's last.",
               "2027-01-01", nullable=True, required=False),
            _c("value", "float", "The change: 0.25 = +25 % (the _pct levers), hours a month "
               "(capacity_hours), days (supplier_delay_days) or the target service level "
               "(0.5 to under 1).", "0.25"),
        ),
    ),
    Entity(
        "plan/decisions",
        "Decisions of the S&OP meetings: one row when a decision is taken, a later row for "
        "the same decision_id restates its status at a later meeting.",
        key=("decision_id", "cycle_month"),
        whole=True,
        columns=(
            _c("cycle_month", "date", "The meeting's cycle (first day of month).", "2026-10-01"),
            _c("decision_id", "text", "Decision code.", "D-2026-10-01"),
            _c("title", "text", "What was decided.", "Run a second shift on final assembly"),
            _c("adopted_scenario", "text", "Scenario of plan/scenarios the decision adopts as "
               "the cycle's plan; empty when it adopts none.", "Extra shift", nullable=True,
               required=False),
            _c("owner", "text", "Who follows it up.", "ops.director"),
            _c("due_month", "date", "Month it is due (first day).", "2026-12-01",
               nullable=True, required=False),
            _c("status", "text", "open, done or dropped, as of that meeting.", "open",
               allowed=("open", "done", "dropped")),
            _c("rationale", "text", "Why it was decided.", "Peak season overload", nullable=True,
               required=False),
        ),
    ),
)

BY_NAME: dict[str, Entity] = {e.name: e for e in ENTITIES}
