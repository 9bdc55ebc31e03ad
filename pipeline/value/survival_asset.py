"""marts.subscription_survival: how long subscribers stay, per signup quarter and per segment (Kaplan-Meier).

A lifetime starts on the subscriber's first day with MRR and ends with their last MRR interval when that ends on
or before the as-of day (an event); a subscriber with MRR on the as-of day is censored there. A gap followed by
a new subscription before the as-of day is one lifetime, not two (docs/purchase-model.md says why). SQL reduces
the MRR intervals to one row per (signup quarter, segment, months, ended) with a subscriber count; survival.py
fits the curves.
"""

import dagster as dg
import pandas as pd

from pipeline.lib.warehouse import Warehouse, replace_table

MRR_INTERVALS = dg.AssetKey(["intermediate", "int_customer_mrr_intervals"])
FIRST_ACTIVE = dg.AssetKey(["intermediate", "int_customers_first_active"])
AS_OF_DAY = dg.AssetKey(["intermediate", "int_as_of_day"])
SURVIVAL_KEY = dg.AssetKey(["marts", "subscription_survival"])

# Whole calendar months lived: date_sub counts complete months (Jan 31 -> Feb 29 is one, as billing anchors it).
LIFETIMES_SQL = """
WITH as_of AS (SELECT as_of_day FROM intermediate.int_as_of_day),
spans AS (
    SELECT i.customer_id, min(i.valid_from) AS first_mrr_day, max(i.valid_to) AS last_mrr_end
    FROM intermediate.int_customer_mrr_intervals i CROSS JOIN as_of
    WHERE i.valid_from <= as_of.as_of_day
    GROUP BY i.customer_id
),
lifetimes AS (
    SELECT spans.first_mrr_day, coalesce(f.segment, 'unknown') AS segment,
           spans.last_mrr_end <= as_of.as_of_day AS ended,
           date_sub('month', spans.first_mrr_day, least(spans.last_mrr_end, as_of.as_of_day)) AS months
    FROM spans CROSS JOIN as_of
    LEFT JOIN intermediate.int_customers_first_active f ON f.customer_id = spans.customer_id
)
SELECT year(first_mrr_day) || '-Q' || quarter(first_mrr_day) AS cohort_quarter, segment, months, ended,
       count(*) AS subscribers
FROM lifetimes
GROUP BY ALL
ORDER BY ALL
"""

AS_OF_SQL = "SELECT as_of_day FROM intermediate.int_as_of_day"

DDL = """CREATE OR REPLACE TABLE marts.subscription_survival (
    as_of DATE NOT NULL, group_type VARCHAR NOT NULL, group_value VARCHAR NOT NULL,
    months_since_start INTEGER NOT NULL, at_risk BIGINT NOT NULL, events BIGINT NOT NULL, censored BIGINT NOT NULL,
    survival DOUBLE NOT NULL, ci_lower DOUBLE, ci_upper DOUBLE, median_lifetime_months DOUBLE)"""


def read_lifetimes(con) -> tuple[pd.DataFrame, object]:
    """The aggregated lifetimes and the as-of day (None before any data)."""
    as_of = con.execute(AS_OF_SQL).fetchone()
    return con.execute(LIFETIMES_SQL).df(), (as_of[0] if as_of else None)


def survival_rows(lifetimes: pd.DataFrame, as_of: object) -> pd.DataFrame:
    """The mart's rows: every group's curve with the as-of day in front (empty without subscribers)."""
    from pipeline.value.survival import TABLE_COLUMNS, survival_table

    if lifetimes.empty:
        return pd.DataFrame(columns=["as_of", *TABLE_COLUMNS])
    table = survival_table(lifetimes)
    table.insert(0, "as_of", as_of)
    return table


def medians_table(table: pd.DataFrame) -> str:
    """Markdown: subscribers and median lifetime per group (segments and everyone; quarters are in the chart)."""
    lines = ["| group | subscribers | ended | median lifetime (months) |", "|---|---|---|---|"]
    firsts = table[table["months_since_start"] == 0]
    for row in firsts[firsts["group_type"] != "cohort_quarter"].itertuples():
        ended = int(table.loc[(table["group_type"] == row.group_type) & (table["group_value"] == row.group_value),
                              "events"].sum())
        median = "not reached" if pd.isna(row.median_lifetime_months) else f"{row.median_lifetime_months:g}"
        lines.append(f"| {row.group_value} | {row.at_risk:,} | {ended:,} | {median} |")
    return "\n".join(lines)


@dg.asset(
    key=SURVIVAL_KEY,
    deps=[MRR_INTERVALS, FIRST_ACTIVE, AS_OF_DAY],
    group_name="value",
    owners=["team:customer-success"],
    kinds={"python", "duckdb"},
    pool="warehouse",
)
def subscription_survival(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Kaplan-Meier survival of subscriptions per signup quarter and per segment, with 95 % intervals and the
    median lifetime of each group; censored at the as-of day."""
    with warehouse.connect(read_only=True) as con:
        lifetimes, as_of = read_lifetimes(con)
    curve_rows = survival_rows(lifetimes, as_of)
    replace_table(warehouse, DDL, "marts.subscription_survival", curve_rows)
    subscribers = int(lifetimes["subscribers"].sum()) if len(lifetimes) else 0
    ended = int(lifetimes.loc[lifetimes["ended"], "subscribers"].sum()) if len(lifetimes) else 0
    context.log.info(f"{subscribers} subscribers, {ended} lifetimes ended, {len(curve_rows)} curve rows")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(curve_rows),
            "as_of": str(as_of),
            "subscribers": subscribers,
            "lifetimes_ended": ended,
            # the curves are drawn by the report (its chart_subscription_survival metadata): drawn once per run
            "medians": dg.MetadataValue.md(medians_table(curve_rows)),
        }
    )
