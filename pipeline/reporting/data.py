"""What the report reads: small pandas frames from the published marts and the run's data-quality tables.

Pure readers over a read-only connection. A table that does not exist yet gives an empty frame with the
expected columns, so a report can be written at every stage (a fresh install, a run that stopped half-way)
and says what is missing instead of failing. Customer names are masked here, before they leave the reader:
nothing downstream (charts, HTML, Dagster metadata) ever holds a real name or an email.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from pipeline.value.at_risk import mask_name

COHORT_GRAIN = "month"
COHORT_COUNT = 12  # the latest monthly cohorts shown in the heatmap: a year of starts fits a page
TOP_AT_RISK = 10  # the at-risk customers with the most value at stake

RETENTION_COLUMNS = (
    "period_start", "is_complete", "customers_start", "customers_new", "customers_churned",
    "customers_reactivated", "customers_end", "retention_rate", "churn_rate",
)
REVENUE_COLUMNS = (
    "period_start", "is_complete", "mrr_start", "new_mrr", "expansion_mrr", "reactivation_mrr", "contraction_mrr",
    "churned_mrr", "mrr_end", "gross_mrr_churn_rate", "net_mrr_churn_rate", "net_revenue_retention",
    "gross_revenue_retention", "quick_ratio",
)
COHORT_COLUMNS = ("cohort_period_start", "period_offset", "cohort_size", "customers_active", "customer_retention_rate")
AT_RISK_COLUMNS = ("priority_rank", "customer_id", "name", "segment", "value_at_risk", "reasons", "value_at_stake")
SURVIVAL_COLUMNS = (
    "group_type", "group_value", "months_since_start", "at_risk", "survival", "ci_lower", "ci_upper",
    "median_lifetime_months",
)
VALIDATION_COLUMNS = (
    "check_name", "asset_key", "success", "evaluated", "unexpected", "validated_at", "failed_expectations"
)
QUARANTINE_COLUMNS = ("reason", "rows")

RETENTION_SQL = f"""
SELECT {", ".join(RETENTION_COLUMNS)} FROM marts.retention WHERE grain = 'month' ORDER BY period_start"""

REVENUE_SQL = f"""
SELECT {", ".join(REVENUE_COLUMNS)} FROM marts.revenue_churn WHERE grain = 'month' ORDER BY period_start"""

COHORT_SQL = f"""
WITH latest AS (
    SELECT DISTINCT cohort_period_start FROM marts.cohort_retention WHERE grain = $grain
    ORDER BY cohort_period_start DESC LIMIT $cohorts
)
SELECT {", ".join(COHORT_COLUMNS)}
FROM marts.cohort_retention JOIN latest USING (cohort_period_start)
WHERE grain = $grain ORDER BY cohort_period_start, period_offset"""

AT_RISK_SQL = """
SELECT priority_rank, customer_id, name, segment, value_at_risk, array_to_string(reasons, ', ') AS reasons,
       value_at_stake
FROM marts.at_risk_customers ORDER BY value_at_risk DESC, priority_rank LIMIT $top"""

SURVIVAL_SQL = f"""
SELECT {", ".join(SURVIVAL_COLUMNS)} FROM marts.subscription_survival
ORDER BY group_type, group_value, months_since_start"""

AT_RISK_COUNT_SQL = "SELECT count(*) FROM marts.at_risk_customers"

VALIDATION_SQL = f"""
SELECT {", ".join(VALIDATION_COLUMNS)} FROM quality.validation_results
QUALIFY row_number() OVER (PARTITION BY check_name, asset_key ORDER BY validated_at DESC) = 1
ORDER BY asset_key, check_name"""

INGEST_SQL = """
SELECT count(*) FILTER (WHERE error IS NULL) AS files_loaded,
       -- files whose latest version was rejected: one read again (--retry-rejected) or fixed counts once or not
       (SELECT count(*) FILTER (WHERE rejected) FROM (SELECT arg_max(error IS NOT NULL, batch_id) AS rejected
        FROM ingest.manifest GROUP BY path)) AS files_rejected,
       coalesce(sum(rows_loaded), 0) AS rows_loaded,
       coalesce(sum(rows_quarantined), 0) AS rows_quarantined,
       max(loaded_at) AS last_loaded_at
FROM ingest.manifest"""

QUARANTINE_SQL = "SELECT reason, rows FROM ingest.quarantine_reasons ORDER BY rows DESC, reason"

AS_OF_SQL = "SELECT max(as_of) FROM marts.customer_value"


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows, already small: months, a year of cohorts, ten customers."""

    retention: pd.DataFrame
    revenue: pd.DataFrame
    cohorts: pd.DataFrame
    at_risk: pd.DataFrame  # the top customers, names masked
    at_risk_total: int
    survival: pd.DataFrame  # Kaplan-Meier curves: everyone, per segment, per signup quarter
    validation: pd.DataFrame
    ingest: dict[str, object]
    quarantine: pd.DataFrame
    as_of: object  # the as-of day of the data, None before the first run
    missing: tuple[str, ...]  # tables the report needed that do not exist yet


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


class _Reader:
    """Runs the readers and remembers which tables were missing, for the report to say so."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.missing: list[str] = []

    def exists(self, table: str) -> bool:
        if table_exists(self.con, table):
            return True
        if table not in self.missing:
            self.missing.append(table)
        return False

    def frame(self, table: str, sql: str, columns: tuple[str, ...], params: dict | None = None) -> pd.DataFrame:
        if self.exists(table):
            return self.con.execute(sql, params or {}).df()
        return pd.DataFrame(columns=list(columns))

    def scalar(self, table: str, sql: str) -> object:
        return self.con.execute(sql).fetchone()[0] if self.exists(table) else None


def masked_at_risk(frame: pd.DataFrame) -> pd.DataFrame:
    """Names masked ('G**** H*****'): the report and the Dagster metadata are shared beyond the outreach team."""
    out = frame.copy()
    out["name"] = [mask_name(name) for name in out["name"]]
    return out


def read_report_data(con: duckdb.DuckDBPyConnection) -> ReportData:
    reader = _Reader(con)
    ingest = reader.frame("ingest.manifest", INGEST_SQL, ())
    cohort_params = {"grain": COHORT_GRAIN, "cohorts": COHORT_COUNT}
    return ReportData(
        retention=reader.frame("marts.retention", RETENTION_SQL, RETENTION_COLUMNS),
        revenue=reader.frame("marts.revenue_churn", REVENUE_SQL, REVENUE_COLUMNS),
        cohorts=reader.frame("marts.cohort_retention", COHORT_SQL, COHORT_COLUMNS, cohort_params),
        at_risk=masked_at_risk(
            reader.frame("marts.at_risk_customers", AT_RISK_SQL, AT_RISK_COLUMNS, {"top": TOP_AT_RISK})
        ),
        at_risk_total=int(reader.scalar("marts.at_risk_customers", AT_RISK_COUNT_SQL) or 0),
        survival=reader.frame("marts.subscription_survival", SURVIVAL_SQL, SURVIVAL_COLUMNS),
        validation=reader.frame("quality.validation_results", VALIDATION_SQL, VALIDATION_COLUMNS),
        ingest=ingest.iloc[0].to_dict() if len(ingest) else {},
        quarantine=reader.frame("ingest.quarantine_reasons", QUARANTINE_SQL, QUARANTINE_COLUMNS),
        as_of=reader.scalar("marts.customer_value", AS_OF_SQL),
        missing=tuple(reader.missing),
    )
