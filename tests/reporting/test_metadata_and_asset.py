"""The Dagster side: numeric headline values Dagster can plot, markdown charts, no names; the asset runs."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from pipeline.reporting.assets import REPORT_KEY, ReportSettings, retention_report
from pipeline.reporting.kpis import KPI_SPECS
from pipeline.reporting.metadata import report_metadata
from pipeline.reporting.report import build_report
from pipeline.serving.assets import Serving
from tests.reporting.conftest import PEOPLE

CHARTS = ("chart_retention_trend", "chart_mrr_movements", "chart_cohort_heatmap", "chart_top_at_risk",
          "chart_subscription_survival")


@pytest.fixture(scope="module")
def metadata(warehouse) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return report_metadata(build_report(con), "/tmp/report.html")


def test_headline_rates_are_floats_for_dagster_plots(metadata):
    for key in [s.key for s in KPI_SPECS] + ["net_mrr_churn_rate", "gross_revenue_retention", "quick_ratio"]:
        assert isinstance(metadata[key], dg.FloatMetadataValue), key
    assert metadata["retention_rate"].value == pytest.approx(91.2)
    assert metadata["net_revenue_retention"].value == pytest.approx(92.7)
    assert metadata["quick_ratio"].value == pytest.approx(1.0)  # March, not the in-progress April (NULL)


def test_charts_and_latest_months_are_markdown(metadata):
    for key in CHARTS:
        assert isinstance(metadata[key], dg.MarkdownMetadataValue)
        assert "](data:image/png;base64,iVBOR" in metadata[key].value  # iVBOR: base64 of the PNG signature
    table = metadata["latest_months"].value
    assert table.splitlines()[0].startswith("| month |")
    assert "| 2024-04 (in progress) |" in table
    assert "| 2024-03 | 111 | 12 | 11 | 91.2\u00a0% |" in table  # customers at end only, "%" never wraps


def test_asset_writes_the_report_and_keeps_names_out_of_metadata(warehouse, tmp_path):
    out = tmp_path / "reports" / "retention_report.html"
    result = dg.materialize(
        [retention_report],
        resources={"serving": Serving(path=str(warehouse)), "report": ReportSettings(path=str(out))},
    )
    assert result.success
    html = out.read_text(encoding="utf-8")
    assert "91.2 %" in html
    metadata = result.asset_materializations_for_node("reports__retention_report")[0].metadata
    assert metadata["retention_rate"].value == pytest.approx(91.2)
    assert metadata["size_bytes"].value == out.stat().st_size
    shown = str(metadata)
    for name, email in PEOPLE:
        assert name not in shown and email not in shown


def test_asset_reads_the_serving_file_outside_the_writer_pool():
    spec = retention_report.specs_by_key[REPORT_KEY]
    assert {dep.asset_key for dep in spec.deps} == {dg.AssetKey(["serving", "marts"])}
    assert retention_report.group_names_by_key[REPORT_KEY] == "reporting"
    assert retention_report.op.pool is None  # it only reads: never waits for a writer's turn


def test_metadata_before_the_first_run_has_null_rates(tmp_path):
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as con:
        metadata = report_metadata(build_report(con), "/tmp/report.html")
    assert metadata["retention_rate"].value is None and metadata["quick_ratio"].value is None
    assert metadata["latest_complete_month"] == "none yet" and metadata["at_risk_customers"] == 0
    assert all(isinstance(metadata[key], dg.MarkdownMetadataValue) for key in CHARTS)
