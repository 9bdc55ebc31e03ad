"""Reconciliation checks: identities that must hold exactly between tables, or the published numbers are wrong.

All but `rows_without_fx_rate` are blocking ERROR checks: when one fails, the assets downstream of the checked
asset in the same run do not materialize, so the tables built from the wrong numbers keep their last good
content. They read the whole table (partitioned marts included): the identities are per row and cheap.
"""


import dagster as dg

from pipeline.lib.schemas import MARTS_BUILD
from pipeline.lib.warehouse import Warehouse
from pipeline.quality import reconciliation_sql as rules
from pipeline.quality.runner import POOL, Severity, failures_metadata, open_warehouse, skipped, sql_rule_check
from pipeline.quality.sql import failing_rows, missing_tables


def money_checks() -> list[dg.AssetChecksDefinition]:
    """Money in = money out per currency, from each raw money table to its staging view."""
    pairs = [
        ("invoice_money_reconciles", "billing.invoices", ["staging", "stg_billing__invoices"]),
        ("order_money_reconciles", "shop.orders", ["staging", "stg_shop__orders"]),
    ]
    return [
        sql_rule_check(
            name=name,
            asset=asset,
            tables=[raw, ".".join(asset)],
            sql=rules.money_by_currency_sql(raw, ".".join(asset)),
            description=f"Per currency, row count and sum(amount) of {raw} equal those of {'.'.join(asset)}.",
            blocking=True,
            additional_deps=[raw.split(".")],
        )
        for name, raw, asset in pairs
    ]


def identity_checks() -> list[dg.AssetChecksDefinition]:
    checks = []
    for table, segmented in (("revenue_churn", False), ("revenue_churn_by_segment", True)):
        checks.append(
            sql_rule_check(
                name="mrr_movements_reconcile",
                asset=[MARTS_BUILD, table],
                tables=[f"{MARTS_BUILD}.{table}"],
                sql=rules.mrr_identity_sql(f"{MARTS_BUILD}.{table}", segmented),
                description="mrr_end = mrr_start + new + reactivation + expansion - contraction - churned, "
                "exactly, for every row (grain, period" + (", segment" if segmented else "") + ").",
                blocking=True,
            )
        )
    for table, segmented in (("retention", False), ("retention_by_segment", True)):
        checks.append(
            sql_rule_check(
                name="customer_counts_reconcile",
                asset=[MARTS_BUILD, table],
                tables=[f"{MARTS_BUILD}.{table}"],
                sql=rules.customer_count_identity_sql(f"{MARTS_BUILD}.{table}", segmented),
                description="customers_end = customers_start - churned + new - new_lost + reactivated for every row.",
                blocking=True,
            )
        )
    checks.append(
        sql_rule_check(
            name="cohort_sizes_match_new_customers",
            asset=[MARTS_BUILD, "cohort_retention"],
            tables=[f"{MARTS_BUILD}.cohort_retention", f"{MARTS_BUILD}.retention"],
            sql=rules.cohort_size_sql(f"{MARTS_BUILD}.cohort_retention", f"{MARTS_BUILD}.retention"),
            description="The offset-0 cohort_size of every cohort equals retention.customers_new of that grain "
            "and period.",
            blocking=True,
            additional_deps=[[MARTS_BUILD, "retention"]],
        )
    )
    checks.append(
        sql_rule_check(
            name="no_activity_before_first_active_day",
            asset=[MARTS_BUILD, "customer_periods"],
            tables=[f"{MARTS_BUILD}.customer_periods"],
            sql=rules.activity_before_first_active_sql(f"{MARTS_BUILD}.customer_periods"),
            description="No customer_periods row lies before the customer's cohort period, and no customer new "
            "in a period is active on its start day.",
            blocking=True,
        )
    )
    return checks


def _fx_check(asset: str, key: str, what: str) -> dg.AssetChecksDefinition:
    table = f"intermediate.{asset}"

    @dg.asset_check(
        asset=dg.AssetKey(["intermediate", asset]),
        name="rows_without_fx_rate",
        description=f"{what} without a usable fx rate: left out of every money figure (a warning, not an error: "
        "the figures are right for the rows that have a rate). Counted per currency.",
        blocking=False,
        pool=POOL,
        metadata={"severity": "WARN", "blocking": False},
    )
    def _check(warehouse: Warehouse) -> dg.AssetCheckResult:
        with open_warehouse(warehouse) as con:
            if con is None:
                return skipped([warehouse.path])
            if missing := missing_tables(con, [table]):
                return skipped(missing)
            failures = failing_rows(con, rules.rows_without_fx_rate_sql(table, key))
            by_currency = dict(
                con.execute(
                    f"SELECT currency, count(*) FROM {table} WHERE NOT has_fx_rate GROUP BY currency ORDER BY currency"
                ).fetchall()
            )
        return dg.AssetCheckResult(
            passed=failures.count == 0,
            severity=Severity.WARN,
            metadata={**failures_metadata(failures), "by_currency": dg.MetadataValue.json(by_currency)},
        )

    return _check


def fx_checks() -> list[dg.AssetChecksDefinition]:
    return [
        _fx_check("int_invoice_lines_converted", "invoice_id, line_id", "Invoice lines"),
        _fx_check("int_orders_converted", "order_id", "Orders"),
    ]


def reconciliation_checks() -> list[dg.AssetChecksDefinition]:
    return [*money_checks(), *identity_checks(), *fx_checks()]
