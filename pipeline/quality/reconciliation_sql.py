"""Pure SQL builders of the reconciliation rules: each returns a SELECT of the rows that break the rule.

Kept free of Dagster so the rules can be read (and unit tested) as plain SQL. Money is compared as DECIMAL,
so "equal" means equal to the last cent (no float tolerance hides a lost row).
"""

from __future__ import annotations


def money_by_currency_sql(raw: str, staged: str) -> str:
    """Currencies whose row count or sum(amount) differs between the raw table and its staging view.

    Staging must neither drop nor duplicate nor alter rows: money in = money out, per currency.
    """
    return f"""
        WITH raw AS (SELECT currency, count(*) AS rows, sum(amount) AS amount FROM {raw} GROUP BY currency),
             staged AS (SELECT currency, count(*) AS rows, sum(amount) AS amount FROM {staged} GROUP BY currency)
        SELECT coalesce(raw.currency, staged.currency) AS currency,
               raw.rows AS raw_rows, staged.rows AS staging_rows,
               raw.amount AS raw_amount, staged.amount AS staging_amount
        FROM raw FULL OUTER JOIN staged ON raw.currency IS NOT DISTINCT FROM staged.currency
        WHERE raw.rows IS DISTINCT FROM staged.rows OR raw.amount IS DISTINCT FROM staged.amount
    """


def _keys(segmented: bool) -> str:
    return "grain, period_start" + (", segment" if segmented else "")


def mrr_identity_sql(table: str, segmented: bool = False) -> str:
    """Rows where mrr_end != mrr_start + new + reactivation + expansion - contraction - churned (exact decimal)."""
    expected = "mrr_start + new_mrr + reactivation_mrr + expansion_mrr - contraction_mrr - churned_mrr"
    return f"""
        SELECT {_keys(segmented)}, mrr_start, new_mrr, reactivation_mrr, expansion_mrr, contraction_mrr,
               churned_mrr, mrr_end, {expected} AS expected_mrr_end
        FROM {table}
        WHERE mrr_end IS DISTINCT FROM {expected}
    """


def customer_count_identity_sql(table: str, segmented: bool = False) -> str:
    """Rows where customers_end != start - churned + new - new_lost + reactivated."""
    expected = (
        "customers_start - customers_churned + customers_new - customers_new_lost + customers_reactivated"
    )
    return f"""
        SELECT {_keys(segmented)}, customers_start, customers_churned, customers_new, customers_new_lost,
               customers_reactivated, customers_end, {expected} AS expected_customers_end
        FROM {table}
        WHERE customers_end IS DISTINCT FROM {expected}
    """


def cohort_size_sql(cohorts: str, retention: str) -> str:
    """Periods whose offset-0 cohort_size differs from retention.customers_new of the same grain and period.

    A period with no cohort row counts as a cohort of 0; a cohort row with no retention row is a mismatch.
    """
    return f"""
        WITH cohorts AS (
            SELECT grain, cohort_period_start AS period_start, cohort_size
            FROM {cohorts} WHERE period_offset = 0
        )
        SELECT coalesce(r.grain, c.grain) AS grain, coalesce(r.period_start, c.period_start) AS period_start,
               r.customers_new, c.cohort_size
        FROM {retention} AS r
        FULL OUTER JOIN cohorts AS c ON c.grain = r.grain AND c.period_start = r.period_start
        WHERE coalesce(c.cohort_size, 0) IS DISTINCT FROM r.customers_new
    """


def activity_before_first_active_sql(customer_periods: str) -> str:
    """customer_periods rows that show a customer before its first active day.

    Two ways that can show: a row in a period before the customer's cohort period (the period containing the
    first active day), or a row that is both new (first active inside the period) and active on the start day
    (the day before the period), which would be activity before the first active day.
    """
    return f"""
        SELECT grain, period_start, customer_id, cohort_period_start, active_at_start, is_new,
               CASE WHEN period_start < cohort_period_start THEN 'period_before_cohort'
                    ELSE 'active_at_start_but_new' END AS problem
        FROM {customer_periods}
        WHERE period_start < cohort_period_start OR (is_new AND active_at_start)
    """


def rows_without_fx_rate_sql(converted: str, key: str) -> str:
    """Rows of an *_converted model without a usable fx rate (left out of every money figure)."""
    return f"SELECT {key}, currency FROM {converted} WHERE NOT has_fx_rate"
