"""The report as Dagster asset metadata, so the UI answers "how is retention going" without opening a file.

Headline rates are plain floats: Dagster plots numeric metadata of an asset across its materializations, so
each one becomes a trend chart in the UI. Tables are markdown; the charts are markdown images with PNG data
URIs, which the UI renders inline.
"""

from __future__ import annotations

import math

import dagster as dg
import pandas as pd

from pipeline.reporting.html import data_uri
from pipeline.reporting.report import Report
from pipeline.reporting.tables import LATEST_COLUMNS, latest_periods, markdown_table

# Headline values are always present as floats (null when unknown: a rate over nobody), so every
# materialization carries the same series for Dagster's plots.
EXTRA_HEADLINE = ("net_mrr_churn_rate", "gross_revenue_retention", "quick_ratio")


def headline_values(report: Report) -> dict[str, dg.FloatMetadataValue]:
    """The KPIs and a few more revenue rates, all of the headline's month (the latest complete one)."""
    values = {k.spec.key: k.value for k in report.headline.kpis}
    revenue = report.data.revenue
    month = revenue[pd.to_datetime(revenue["period_start"]).dt.date == report.headline.period]
    for key in EXTRA_HEADLINE:
        values[key] = month.iloc[0][key] if len(month) else None
    return {key: dg.FloatMetadataValue(_float(value)) for key, value in values.items()}


def _float(value: object) -> float | None:
    """None for SQL NULL (NaN in pandas): NaN is not valid JSON in Dagster's event log."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else round(number, 4)  # 4 decimals: what the marts' money holds


def compact_latest_months(report: Report) -> str:
    """The latest-months table with customers at the end only and no line break before "%": the UI shows
    metadata in a narrow column, where the full table wraps every cell."""
    header = ["customers at end" if name.startswith("customers") else name for name in LATEST_COLUMNS]
    rows = [
        [cell.split(" -> ")[-1].replace(" %", "\u00a0%") for cell in row]
        for row in latest_periods(report.data.retention, report.data.revenue)
    ]
    return markdown_table(header, rows)


def report_metadata(report: Report, path: str) -> dict[str, object]:
    data = report.data
    head = report.headline
    metadata: dict[str, object] = {
        "report_path": dg.MetadataValue.path(path),
        "latest_complete_month": str(head.period) if head.period else "none yet",
        "as_of": str(data.as_of) if data.as_of is not None else "no data yet",
        **headline_values(report),
        "at_risk_customers": data.at_risk_total,
        "latest_months": dg.MetadataValue.md(compact_latest_months(report)),
    }
    for chart in report.charts:
        metadata[f"chart_{chart.key}"] = dg.MetadataValue.md(
            f"**{chart.title}**\n\n![{chart.title}]({data_uri(chart.png)})\n\n{chart.caption}"
        )
    return metadata
