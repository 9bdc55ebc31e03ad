"""marts.at_risk_customers: the list a customer-success team works from, with the reasons behind each flag.

SQL gathers one row of signals per currently active customer; at_risk.py applies the thresholds and ranks.
Names and emails go to the warehouse table (and the outreach export) only, never to logs or metadata.
"""

import dagster as dg
import pandas as pd

from pipeline.lib.markdown import markdown_text
from pipeline.lib.warehouse import Warehouse
from pipeline.value.at_risk import REASONS, Thresholds, at_risk, mask_name
from pipeline.value.clv_asset import CLV_KEY, CUSTOMER_VALUE
from pipeline.value.purchase_model import PREDICTIONS_KEY

CUSTOMERS = dg.AssetKey(["staging", "stg_crm__customers"])
AT_RISK_KEY = dg.AssetKey(["marts", "at_risk_customers"])

SIGNALS_SQL = """
SELECT cv.customer_id, cv.as_of, cv.segment, cv.last_order_day, cv.order_days, cv.median_purchase_gap_days,
       cv.current_mrr, cv.mrr_one_month_ago, cv.oldest_open_line_issued_on, cv.trailing_12m_revenue,
       p.p_alive, l.clv, l.value_at_stake, c.customer_name AS name, c.email
FROM marts.customer_value cv
LEFT JOIN marts.customer_purchase_predictions p USING (customer_id)
LEFT JOIN marts.customer_lifetime_value l USING (customer_id)
LEFT JOIN staging.stg_crm__customers c USING (customer_id)
WHERE cv.is_active
"""

OUTPUT_COLUMNS = [
    "as_of",
    "customer_id",
    "name",
    "email",
    "segment",
    "reasons",
    "value_at_risk",
    "p_alive",
    "days_since_last_activity",
    "expected_next_order_date",
    "priority_rank",
    "clv",
    "value_at_stake",
]


class RiskSettings(dg.ConfigurableResource):
    """Thresholds of the at-risk reasons (RETENTION_OVERDUE_FACTOR, _INACTIVE_DAYS, _PAYMENT_GRACE_DAYS,
    _P_ALIVE_THRESHOLD, _MRR_CONTRACTION_MIN_PCT)."""

    overdue_factor: float
    inactive_days: int
    payment_grace_days: int
    p_alive_threshold: float
    mrr_contraction_min_pct: float

    def thresholds(self) -> Thresholds:
        return Thresholds(
            self.overdue_factor,
            self.inactive_days,
            self.payment_grace_days,
            self.p_alive_threshold,
            self.mrr_contraction_min_pct,
        )


def shape(flagged: pd.DataFrame) -> pd.DataFrame:
    """The published columns: days since the last order day, and the next order expected one own-gap later."""
    out = flagged.copy()
    last_order = pd.to_datetime(out["last_order_day"])
    out["days_since_last_activity"] = (pd.to_datetime(out["as_of"]) - last_order).dt.days.astype("Int64")
    gap = pd.to_timedelta(out["median_purchase_gap_days"].astype("float64").round(), unit="D")
    out["expected_next_order_date"] = (last_order + gap).dt.date
    return out[OUTPUT_COLUMNS]


def top_preview(table: pd.DataFrame, n: int = 10) -> str:
    """Markdown of the first n rows with names masked: metadata is seen by everyone with UI access. Ids, names
    and segments come from landing files, so they are escaped to show as the text they are."""
    lines = [
        "| rank | customer | name | segment | value at risk | value at stake | reasons |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in table.head(n).itertuples():
        cells = (row.customer_id, mask_name(row.name), "" if pd.isna(row.segment) else row.segment, ", ".join(row.reasons))
        customer, name, segment, reasons = (markdown_text(c) for c in cells)
        stake = "" if pd.isna(row.value_at_stake) else f"{row.value_at_stake:,.2f}"
        lines.append(f"| {row.priority_rank} | {customer} | {name} | {segment} | {row.value_at_risk:,.2f} | {stake} | "
                     f"{reasons} |")
    return "\n".join(lines)


@dg.asset(
    key=AT_RISK_KEY,
    deps=[CUSTOMER_VALUE, PREDICTIONS_KEY, CLV_KEY, CUSTOMERS],
    group_name="value",
    owners=["team:customer-success"],
    kinds={"python", "duckdb"},
    pool="warehouse",
)
def at_risk_customers(context: dg.AssetExecutionContext, warehouse: Warehouse, risk: RiskSettings):
    """Active customers with at least one risk reason, ranked by the value expected to leave with them."""
    with warehouse.connect(read_only=True) as con:
        signals = con.execute(SIGNALS_SQL).df()
    ranked = shape(at_risk(signals, risk.thresholds()))
    with warehouse.connect() as con:
        con.execute(
            "CREATE OR REPLACE TABLE marts.at_risk_customers AS SELECT * FROM ranked ORDER BY priority_rank"
        )
    counts = {r: int(sum(r in reasons for reasons in ranked["reasons"])) for r in REASONS}
    reason_table = "| reason | customers |\n|---|---|\n" + "\n".join(
        f"| {r} | {n} |" for r, n in counts.items()
    )
    context.log.info(f"{len(ranked)} of {len(signals)} active customers at risk")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(ranked),
            "active_customers": len(signals),
            "value_at_risk_total": float(ranked["value_at_risk"].sum()) if len(ranked) else 0.0,
            "value_at_stake_total": float(ranked["value_at_stake"].sum()) if len(ranked) else 0.0,
            "reasons": dg.MetadataValue.md(reason_table),
            "top_10": dg.MetadataValue.md(top_preview(ranked)),
        }
    )
