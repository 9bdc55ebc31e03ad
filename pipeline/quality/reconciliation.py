"""Reconciliation checks: identities that must hold exactly between tables, or the published numbers are wrong.

All but `rows_without_fx_rate` are blocking ERROR checks: when one fails, the assets downstream of the checked
asset in the same run do not materialize, so the tables built from the wrong numbers keep their last good
content. They read the whole table (partitioned marts included): the identities are per row and cheap.
"""


import dagster as dg
import duckdb

from pipeline.quality import reconciliation_sql as rules
from pipeline.quality.runner import (
    CheckRun,
    Rule,
    Severity,
    failures_metadata,
    grouped_checks,
    rule_spec,
    sql_rule,
)
from pipeline.quality.sql import failing_rows


def money_rules() -> list[Rule]:
    """Money in = money out per currency, from each raw money table to its staging view."""
    pairs = [
        ("invoice_money_reconciles", "billing.invoices", ["staging", "stg_billing__invoices"]),
        ("order_money_reconciles", "shop.orders", ["staging", "stg_shop__orders"]),
    ]
    return [
        sql_rule(
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


def identity_rules() -> list[Rule]:
    checks = []
    for table, segmented in (("revenue_churn", False), ("revenue_churn_by_segment", True)):
        checks.append(
            sql_rule(
                name="mrr_movements_reconcile",
                asset=["marts", table],
                tables=[f"marts.{table}"],
                sql=rules.mrr_identity_sql(f"marts.{table}", segmented),
                description="mrr_end = mrr_start + new + reactivation + expansion - contraction - churned, "
                "exactly, for every row (grain, period" + (", segment" if segmented else "") + ").",
                blocking=True,
            )
        )
    for table, segmented in (("retention", False), ("retention_by_segment", True)):
        checks.append(
            sql_rule(
                name="customer_counts_reconcile",
                asset=["marts", table],
                tables=[f"marts.{table}"],
                sql=rules.customer_count_identity_sql(f"marts.{table}", segmented),
                description="customers_end = customers_start - churned + new - new_lost + reactivated for every row.",
                blocking=True,
            )
        )
    checks.append(
        sql_rule(
            name="cohort_sizes_match_new_customers",
            asset=["marts", "cohort_retention"],
            tables=["marts.cohort_retention", "marts.retention"],
            sql=rules.cohort_size_sql("marts.cohort_retention", "marts.retention"),
            description="The offset-0 cohort_size of every cohort equals retention.customers_new of that grain "
            "and period.",
            blocking=True,
            additional_deps=[["marts", "retention"]],
        )
    )
    checks.append(
        sql_rule(
            name="no_activity_before_first_active_day",
            asset=["marts", "customer_periods"],
            tables=["marts.customer_periods"],
            sql=rules.activity_before_first_active_sql("marts.customer_periods"),
            description="No customer_periods row lies before the customer's cohort period, and no customer new "
            "in a period is active on its start day.",
            blocking=True,
        )
    )
    return checks


def _fx_rule(asset: str, key: str, what: str) -> Rule:
    table = f"intermediate.{asset}"

    def evaluate(con: duckdb.DuckDBPyConnection, _run: CheckRun) -> dg.AssetCheckResult:
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

    spec = rule_spec(
        ["intermediate", asset],
        "rows_without_fx_rate",
        f"{what} without a usable fx rate: left out of every money figure (a warning, not an error: the figures "
        "are right for the rows that have a rate). Counted per currency.",
        blocking=False,
        severity="WARN",
    )
    return Rule(spec=spec, tables=[table], evaluate=evaluate)


def fx_rules() -> list[Rule]:
    return [
        _fx_rule("int_invoice_lines_converted", "invoice_id, line_id", "Invoice lines"),
        _fx_rule("int_orders_converted", "order_id", "Orders"),
    ]


def reconciliation_checks() -> list[dg.AssetChecksDefinition]:
    """Two steps: money and fx rates of the staging and intermediate layers (they gate everything built on
    them, as the BG/NBD fit), and the identities of the marts (they gate publishing)."""
    return [
        grouped_checks("staging_reconciliation", [*money_rules(), *fx_rules()]),
        grouped_checks("mart_reconciliation", identity_rules()),
    ]
