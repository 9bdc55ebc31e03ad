"""Smoke test of the benchmark harness at the hidden XS size: every field is there, the raw-DuckDB reference
agrees with the pipeline's monthly MRR, and the nightly increment loads rows. Timings are only checked to
be positive: wall-clock limits belong in docs/performance.md, not in CI.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import dbt_nodes, report
from bench.harness import SizeResult
from bench.measure import tree_rss_kb

REPO = Path(__file__).resolve().parents[2]
POSITIVE = (
    "customers", "invoice_lines", "orders", "generate_s", "pipeline_s", "reference_s", "ratio", "peak_rss_mb",
    "ru_maxrss_mb", "reference_peak_rss_mb", "nightly_s", "nightly_pct", "nightly_peak_rss_mb",
    "nightly_rows_loaded", "months_compared",
)


@pytest.fixture(scope="module")
def xs_result(tmp_path_factory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("bench")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETENTION_") and k != "DAGSTER_HOME"}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--sizes", "XS", "--out", str(tmp / "out"), "--work-dir", str(tmp / "work"),
         "--no-docs"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "| XS |" in done.stdout
    assert not (tmp / "work").exists(), "work directory not cleaned up without --keep"
    results = json.loads((tmp / "out" / "bench.json").read_text())["results"]
    assert [r["size"] for r in results] == ["XS"]
    return results[0]


def test_every_field_is_a_positive_number(xs_result):
    for name in POSITIVE:
        assert isinstance(xs_result[name], (int, float)) and xs_result[name] > 0, name


def test_reference_agrees_with_the_pipeline_monthly_mrr(xs_result):
    assert xs_result["differences"] == []
    assert xs_result["reference_matches"] is True


def test_nightly_increment_loaded_new_rows(xs_result):
    assert xs_result["nightly_rows_loaded"] > 0


def test_the_nightly_run_is_split_by_step_and_by_dbt_node(xs_result):
    assert xs_result["nightly_steps_s"]["dbt_models"] >= 0
    assert xs_result["nightly_dbt_s"]["models_s"] > 0 and xs_result["nightly_dbt_s"]["data_tests_s"] > 0


def test_dbt_split_sums_kinds_and_names_the_slowest(tmp_path):
    results = tmp_path / "run_results.json"
    nodes = [("model.retention.a", 2.0), ("model.retention.b", 0.5), ("test.retention.t.1", 0.25),
             ("unit_test.retention.a.u", 0.125)]
    results.write_text(json.dumps({"results": [{"unique_id": u, "execution_time": s} for u, s in nodes]}))
    started = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    assert dbt_nodes.dbt_split(results, started, top=2) == {
        "models_s": 2.5, "data_tests_s": 0.25, "unit_tests_s": 0.12, "a": 2.0, "b": 0.5,
    }
    assert dbt_nodes.dbt_split(results, started + dt.timedelta(hours=1)) == {}  # written before the run: stale


def test_sampled_tree_peak_covers_the_largest_process(xs_result):
    # the sampler may miss a peak shorter than its interval, hence the slack; it must not be far below
    assert xs_result["peak_rss_mb"] >= 0.8 * xs_result["ru_maxrss_mb"]


def test_tree_rss_counts_children():
    child = subprocess.Popen([sys.executable, "-c", "b = bytearray(200 * 2**20); import time; time.sleep(30)"])
    try:
        for _ in range(100):  # until the child has touched its 200 MB
            if tree_rss_kb(child.pid) > 150 * 1024:
                break
            time.sleep(0.1)
        assert tree_rss_kb(os.getpid()) > tree_rss_kb(child.pid) > 150 * 1024
    finally:
        child.kill()
        child.wait()


def _result(size: str, seconds: float) -> SizeResult:
    return SizeResult(
        size=size, customers=1, invoice_lines=1, orders=1, generate_s=1, pipeline_s=seconds, reference_s=1,
        ratio=seconds, peak_rss_mb=1, ru_maxrss_mb=1, reference_peak_rss_mb=1, nightly_s=1, nightly_pct=1,
        nightly_peak_rss_mb=1, nightly_rows_loaded=1, reference_matches=True, months_compared=1,
    )


def test_docs_table_replaces_only_the_sizes_that_ran(tmp_path):
    doc = tmp_path / "performance.md"
    doc.write_text(f"intro\n{report.START}\nold\n{report.END}\noutro\n")
    assert report.update_docs([_result("S", 10), _result("M", 20)], doc)
    assert report.update_docs([_result("S", 11)], doc)
    assert not report.update_docs([_result("XS", 5)], doc)
    text = doc.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n")
    rows = [line for line in text.splitlines() if line.startswith("| S |") or line.startswith("| M |")]
    assert [r.split("|")[6].strip() for r in rows] == ["11.0", "20.0"]
