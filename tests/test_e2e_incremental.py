"""A nightly run rebuilds only what the new files changed, and the result is exactly a build from scratch.

The full run loads the sample's history without its last day; the nightly run then gets that day (new lines and
orders, restatements and late rows, customer updates), plus two harder changes: a restated invoice line that
moves to another customer, and an old file sent again without one of its rows. Only the changed customers'
rows of the per-customer models and only the quarters from the first changed day are rebuilt, so every table
must come out equal to a build from scratch on the same files, or something the nightly skipped was stale.
"""

import shutil

import duckdb

from bench.nightly import hold_back, land, last_day
from tests.cli_runs import MARTS, pipeline_env, retention

PER_CUSTOMER = ("int_invoice_lines_converted", "int_orders_converted", "int_customer_mrr_intervals",
                "int_activity_spans", "int_customers_first_active", "int_customer_revenue_recognised")


def _hashes(warehouse) -> dict[str, tuple[int, int]]:
    tables = [f"marts.{t}" for t in MARTS] + [f"intermediate.{t}" for t in PER_CUSTOMER]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {t: con.execute(f"SELECT count(*), coalesce(sum(hash(x)), 0) FROM {t} x").fetchone() for t in tables}


def _move_a_line_and_drop_a_row(landing, warehouse) -> None:
    """A restatement moving one line to another customer, and an old invoice file re-sent without one row."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        line = con.execute(
            "SELECT invoice_id, line_id, customer_id, subscription_id, amount, currency, period_start, period_end, "
            "status, issued_at FROM billing.invoices WHERE status = 'paid' AND period_start < DATE '2025-01-01' "
            "ORDER BY invoice_id, line_id LIMIT 1"
        ).fetchone()
        other = con.execute("SELECT min(customer_id) FROM billing.invoices WHERE customer_id <> ?", [line[2]]).fetchone()[0]
        fullest = con.execute(
            "SELECT _source_file FROM billing.invoices WHERE period_start < DATE '2025-01-01' "
            "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchone()[0]
    header = "invoice_id,line_id,customer_id,subscription_id,amount,currency,period_start,period_end,status,issued_at"
    text = ",".join("" if value is None else str(value) for value in [*line[:2], other, *line[3:]])
    (landing / "invoices" / "invoices_restated.csv").write_text(header + "\n" + text + "\n")
    rows = (landing / fullest).read_text().splitlines()
    assert len(rows) > 2, "the re-sent file needs a row to lose"
    (landing / fullest).write_text("\n".join(rows[:-1]) + "\n")


def test_a_nightly_run_equals_a_build_from_scratch(tmp_path):
    nightly_dir, held = tmp_path / "nightly", tmp_path / "held"
    nightly_dir.mkdir()
    env = pipeline_env(nightly_dir)
    landing = nightly_dir / "landing"
    assert retention(["sample-data", "--customers", "300", "--seed", "5", "--out", str(landing)], env).returncode == 0
    new_files = hold_back(landing, held, last_day(landing))
    full = retention(["run"], env)
    assert full.returncode == 0, full.stderr[-3000:]

    land(held, landing, new_files)
    _move_a_line_and_drop_a_row(landing, nightly_dir / "warehouse.duckdb")
    nightly = retention(["nightly"], env)
    assert nightly.returncode == 0, nightly.stderr[-3000:]
    assert "customers changed by loads after" in nightly.stdout + nightly.stderr  # it was a scoped build

    scratch_dir = tmp_path / "scratch"
    scratch_dir.mkdir()
    shutil.copytree(landing, scratch_dir / "landing")
    scratch = retention(["run"], pipeline_env(scratch_dir))
    assert scratch.returncode == 0, scratch.stderr[-3000:]
    nightly_tables, scratch_tables = _hashes(nightly_dir / "warehouse.duckdb"), _hashes(scratch_dir / "warehouse.duckdb")
    assert [t for t in scratch_tables if nightly_tables[t] != scratch_tables[t]] == []
