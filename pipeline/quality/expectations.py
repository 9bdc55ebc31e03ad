"""The Great Expectations suites as plain data: which expectation, on which columns, how critical.

No GX import here (importing GX costs seconds); `gx_run.py` turns these into GX 1.x expectations inside the
check. An expectation marked `critical` means the published numbers would be wrong if it fails (duplicate
keys, an unknown status, a service period that ends before it starts, a timestamp in the future, which would
move the as-of day): its failure is an ERROR and blocks. The others (implausible amounts) are WARN.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pipeline.ingest.contract import INVOICE_STATUSES, ORDER_STATUSES

CURRENCY_REGEX = r"^[A-Z]{3}$"
FUTURE_TOLERANCE = dt.timedelta(days=1)


@dataclass(frozen=True)
class Expect:
    kind: str  # the GX 1.x expectation class in great_expectations.expectations
    kwargs: Mapping[str, object]
    critical: bool = True

    @property
    def columns(self) -> set[str]:
        cols = {self.kwargs.get(k) for k in ("column", "column_A", "column_B")}
        cols |= set(self.kwargs.get("column_list", ()))
        return {c for c in cols if isinstance(c, str)}


@dataclass(frozen=True)
class Params:
    """What the suites need at run time: the clock (for 'not in the future') and the amount threshold."""

    now: dt.datetime  # naive UTC
    max_amount: float = 10_000_000.0


@dataclass(frozen=True)
class Suite:
    check_name: str
    asset: tuple[str, ...]
    table: str  # schema.table in the warehouse
    order_by: str  # deterministic row order when the whole table fits in the sample
    build: Callable[[Params], list[Expect]] = field(repr=False)
    description: str = ""
    # Raw tables: validate only the rows of ingest batches (`_batch_id`) no earlier validation accepted, since
    # older rows were validated when they arrived; marts are small and rebuilt, so they are validated whole.
    by_batch: bool = False

    def columns(self, params: Params) -> list[str]:
        return sorted(set().union(*(e.columns for e in self.build(params))))


def not_null(*columns: str) -> list[Expect]:
    return [Expect("ExpectColumnValuesToNotBeNull", {"column": c}) for c in columns]


def unique(*columns: str) -> Expect:
    if len(columns) == 1:
        return Expect("ExpectColumnValuesToBeUnique", {"column": columns[0]})
    return Expect("ExpectCompoundColumnsToBeUnique", {"column_list": list(columns)})


def in_set(column: str, values: tuple[str, ...]) -> Expect:
    return Expect("ExpectColumnValuesToBeInSet", {"column": column, "value_set": list(values)})


def iso_currency(column: str = "currency") -> Expect:
    return Expect("ExpectColumnValuesToMatchRegex", {"column": column, "regex": CURRENCY_REGEX})


def between(column: str, low: object = None, high: object = None, critical: bool = True) -> Expect:
    kwargs = {"column": column}
    if low is not None:
        kwargs["min_value"] = low
    if high is not None:
        kwargs["max_value"] = high
    return Expect("ExpectColumnValuesToBeBetween", kwargs, critical)


def not_in_future(column: str, params: Params, critical: bool = True) -> Expect:
    return between(column, high=params.now + FUTURE_TOLERANCE, critical=critical)


def greater(a: str, b: str, or_equal: bool = False) -> Expect:
    return Expect("ExpectColumnPairValuesAToBeGreaterThanB", {"column_A": a, "column_B": b, "or_equal": or_equal})


def invoices(p: Params) -> list[Expect]:
    return [
        *not_null("invoice_id", "line_id", "customer_id", "amount", "currency", "period_start", "period_end",
                  "status", "issued_at"),
        unique("invoice_id", "line_id"),
        in_set("status", INVOICE_STATUSES),
        iso_currency(),
        between("amount", -p.max_amount, p.max_amount, critical=False),  # credits are negative
        greater("period_end", "period_start"),
        not_in_future("issued_at", p),
    ]


def orders(p: Params) -> list[Expect]:
    return [
        *not_null("order_id", "customer_id", "ordered_at", "amount", "currency", "status"),
        unique("order_id"),
        in_set("status", ORDER_STATUSES),
        iso_currency(),
        between("amount", 0, p.max_amount, critical=False),
        not_in_future("ordered_at", p),
    ]


def customers(p: Params) -> list[Expect]:
    # created_at feeds no metric, so a future value is a warning only
    return [*not_null("customer_id"), unique("customer_id"), not_in_future("created_at", p, critical=False)]


def fx_rates(p: Params) -> list[Expect]:
    # a rate of 0 or an absurd one makes converted money wrong but is counted downstream (rows_without_fx_rate)
    return [*not_null("date", "currency", "rate"), unique("date", "currency"), iso_currency(),
            between("rate", 0, 1_000_000, critical=False)]


def acquisition_costs(p: Params) -> list[Expect]:
    return [*not_null("period_start", "channel", "amount"), unique("period_start", "channel"),
            between("amount", 0, p.max_amount, critical=False)]


def churn_feedback(p: Params) -> list[Expect]:
    return [*not_null("customer_id", "submitted_at"), unique("customer_id", "submitted_at"),
            not_in_future("submitted_at", p)]


def retention(_: Params) -> list[Expect]:
    # retention_rate = (end - new) / start has no fixed bounds: reactivations can lift it above 100 and
    # new-and-lost customers can push it below 0 (see docs/metrics.md), so only its companions are bounded.
    counts = ["customers_start", "customers_new", "customers_new_lost", "customers_reactivated",
              "customers_churned", "customers_end"]
    return [
        between("churn_rate", 0, 100),
        between("logo_retention_rate", 0, 100),
        *(between(c, 0) for c in counts),
        greater("customers_start", "customers_churned", or_equal=True),
        greater("customers_new", "customers_new_lost", or_equal=True),
    ]


def revenue_churn(_: Params) -> list[Expect]:
    money = ["mrr_start", "new_mrr", "expansion_mrr", "reactivation_mrr", "contraction_mrr", "churned_mrr", "mrr_end"]
    # churned + contraction can never exceed mrr_start, so gross churn and gross retention are within 0..100;
    # net churn (negative with expansion) and NRR (above 100) are not bounded.
    return [
        between("gross_mrr_churn_rate", 0, 100),
        between("gross_revenue_retention", 0, 100),
        *(between(c, 0) for c in money),
    ]


def cohort_retention(_: Params) -> list[Expect]:
    # revenue_retention_rate is unbounded (credits, upsell); customer retention of a cohort is 0..100
    return [
        between("customer_retention_rate", 0, 100),
        between("cohort_size", 1),
        greater("cohort_size", "customers_active", or_equal=True),
    ]


def raw_suite(
    source: str, table: str, order_by: str, build: Callable[[Params], list[Expect]], description: str
) -> Suite:
    return Suite("landed_rows_are_plausible", (source, table), f"{source}.{table}", order_by, build, description,
                 by_batch=True)


RAW_SUITES = (
    raw_suite("billing", "invoices", "invoice_id, line_id", invoices,
              "Keys present and unique, statuses and currencies valid, period_end after period_start, issued_at "
              "not in the future, amounts plausible."),
    raw_suite("shop", "orders", "order_id", orders,
              "Keys present and unique, statuses and currencies valid, ordered_at not in the future, amounts "
              "plausible."),
    raw_suite("crm", "customers", "customer_id", customers,
              "customer_id present and unique, created_at not in the future."),
    raw_suite("crm", "churn_feedback", "customer_id, submitted_at", churn_feedback,
              "Keys present and unique, submitted_at not in the future."),
    raw_suite("finance", "fx_rates", "date, currency", fx_rates,
              "One rate per day and currency, ISO currency codes, rates plausible."),
    raw_suite("marketing", "acquisition_costs", "period_start, channel", acquisition_costs,
              "One amount per period and channel, amounts plausible."),
)

MART_SUITES = (
    Suite("rates_within_bounds", ("marts", "retention"), "marts.retention", "grain, period_start", retention,
          "churn_rate and logo_retention_rate within 0..100, counts non-negative, churned <= start."),
    Suite("rates_within_bounds", ("marts", "revenue_churn"), "marts.revenue_churn", "grain, period_start",
          revenue_churn, "gross_mrr_churn_rate and gross_revenue_retention within 0..100, MRR figures >= 0."),
    Suite("rates_within_bounds", ("marts", "cohort_retention"), "marts.cohort_retention",
          "grain, cohort_period_start, period_offset", cohort_retention,
          "customer_retention_rate within 0..100, customers_active <= cohort_size."),
)

SUITES = RAW_SUITES + MART_SUITES
