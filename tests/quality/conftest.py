"""A hand-made warehouse for the quality checks and a helper that executes checks through Dagster."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipeline.definitions_builder import build_resources
from pipeline.ingest.tables import create_warehouse_tables
from pipeline.lib.warehouse import Warehouse
from pipeline.quality import QualitySettings
from pipeline.settings import load_settings

QUALITY = build_resources(load_settings())["quality"]  # the documented RETENTION_* defaults


def quality_settings(**changes) -> QualitySettings:
    return QualitySettings(**{**QUALITY.model_dump(), **changes})

NOW = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # only used to place rows relative to the check's clock


def write_sql(path: Path, *statements: str) -> None:
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)


@pytest.fixture
def wh(tmp_path) -> Path:
    """A warehouse with the real raw/manifest DDL, staging views over them, and small consistent marts."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        create_warehouse_tables(con)
        for schema in ("staging", "intermediate", "marts"):
            con.execute(f"CREATE SCHEMA {schema}")
        con.execute(
            "INSERT INTO billing.invoices VALUES "
            "('i1', '1', 'c1', 's1', 100.00, 'USD', DATE '2024-01-01', DATE '2024-02-01', 'paid', TIMESTAMP '2024-01-01 10:00', 'f.csv', 1, 1, TIMESTAMP '2024-01-02'),"
            "('i1', '2', 'c1', 's1', -20.50, 'USD', DATE '2024-01-15', DATE '2024-02-01', 'paid', TIMESTAMP '2024-01-15 10:00', 'f.csv', 2, 1, TIMESTAMP '2024-01-02'),"
            "('i2', '1', 'c2', 's2', 300.00, 'EUR', DATE '2024-01-01', DATE '2024-04-01', 'open', TIMESTAMP '2024-01-01 09:00', 'f.csv', 3, 1, TIMESTAMP '2024-01-02')"
        )
        con.execute(
            "INSERT INTO shop.orders VALUES "
            "('o1', 'c3', TIMESTAMP '2024-01-05 12:00', 60.00, 'USD', 'completed', 'o.csv', 1, 2, TIMESTAMP '2024-01-06'),"
            "('o2', 'c3', TIMESTAMP '2024-02-05 12:00', 30.00, 'GBP', 'refunded', 'o.csv', 2, 2, TIMESTAMP '2024-01-06')"
        )
        con.execute(
            "INSERT INTO crm.customers VALUES ('c1', 'A', NULL, 'DE', 'smb', TIMESTAMP '2023-12-01', 'c.csv', 1, 3, TIMESTAMP '2024-01-06')"
        )
        con.execute("CREATE VIEW staging.stg_billing__invoices AS SELECT * FROM billing.invoices")
        con.execute("CREATE VIEW staging.stg_shop__orders AS SELECT * FROM shop.orders")
        con.execute(
            "CREATE TABLE intermediate.int_invoice_lines_converted AS "
            "SELECT invoice_id, line_id, currency, currency = 'USD' OR currency = 'EUR' AS has_fx_rate FROM billing.invoices"
        )
        con.execute(
            "CREATE TABLE intermediate.int_orders_converted AS "
            "SELECT order_id, currency, currency = 'USD' AS has_fx_rate FROM shop.orders"
        )
        # revenue_churn: 400 + 50 + 30 + 50 - 80 - 60 = 390 (docs/metrics.md), and a quiet quarter
        con.execute(
            """CREATE TABLE marts.revenue_churn AS SELECT * FROM (VALUES
                ('month', DATE '2024-03-01', 400.0000::DECIMAL(18,4), 50.0000::DECIMAL(18,4), 50.0000::DECIMAL(18,4),
                 30.0000::DECIMAL(18,4), 80.0000::DECIMAL(18,4), 60.0000::DECIMAL(18,4), 390.0000::DECIMAL(18,4),
                 35.0::DOUBLE, 65.0::DOUBLE),
                ('quarter', DATE '2024-01-01', 0.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000, NULL, NULL)
            ) AS t(grain, period_start, mrr_start, new_mrr, expansion_mrr, reactivation_mrr, contraction_mrr,
                   churned_mrr, mrr_end, gross_mrr_churn_rate, gross_revenue_retention)"""
        )
        con.execute(
            "CREATE TABLE marts.revenue_churn_by_segment AS SELECT *, 'smb' AS segment FROM marts.revenue_churn"
        )
        # retention: 2 - 1 + 1 - 1 + 1 = 2 (docs/metrics.md); March: 100 start, 15 new, 10 churned, 105 end
        con.execute(
            """CREATE TABLE marts.retention AS SELECT * FROM (VALUES
                ('month', DATE '2024-02-01', 2::BIGINT, 1::BIGINT, 1::BIGINT, 1::BIGINT, 1::BIGINT, 2::BIGINT, 50.0::DOUBLE, 50.0::DOUBLE, 50.0::DOUBLE),
                ('month', DATE '2024-03-01', 100, 15, 0, 0, 10, 105, 90.0, 10.0, 90.0)
            ) AS t(grain, period_start, customers_start, customers_new, customers_new_lost, customers_reactivated,
                   customers_churned, customers_end, retention_rate, churn_rate, logo_retention_rate)"""
        )
        con.execute("CREATE TABLE marts.retention_by_segment AS SELECT *, 'smb' AS segment FROM marts.retention")
        con.execute(
            """CREATE TABLE marts.cohort_retention AS SELECT * FROM (VALUES
                ('month', DATE '2024-02-01', 0::BIGINT, 1::BIGINT, 1::BIGINT, 100.0::DOUBLE),
                ('month', DATE '2024-02-01', 1, 1, 0, 0.0),
                ('month', DATE '2024-03-01', 0, 15, 15, 100.0)
            ) AS t(grain, cohort_period_start, period_offset, cohort_size, customers_active, customer_retention_rate)"""
        )
        con.execute(
            """CREATE TABLE marts.customer_periods AS SELECT * FROM (VALUES
                ('month', DATE '2024-02-01', 'c1', DATE '2024-02-01', false, true),
                ('month', DATE '2024-03-01', 'c1', DATE '2024-02-01', true, false),
                ('month', DATE '2024-03-01', 'c2', DATE '2024-03-01', false, true)
            ) AS t(grain, period_start, customer_id, cohort_period_start, active_at_start, is_new)"""
        )
    return path


def evaluate(
    checks: list[dg.AssetChecksDefinition], path: Path, quality: QualitySettings | None = None
) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    """Execute the checks in process (a job selecting only them) and return their evaluations by
    (asset key, check name)."""
    keys = {k.asset_key for c in checks for k in c.check_keys}
    job = dg.define_asset_job("quality_checks_only", selection=dg.AssetSelection.checks(*checks))
    defs = dg.Definitions(
        assets=[dg.AssetSpec(k) for k in keys],
        asset_checks=checks,
        jobs=[job],
        resources={"warehouse": Warehouse(path=str(path)), "quality": quality or QUALITY},
    )
    result = defs.resolve_job_def("quality_checks_only").execute_in_process(raise_on_error=False)
    return {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}


def meta(evaluation: dg.AssetCheckEvaluation, key: str):
    return evaluation.metadata[key].value
