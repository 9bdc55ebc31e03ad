"""Builds everything Dagster loads from one `Settings`: the resources, the dbt vars and every domain's assets.

The only place where settings become resources and dbt vars, so a setting has one default (pipeline/settings.py)
and one route into the code.
"""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from pipeline.ingest.assets import Landing, ingest_landing_files
from pipeline.lib.partitions import quarterly_partitions
from pipeline.lib.publication import last_publication
from pipeline.lib.warehouse import Warehouse
from pipeline.orchestration.alerts import build_alert_sensor
from pipeline.orchestration.freshness import build_freshness, target_keys
from pipeline.orchestration.jobs import build_job, ingest_job
from pipeline.orchestration.nightly import build_nightly
from pipeline.quality import QualitySettings, quality_checks
from pipeline.reporting.assets import ReportSettings, retention_report
from pipeline.serving.assets import Serving, build_serving_asset
from pipeline.settings import Settings
from pipeline.transform.assets import build_dbt_assets
from pipeline.transform.project import dbt_executable, load_dbt_project, vars_args
from pipeline.transform.state import BuildState
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
        "serving": Serving(path=str(settings.serving_file.resolve())),
        "landing": Landing(path=str(settings.landing_dir.resolve()), serving_file=str(settings.serving_file.resolve())),
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


def build_definitions(settings: Settings) -> dg.Definitions:
    """Everything Dagster loads."""
    project = load_dbt_project(settings)
    published = last_publication(settings.serving_file)
    first = max(settings.start, published.first_period) if published and published.first_period else settings.start
    partitions_def = quarterly_partitions(first)
    dbt_models = build_dbt_assets(project, partitions_def, vars_args(settings), BuildState.beside(settings.warehouse))
    value = [purchase_model, subscription_survival, customer_lifetime_value, at_risk_customers]
    marts = [key for assets in (dbt_models, *value) for key in assets.keys if key.path[0] == "marts"]
    assets = [ingest_landing_files, dbt_models, *value, build_serving_asset(marts), outreach_exports, retention_report]
    freshness_checks, freshness_sensor = build_freshness(target_keys(assets))
    build = build_job([freshness_checks])
    nightly_schedule, rebuild_sensor = build_nightly(
        ingest_job, build, partitions_def, settings.nightly_cron, settings.nightly_timezone, settings.start
    )
    alert_sensor = build_alert_sensor(settings.alert_webhook_url, settings.ui_url)
    return dg.Definitions(
        assets=assets,
        asset_checks=[*quality_checks(), freshness_checks],
        jobs=[ingest_job, build],
        schedules=[nightly_schedule],
        sensors=[rebuild_sensor, alert_sensor, freshness_sensor],
        # One process per run, steps one after another: DuckDB allows a single writing process.
        executor=dg.in_process_executor,
        resources={
            **build_resources(settings),
            "dbt": DbtCliResource(project_dir=project, dbt_executable=dbt_executable()),
        },
    )
