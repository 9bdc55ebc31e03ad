"""Builds everything Dagster loads from one `Settings`: the resources, the dbt vars and every domain's assets.

The only place where settings become resources, so a setting has one default (pipeline/settings.py) and one
route into the code.
"""

from __future__ import annotations

import dagster as dg

from pipeline.ingest.assets import Landing, ingest_landing_files
from pipeline.lib.partitions import quarterly_partitions
from pipeline.lib.warehouse import Warehouse
from pipeline.orchestration.jobs import build_job, ingest_job
from pipeline.orchestration.nightly import build_nightly
from pipeline.quality import QualitySettings, quality_checks
from pipeline.reporting.assets import ReportSettings, retention_report
from pipeline.settings import Settings
from pipeline.transform.assets import DbtVars, build_dbt_assets
from pipeline.transform.dbt_cli import DbtCli
from pipeline.transform.dbt_vars import settings_vars
from pipeline.transform.parse import Parse
from pipeline.transform.project import dbt_executable, load_dbt_project
from pipeline.value.at_risk_asset import RiskSettings, at_risk_customers
from pipeline.value.clv_asset import ClvSettings, customer_lifetime_value
from pipeline.value.exports import Exports, outreach_exports
from pipeline.value.purchase_model import purchase_model
from pipeline.value.survival_asset import subscription_survival


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """Every resource but dbt's, from the settings."""
    return {
        "warehouse": Warehouse(
            path=str(settings.warehouse.resolve()),
            memory_limit=settings.duckdb_memory_limit,
            threads=settings.duckdb_threads,
        ),
        "landing": Landing(path=str(settings.landing_dir.resolve())),
        "risk": RiskSettings(
            overdue_factor=settings.overdue_factor,
            inactive_days=settings.inactive_days,
            payment_grace_days=settings.payment_grace_days,
            p_alive_threshold=settings.p_alive_threshold,
            mrr_contraction_min_pct=settings.mrr_contraction_min_pct,
        ),
        "clv": ClvSettings(
            months=settings.clv_months, discount_rate=settings.discount_rate, gross_margin=settings.gross_margin
        ),
        "exports": Exports(path=str(settings.export_dir.resolve())),
        "report": ReportSettings(path=str(settings.report_path.resolve())),
        "quality": QualitySettings(
            max_staleness_hours=settings.max_staleness_hours, max_quarantine_pct=settings.max_quarantine_pct
        ),
    }


def build_definitions(settings: Settings, parse: Parse | None = None) -> dg.Definitions:
    """Everything Dagster loads. `parse` is a `dbt parse` already started for these settings (see parse.py)."""
    dbt_vars = DbtVars(**settings_vars(settings))
    project = load_dbt_project(settings.dbt_project_dir, dbt_vars.build(), parse)
    partitions_def = quarterly_partitions(settings.start)
    dbt_assets, dbt_checks = build_dbt_assets(project, partitions_def)
    build = build_job(dbt_checks)
    nightly_schedule, rebuild_sensor = build_nightly(
        ingest_job, build, partitions_def, settings.nightly_cron, settings.nightly_timezone
    )
    return dg.Definitions(
        assets=[
            ingest_landing_files,
            *dbt_assets,
            purchase_model,
            subscription_survival,
            customer_lifetime_value,
            at_risk_customers,
            outreach_exports,
            retention_report,
        ],
        asset_checks=[*quality_checks(), *dbt_checks],
        jobs=[ingest_job, build],
        schedules=[nightly_schedule],
        sensors=[rebuild_sensor],
        # One process per run, steps one after another: DuckDB allows a single writing process.
        executor=dg.in_process_executor,
        resources={
            **build_resources(settings),
            "dbt": DbtCli(project_dir=project, dbt_executable=dbt_executable()),
            "dbt_vars": dbt_vars,
        },
    )
