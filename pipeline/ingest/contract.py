"""The landing-data contract: which folders exist, which columns each file must carry, and how they are typed.

Everything else in ingest (readers, validation SQL, the raw DuckDB tables, the dbt sources) is derived from
this one description, so a new column or entity is a change in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

INVOICE_STATUSES = ("paid", "open", "void", "uncollectible", "refunded")
ORDER_STATUSES = ("completed", "cancelled", "refunded")

# Columns every raw table carries besides the contract columns: where each row came from.
LINEAGE_COLUMNS = {
    "_source_file": "VARCHAR",  # path relative to the landing folder
    "_source_row": "BIGINT",  # 1-based data row inside that file (the header is not counted)
    "_batch_id": "BIGINT",  # the manifest batch that loaded it
    "_loaded_at": "TIMESTAMP",
}


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str  # DuckDB type of the raw table column: VARCHAR, DATE, TIMESTAMP, DECIMAL(18,4), DOUBLE
    required: bool = True  # a file without this column is rejected whole
    nullable: bool = True  # a row with an empty value here is quarantined when False
    allowed: tuple[str, ...] = ()  # accepted values (compared lower-case), empty = any
    is_currency: bool = False  # must be an ISO 4217 code
    non_negative: bool = False  # negative values are quarantined


@dataclass(frozen=True)
class Entity:
    folder: str  # landing sub-folder and raw table name
    source: str  # DuckDB schema, dbt source name, first part of the Dagster asset key
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    optional: bool = False  # optional folders may be absent; so may invoices or orders (one suffices)
    date_order: tuple[str, str] | None = None  # (start, end): end must be after start
    description: str = ""
    # SQL over a row `r` of this entity: the first day whose period numbers a new or replaced row can change.
    # None: no quarterly mart reads this entity (see `changes` in loader.py and docs/orchestration.md).
    touches_from: str | None = None
    # A SELECT of `customer_id` over `{rows}`, the new and replaced rows of this entity (with the columns
    # `touched_customer_columns`): every customer whose derived numbers those rows can change, logged in
    # ingest.changed_customers. None: the entity's rows concern no customer in particular.
    touches_customers: str | None = None
    touched_customer_columns: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def table(self) -> str:
        return self.folder

    @property
    def qualified(self) -> str:
        return f"{self.source}.{self.table}"

    @property
    def asset_key_path(self) -> list[str]:
        return [self.source, self.table]


MONEY = "DECIMAL(18,4)"
# A customer's attributes (segment) can change every period of that customer: a customer row touches everything
# from the customer's first invoice or order. Churn feedback touches no quarter: churn_reasons is rebuilt whole.
CUSTOMER_FIRST_DAY = """(SELECT min(d) FROM (
    SELECT min(period_start) AS d FROM billing.invoices i WHERE i.customer_id = r.customer_id
    UNION ALL SELECT min(CAST(ordered_at AS DATE)) FROM shop.orders o WHERE o.customer_id = r.customer_id))"""

# A row of an entity with a customer_id changes that customer's numbers (the old version of a replaced row too).
BY_CUSTOMER = {"touches_customers": "SELECT customer_id FROM {rows}", "touched_customer_columns": ("customer_id",)}
# A rate of currency C on day D is the as-of rate (nearest on or before) of every invoice line of currency C
# with period_start >= D and every order of currency C ordered on or after D (dbt's join_fx_rate): their
# customers, from the raw tables as they stand (invoices and orders load before fx_rates). Over-inclusive
# (a later rate may take over again), never missing one.
FX_CUSTOMERS = {
    "touches_customers": """WITH since AS (SELECT currency, min("date") AS since FROM {rows} GROUP BY currency)
    SELECT i.customer_id FROM billing.invoices i JOIN since s ON i.currency = s.currency AND i.period_start >= s.since
    UNION ALL SELECT o.customer_id FROM shop.orders o JOIN since s ON o.currency = s.currency AND o.ordered_at >= s.since""",
    "touched_customer_columns": ("currency", "date"),
}

ENTITIES: tuple[Entity, ...] = (
    Entity(
        folder="invoices",
        touches_from="r.period_start",
        **BY_CUSTOMER,
        source="billing",
        description="Invoice lines with their service period, one row per line.",
        key=("invoice_id", "line_id"),
        date_order=("period_start", "period_end"),
        columns=(
            Column("invoice_id", "VARCHAR", nullable=False),
            Column("line_id", "VARCHAR", nullable=False),
            Column("customer_id", "VARCHAR", nullable=False),
            Column("subscription_id", "VARCHAR", required=False),
            Column("amount", MONEY, nullable=False),
            Column("currency", "VARCHAR", nullable=False, is_currency=True),
            Column("period_start", "DATE", nullable=False),
            Column("period_end", "DATE", nullable=False),
            Column("status", "VARCHAR", nullable=False, allowed=INVOICE_STATUSES),
            Column("issued_at", "TIMESTAMP", nullable=False),
        ),
    ),
    Entity(
        folder="orders",
        touches_from="CAST(r.ordered_at AS DATE)",
        **BY_CUSTOMER,
        source="shop",
        description="Shop orders, one row per order.",
        key=("order_id",),
        columns=(
            Column("order_id", "VARCHAR", nullable=False),
            Column("customer_id", "VARCHAR", nullable=False),
            Column("ordered_at", "TIMESTAMP", nullable=False),
            Column("amount", MONEY, nullable=False, non_negative=True),
            Column("currency", "VARCHAR", nullable=False, is_currency=True),
            Column("status", "VARCHAR", nullable=False, allowed=ORDER_STATUSES),
        ),
    ),
    Entity(
        folder="customers",
        touches_from=CUSTOMER_FIRST_DAY,
        **BY_CUSTOMER,
        source="crm",
        optional=True,
        description="Customer master data: name, contact, segment.",
        key=("customer_id",),
        columns=(
            Column("customer_id", "VARCHAR", nullable=False),
            Column("name", "VARCHAR", required=False),
            Column("email", "VARCHAR", required=False),
            Column("country", "VARCHAR", required=False),
            Column("segment", "VARCHAR", required=False),
            Column("created_at", "TIMESTAMP", required=False),
        ),
    ),
    Entity(
        folder="fx_rates",
        touches_from="r.date",
        **FX_CUSTOMERS,
        source="finance",
        optional=True,
        description="Exchange rates: reporting-currency units for one unit of `currency` on `date`.",
        key=("date", "currency"),
        columns=(
            Column("date", "DATE", nullable=False),
            Column("currency", "VARCHAR", nullable=False, is_currency=True),
            Column("rate", "DECIMAL(18,8)", nullable=False, non_negative=True),
        ),
    ),
    Entity(
        folder="acquisition_costs",
        source="marketing",
        optional=True,
        description="Marketing spend per period and channel, in the reporting currency.",
        key=("period_start", "channel"),
        columns=(
            Column("period_start", "DATE", nullable=False),
            Column("channel", "VARCHAR", nullable=False),
            Column("amount", MONEY, nullable=False, non_negative=True),
        ),
    ),
    Entity(
        folder="churn_feedback",
        source="crm",
        **BY_CUSTOMER,
        optional=True,
        description="Cancellation-survey answers.",
        key=("customer_id", "submitted_at"),
        columns=(
            Column("customer_id", "VARCHAR", nullable=False),
            Column("submitted_at", "TIMESTAMP", nullable=False),
            Column("reason", "VARCHAR"),
            Column("comment", "VARCHAR", required=False),
        ),
    ),
)

ENTITIES_BY_FOLDER = {e.folder: e for e in ENTITIES}
