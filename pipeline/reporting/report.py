"""Builds the report once (data, KPIs, charts) for its two outputs: the HTML file and the Dagster metadata.

`write_report` is what both `retention report` and the `retention_report` asset call, so the file a person
opens and the charts in the UI come from one code path.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.reporting.data import ReportData, read_report_data
from pipeline.reporting.html import render
from pipeline.reporting.kpis import Headline, complete_months, headline


@dataclass(frozen=True)
class Chart:
    key: str  # stable id: the HTML element id and the Dagster metadata key
    title: str
    caption: str
    png: bytes


@dataclass(frozen=True)
class Report:
    data: ReportData
    headline: Headline
    charts: tuple[Chart, ...]
    generated_at: dt.datetime


@dataclass(frozen=True)
class Written:
    report: Report
    path: Path
    size_bytes: int
    seconds: float


def build_report(con: duckdb.DuckDBPyConnection, generated_at: dt.datetime | None = None) -> Report:
    # matplotlib: imported when drawing, not when Dagster loads the code
    from pipeline.reporting import charts

    data = read_report_data(con)
    months = complete_months(data.retention, data.revenue)
    figures = (
        Chart("retention_trend", "Retention and churn trend",
              "Monthly customer retention rate (top): customers at the month's end who were not new in it, per "
              "customer at its start. It passes 100 % (the dashed line) when reactivated customers, who count at "
              "the end but were not there at the start, outnumber the churned ones. Customer churn rate and gross "
              f"MRR churn below. Complete months only, the latest {charts.TREND_MONTHS}.",
              charts.retention_trend(months)),
        Chart("mrr_movements", "MRR movements",
              "Recurring revenue gained (new, expansion, reactivation: above zero) and lost (contraction, "
              "churned: below zero) per complete month; the line is the net change.",
              charts.mrr_movements(months)),
        Chart("cohort_heatmap", "Cohort retention",
              "Share of each monthly cohort still active k months after it started (the latest cohorts).",
              charts.cohort_heatmap(data.cohorts)),
        Chart("top_at_risk", "Top at-risk customers",
              "At-risk customers with the most value at stake; names masked, #n is their call priority.",
              charts.top_at_risk(data.at_risk)),
        Chart("subscription_survival", "Subscription survival",
              "Kaplan-Meier estimate of the share of subscribers still subscribing k whole months after their "
              "first day with MRR, censored at the as-of day: everyone and each segment with its 95 % interval "
              f"(top), the latest {charts.SURVIVAL_COHORTS} signup quarters (bottom).",
              charts.survival_curves(data.survival)),
    )
    return Report(
        data=data,
        headline=headline(data.retention, data.revenue),
        charts=figures,
        generated_at=generated_at or dt.datetime.now(dt.UTC).replace(microsecond=0),
    )


def write_report(con: duckdb.DuckDBPyConnection, out: Path, generated_at: dt.datetime | None = None) -> Written:
    """Build the report and write it as one self-contained HTML file (atomically: a reader never sees half)."""
    started = time.perf_counter()
    report = build_report(con, generated_at)
    text = render(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return Written(report, out, out.stat().st_size, time.perf_counter() - started)
