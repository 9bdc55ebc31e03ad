"""The `retention_report` asset: writes the HTML report and shows its KPIs and charts in the Dagster UI.

Downstream of the serving file, so it runs after publishing in every build. It reads the serving file, never the
warehouse, so it is not in the `warehouse` pool: it never waits for, or blocks, a writer's turn.
"""

from pathlib import Path

import dagster as dg

from pipeline.reporting.metadata import report_metadata
from pipeline.reporting.report import write_report
from pipeline.serving.assets import SERVING_KEY, Serving

REPORT_KEY = dg.AssetKey(["reports", "retention_report"])


class ReportSettings(dg.ConfigurableResource):
    """Where the HTML report is written (RETENTION_REPORT_PATH)."""

    path: str


@dg.asset(
    key=REPORT_KEY,
    deps=[SERVING_KEY],
    group_name="reporting",
    kinds={"python", "html"},
)
def retention_report(context: dg.AssetExecutionContext, serving: Serving, report: ReportSettings):
    """Headline KPIs, retention/churn trend, MRR movements, cohort heatmap, top at-risk customers and subscription
    survival, as one self-contained HTML file and as metadata (floats that Dagster plots across runs, markdown
    charts)."""
    with serving.connect() as con:
        written = write_report(con, Path(report.path))
    context.log.info(f"wrote {written.path} ({written.size_bytes:,} bytes) in {written.seconds:.1f} s")
    return dg.MaterializeResult(
        metadata={
            **report_metadata(written.report, str(written.path)),
            "size_bytes": written.size_bytes,
            "build_seconds": round(written.seconds, 2),
        }
    )
