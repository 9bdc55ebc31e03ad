"""A hand-made serving file with the few tables the report reads: faster than running the pipeline, and every
number in it is known, so the report's KPIs can be checked by hand.

Months: January to March 2024 complete, April 2024 in progress. A quarter row with different numbers proves
the report reads the month grain. The at-risk list holds real-looking names and emails that must never reach
the report or the metadata.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipeline.ingest.tables import create_warehouse_tables
from pipeline.quality.results import DDL as VALIDATION_DDL
from pipeline.serving.publish import QUARANTINE_REASONS
from pipeline.value.survival_asset import DDL as SURVIVAL_DDL

RETENTION = """CREATE TABLE marts.retention AS SELECT * FROM (VALUES
    ('month', DATE '2024-01-01', DATE '2024-02-01', true, 100, 15, 0, 0, 10, 105, 90.0, 10.0, 90.0),
    ('month', DATE '2024-02-01', DATE '2024-03-01', true, 105, 10, 0, 0, 5, 110, 95.0, 4.8, 95.2),
    ('month', DATE '2024-03-01', DATE '2024-04-01', true, 110, 12, 1, 1, 11, 111, 91.2, 10.0, 90.0),
    ('month', DATE '2024-04-01', DATE '2024-05-01', false, 111, 3, 0, 0, 1, 113, 99.1, 0.9, 99.1),
    ('quarter', DATE '2024-01-01', DATE '2024-04-01', true, 100, 37, 1, 1, 26, 111, 50.0, 26.0, 74.0)
) AS t(grain, period_start, period_end, is_complete, customers_start, customers_new, customers_new_lost,
       customers_reactivated, customers_churned, customers_end, retention_rate, churn_rate, logo_retention_rate)"""

# mrr_end = mrr_start + new + reactivation + expansion - contraction - churned in every row.
REVENUE = """CREATE TABLE marts.revenue_churn AS SELECT * FROM (VALUES
    ('month', DATE '2024-01-01', DATE '2024-02-01', true, 900.0, 150.0, 0.0, 0.0, 20.0, 30.0, 1000.0,
     5.6, 3.3, 96.7, 94.4, 3.0),
    ('month', DATE '2024-02-01', DATE '2024-03-01', true, 1000.0, 100.0, 50.0, 20.0, 30.0, 40.0, 1100.0,
     7.0, 0.0, 98.0, 93.0, 2.4286),
    ('month', DATE '2024-03-01', DATE '2024-04-01', true, 1100.0, 80.0, 30.0, 0.0, 20.0, 90.0, 1100.0,
     10.0, 7.3, 92.7, 90.0, 1.0),
    ('month', DATE '2024-04-01', DATE '2024-05-01', false, 1100.0, 10.0, 0.0, 0.0, 0.0, 0.0, 1110.0,
     0.0, 0.0, 100.0, 100.0, NULL),
    ('quarter', DATE '2024-01-01', DATE '2024-04-01', true, 900.0, 330.0, 80.0, 20.0, 70.0, 160.0, 1100.0,
     25.6, 16.7, 83.3, 74.4, 1.8)
) AS t(grain, period_start, period_end, is_complete, mrr_start, new_mrr, expansion_mrr, reactivation_mrr,
       contraction_mrr, churned_mrr, mrr_end, gross_mrr_churn_rate, net_mrr_churn_rate, net_revenue_retention,
       gross_revenue_retention, quick_ratio)"""

COHORTS = """CREATE TABLE marts.cohort_retention AS SELECT * FROM (VALUES
    ('month', DATE '2024-01-01', 0, 4, 4, 100.0), ('month', DATE '2024-01-01', 1, 4, 3, 75.0),
    ('month', DATE '2024-01-01', 2, 4, 2, 50.0), ('month', DATE '2024-01-01', 3, 4, 2, 50.0),
    ('month', DATE '2024-02-01', 0, 2, 2, 100.0), ('month', DATE '2024-02-01', 1, 2, 1, 50.0),
    ('month', DATE '2024-02-01', 2, 2, 1, 50.0),
    ('month', DATE '2024-03-01', 0, 5, 5, 100.0), ('month', DATE '2024-03-01', 1, 5, 4, 80.0),
    ('quarter', DATE '2024-01-01', 0, 11, 11, 100.0)
) AS t(grain, cohort_period_start, period_offset, cohort_size, customers_active, customer_retention_rate)"""

PEOPLE = [
    ("Ada Lovelace", "ada.lovelace@example.org"), ("Grace Hopper", "grace.hopper@example.org"),
    ("Alan Turing", "alan.turing@example.org"), ("Katherine Johnson", "kjohnson@example.org"),
    ("Edsger Dijkstra", "edsger@example.org"), ("Barbara Liskov", "liskov@example.org"),
    ("Donald Knuth", "knuth@example.org"), ("Frances Allen", "fran.allen@example.org"),
    ("John Backus", "backus@example.org"), ("Margaret Hamilton", "mhamilton@example.org"),
    ("Dennis Ritchie", "dmr@example.org"), ("Radia Perlman", "radia@example.org"),
]


def at_risk_rows() -> list[tuple]:
    """Twelve customers; value falls with the index but priority is reversed, so 'top by value' and
    'top by priority' differ: the first two people have the most value but the lowest priority. The value at
    stake is 100 x (index + 1), unknown (no model) for the second customer."""
    rows = []
    for i, (name, email) in enumerate(PEOPLE):
        rows.append((
            "2024-04-15", f"cus_{i:03d}", name, email, "smb", ["inactive"] if i % 2 else ["overdue_purchase"],
            10_000.0 - 500 * i, 0.5, 40 + i, None, len(PEOPLE) - i, 5_000.0, None if i == 1 else 100.0 * (i + 1),
        ))
    return rows


# Kaplan-Meier rows as subscription_survival writes them: everyone, two segments, one signup quarter.
SURVIVAL = """INSERT INTO marts.subscription_survival VALUES
    ('2024-04-15', 'all', 'all', 0, 10, 1, 0, 0.9, 0.54, 0.98, 3.0),
    ('2024-04-15', 'all', 'all', 1, 9, 2, 1, 0.7, 0.35, 0.88, 3.0),
    ('2024-04-15', 'all', 'all', 2, 6, 1, 0, 0.58, 0.25, 0.80, 3.0),
    ('2024-04-15', 'all', 'all', 3, 5, 2, 3, 0.35, 0.09, 0.63, 3.0),
    ('2024-04-15', 'segment', 'smb', 0, 6, 1, 0, 0.83, 0.27, 0.97, NULL),
    ('2024-04-15', 'segment', 'smb', 1, 5, 0, 1, 0.83, 0.27, 0.97, NULL),
    ('2024-04-15', 'segment', 'enterprise', 0, 4, 0, 0, 1.0, 1.0, 1.0, NULL),
    ('2024-04-15', 'cohort_quarter', '2024-Q1', 0, 10, 1, 0, 0.9, 0.54, 0.98, 3.0),
    ('2024-04-15', 'cohort_quarter', '2024-Q1', 1, 9, 2, 1, 0.7, 0.35, 0.88, 3.0)"""


def build_warehouse(path: Path, failing_suite: bool = False) -> Path:
    """Writes the hand-made warehouse to a path; `failing_suite` makes the latest marts/retention suite fail."""
    with duckdb.connect(str(path)) as con:
        create_warehouse_tables(con)
        for schema in ("marts", "quality"):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for statement in (RETENTION, REVENUE, COHORTS):
            con.execute(statement)
        con.execute("CREATE TABLE marts.customer_value AS SELECT DATE '2024-04-15' AS as_of")
        con.execute(
            """CREATE TABLE marts.at_risk_customers (as_of DATE, customer_id VARCHAR, name VARCHAR,
               email VARCHAR, segment VARCHAR, reasons VARCHAR[], value_at_risk DOUBLE, p_alive DOUBLE,
               days_since_last_activity BIGINT, expected_next_order_date DATE, priority_rank BIGINT,
               clv DOUBLE, value_at_stake DOUBLE)"""
        )
        con.executemany("INSERT INTO marts.at_risk_customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        at_risk_rows())
        con.execute(SURVIVAL_DDL)
        con.execute(SURVIVAL)
        _quality_rows(con, failing_suite)
    return path


def _quality_rows(con: duckdb.DuckDBPyConnection, failing_suite: bool) -> None:
    """GX results (an older failure then a pass for invoices: only the latest counts), ingest counts."""
    con.execute(VALIDATION_DDL)
    retention_failed = "ExpectColumnValuesToBeBetween(churn_rate)" if failing_suite else None
    con.executemany(
        "INSERT INTO quality.validation_results (run_id, check_name, asset_key, success, evaluated, unexpected, "
        "validated_at, result_json, table_rows, failed_expectations) VALUES (?, ?, ?, ?, ?, ?, ?, '{}', ?, ?)",
        [
            ("r1", "landed_rows_are_plausible", "billing/invoices", False, 50, 2, "2024-04-14 02:00", 50,
             "ExpectColumnValuesToBeInSet(status)"),
            ("r2", "landed_rows_are_plausible", "billing/invoices", True, 60, 0, "2024-04-15 02:00", 60, None),
            ("r2", "rates_within_bounds", "marts/retention", not failing_suite, 5, int(failing_suite),
             "2024-04-15 02:05", 5, retention_failed),
        ],
    )
    con.execute(
        """INSERT INTO ingest.manifest VALUES
        (1, 'invoices', 'invoices/a.csv', 'h1', 10, 40, 38, 2, TIMESTAMP '2024-04-15 01:00', NULL, NULL),
        (2, 'orders', 'orders/b.csv', 'h2', 10, 20, 19, 1, TIMESTAMP '2024-04-15 01:00', NULL, NULL),
        (3, 'orders', 'orders/broken.csv', 'h3', 10, 0, 0, 0, TIMESTAMP '2024-04-15 01:00', 'missing column', NULL)"""
    )
    con.execute(
        """INSERT INTO ingest.quarantine VALUES
        (1, 'invoices', 'invoices/a.csv', 3, 'amount', 'x', 'unparseable_number', '{}', TIMESTAMP '2024-04-15'),
        (1, 'invoices', 'invoices/a.csv', 7, 'status', 'pending', 'unknown_status', '{}', TIMESTAMP '2024-04-15'),
        (2, 'orders', 'orders/b.csv', 4, 'amount', 'y', 'unparseable_number', '{}', TIMESTAMP '2024-04-15')"""
    )
    # what publishing writes into the serving file from the quarantine (pipeline/serving/publish.py)
    con.execute(f"CREATE TABLE ingest.quarantine_reasons AS {QUARANTINE_REASONS}")


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory) -> Path:
    """Shared by the tests: everything that reads the report opens it read-only."""
    return build_warehouse(tmp_path_factory.mktemp("report") / "warehouse.duckdb")


@pytest.fixture
def con(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        yield connection
