"""One benchmark size end to end: generate, full run, reference, nightly run; returns its result row.

Every step is a separate process started from the repository root with the pipeline's RETENTION_* paths
pointed into the size's work directory and DAGSTER_HOME removed (an ephemeral Dagster instance, as a
scheduler-less nightly job would have), so runs never touch the repository's data/ or .dagster/.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import compare, dbt_nodes, nightly, timeline
from bench.measure import Measurement, run_measured
from bench.sizes import DENSITY, SIZES

REPO = Path(__file__).resolve().parents[1]


class StepFailed(RuntimeError):
    """A measured process exited non-zero; the message points at its log."""


@dataclass
class SizeResult:
    size: str
    customers: int
    invoice_lines: int
    orders: int
    generate_s: float
    pipeline_s: float
    reference_s: float
    ratio: float  # pipeline_s / reference_s
    peak_rss_mb: float  # pipeline, sampled sum over the process tree
    ru_maxrss_mb: float  # pipeline, largest single process (kernel)
    reference_peak_rss_mb: float
    nightly_s: float
    nightly_pct: float  # nightly_s as % of pipeline_s
    nightly_peak_rss_mb: float
    nightly_rows_loaded: int  # rows the manifest loaded from the new day's files
    reference_matches: bool
    months_compared: int
    differences: list[str] = field(default_factory=list)
    pipeline_steps_s: dict[str, float] = field(default_factory=dict)
    nightly_steps_s: dict[str, float] = field(default_factory=dict)
    nightly_dbt_s: dict[str, float] = field(default_factory=dict)  # dbt's own split of the nightly's dbt step
    work_dir: str = ""

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def _env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(
        RETENTION_LANDING_DIR=str(work / "landing"),
        RETENTION_WAREHOUSE=str(work / "warehouse.duckdb"),
        RETENTION_SERVING_FILE=str(work / "serving.duckdb"),
        RETENTION_EXPORT_DIR=str(work / "exports"),
        RETENTION_REPORT_PATH=str(work / "reports" / "retention_report.html"),
        RETENTION_DBT_PROJECT_DIR=str(REPO / "dbt_project"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _run(name: str, cmd: list[str], work: Path, progress) -> tuple[Measurement, Path, dt.datetime]:
    log = work / "logs" / f"{name}.log"
    progress(f"{name}: {' '.join(cmd[1:])}")
    started = dt.datetime.now(dt.UTC)
    result = run_measured(cmd, env=_env(work), cwd=REPO, log=log)
    if result.returncode != 0:
        raise StepFailed(f"{name} exited with {result.returncode}; see {log}")
    progress(f"{name}: {result.wall_s:.1f} s, peak RSS {result.peak_rss_mb:.0f} MB")
    return result, log, started


def run_size(size: str, work: Path, progress=lambda line: None) -> SizeResult:
    """Benchmark one size in `work` (created; its previous contents are not cleaned)."""
    customers = SIZES[size]
    (work / "logs").mkdir(parents=True, exist_ok=True)
    landing, held = work / "landing", work / "nightly"
    py = sys.executable

    generate = [py, "-m", "pipeline", "sample-data", "--customers", str(customers), "--density", DENSITY]
    generated, _, _ = _run("generate", [*generate, "--out", str(landing)], work, progress)
    new_files = nightly.hold_back(landing, held, nightly.last_day(landing))
    full, full_log, full_started = _run("pipeline", [py, "-m", "pipeline", "run"], work, progress)
    pipeline_rows = compare.pipeline_movements(work / "warehouse.duckdb")
    ref_json = work / "reference.json"
    reference, _, _ = _run("reference", [py, "-m", "bench.reference", str(landing), str(ref_json)], work, progress)
    reference_rows = json.loads(ref_json.read_text())
    diffs = compare.differences(pipeline_rows, reference_rows)

    nightly.land(held, landing, new_files)
    night, night_log, night_started = _run("nightly", [py, "-m", "pipeline", "nightly"], work, progress)
    counts = compare.row_counts(work / "warehouse.duckdb")
    return SizeResult(
        size=size,
        customers=customers,
        invoice_lines=counts["invoice_lines"],
        orders=counts["orders"],
        generate_s=round(generated.wall_s, 2),
        pipeline_s=round(full.wall_s, 2),
        reference_s=round(reference.wall_s, 2),
        ratio=round(full.wall_s / reference.wall_s, 2),
        peak_rss_mb=round(full.peak_rss_mb, 1),
        ru_maxrss_mb=round(full.ru_maxrss_mb, 1),
        reference_peak_rss_mb=round(reference.peak_rss_mb, 1),
        nightly_s=round(night.wall_s, 2),
        nightly_pct=round(100 * night.wall_s / full.wall_s, 1),
        nightly_peak_rss_mb=round(night.peak_rss_mb, 1),
        nightly_rows_loaded=compare.rows_loaded_from(work / "warehouse.duckdb", new_files),
        reference_matches=not diffs,
        months_compared=len({r["month_start"] for r in pipeline_rows + reference_rows}),
        differences=diffs[:20],
        pipeline_steps_s=timeline.step_seconds(full_log, full_started, full.wall_s),
        nightly_steps_s=timeline.step_seconds(night_log, night_started, night.wall_s),
        nightly_dbt_s=dbt_nodes.dbt_split(dbt_nodes.run_results(work / "warehouse.duckdb"), night_started),
        work_dir=str(work),
    )
