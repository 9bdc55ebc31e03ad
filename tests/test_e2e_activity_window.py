"""A nightly run whose new orders change the activity window W rebuilds all history, not only its quarter.

W (three median purchase gaps) is derived by dbt in the same run that rebuilds the marts, and it decides which
customers count as active in every period. New orders in December 2025 ask for 2025-Q4 only; when they move W,
the marts of every quarter must come out exactly as a build from scratch on the same files.
"""

import shutil

import duckdb

from tests.cli_runs import MARTS, pipeline_env, retention, sample_and_run, table_hashes

DBT_MARTS = MARTS[:9]  # the published dbt marts; the rest are Python assets over them
BUYERS, ORDERS_EACH = 100, 15


def _activity_window(warehouse) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT activity_window_days FROM intermediate.int_activity_window").fetchone()[0]


def _daily_orders(warehouse) -> str:
    """BUYERS existing customers each ordering daily from 2025-12-01: gaps of one day pull the median down."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        customers = [r[0] for r in con.execute(
            f"SELECT DISTINCT customer_id FROM shop.orders ORDER BY 1 LIMIT {BUYERS}").fetchall()]
    lines = ["order_id,customer_id,ordered_at,amount,currency,status"]
    for i, customer in enumerate(customers):
        lines += [f"ord_daily_{i}_{d},{customer},2025-12-{d + 1:02d} 10:00:00,10.00,USD,completed"
                  for d in range(ORDERS_EACH)]
    return "\n".join(lines) + "\n"


def test_a_changed_activity_window_rebuilds_every_quarter(tmp_path):
    nightly_dir, scratch_dir = tmp_path / "nightly", tmp_path / "scratch"
    nightly_dir.mkdir()
    env, run = sample_and_run(nightly_dir, customers=300, seed=11)
    assert run.returncode == 0, run.stderr[-3000:]
    warehouse = nightly_dir / "warehouse.duckdb"
    w_before = _activity_window(warehouse)
    (nightly_dir / "landing" / "orders" / "orders_daily_2025-12.csv").write_text(_daily_orders(warehouse))

    nightly = retention(["nightly"], env)
    assert nightly.returncode == 0, nightly.stderr[-3000:]
    assert _activity_window(warehouse) < w_before, "the new orders should have shortened W"
    assert "activity window W changed" in nightly.stdout + nightly.stderr

    scratch_dir.mkdir()
    shutil.copytree(nightly_dir / "landing", scratch_dir / "landing")
    scratch = retention(["run"], pipeline_env(scratch_dir))
    assert scratch.returncode == 0, scratch.stderr[-3000:]
    nightly_marts = {t: h for t, h in table_hashes(warehouse).items() if t in DBT_MARTS}
    scratch_marts = {t: h for t, h in table_hashes(scratch_dir / "warehouse.duckdb").items() if t in DBT_MARTS}
    assert nightly_marts == scratch_marts
