"""The dense profile: more business per customer from the same customers, every key still one business event.

The standard profile is the default and must not change: the demo, the docs' numbers and other tests rely on
the exact sample for a seed, so its content is pinned by a digest here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from pipeline.cli import parser
from pipeline.sample_data import generate
from pipeline.sample_data.density import DENSE, STANDARD, profile
from tests.sample_data.small import SMALL

# sha256 over the CSV bytes and the Parquet rows of the standard SMALL sample (Parquet bytes carry the DuckDB
# version, rows do not). Change it only on purpose, when the default sample is meant to change.
STANDARD_DIGEST = "1474381b543a0d3c5f606d136624a7bb18393daf3bb77bcbf8cf7d2cf9872151"


def _invoices(out: Path) -> str:
    return f"read_csv('{out}/invoices/*.csv', all_varchar = true, filename = true)"


def _orders(out: Path) -> str:
    return f"read_parquet('{out}/orders/*.parquet', filename = true)"


def _per_customer(out: Path) -> tuple[float, float]:
    """Distinct invoice-line keys and order ids per customer (what the warehouse holds after restatements)."""
    lines = duckdb.sql(f"SELECT count(DISTINCT (invoice_id, line_id)) FROM {_invoices(out)}").fetchall()[0][0]
    orders = duckdb.sql(f"SELECT count(DISTINCT order_id) FROM {_orders(out)}").fetchall()[0][0]
    return lines / SMALL["customers"], orders / SMALL["customers"]


@pytest.fixture(scope="module")
def both(tmp_path_factory) -> dict[str, Path]:
    folders = {}
    for name in ("standard", "dense"):
        folders[name] = tmp_path_factory.mktemp(name)
        generate(folders[name], **SMALL, density=name)
    return folders


def test_dense_gives_more_lines_and_orders_per_customer(both):
    standard_lines, standard_orders = _per_customer(both["standard"])
    dense_lines, dense_orders = _per_customer(both["dense"])
    assert dense_lines > 2 * standard_lines
    assert dense_orders > 2 * standard_orders


def test_customers_are_the_same_at_every_density(both):
    files = {name: {p.name: p.read_bytes() for p in (out / "customers").iterdir()} for name, out in both.items()}
    assert files["standard"] == files["dense"]


def test_dense_invoices_carry_add_on_lines(both):
    def max_line(out: Path) -> int:
        return duckdb.sql(f"SELECT max(line_id::INTEGER) FROM {_invoices(out)}").fetchall()[0][0]

    assert max_line(both["standard"]) == 2  # plan change (credit, charge) or a voided duplicate
    assert max_line(both["dense"]) >= 4  # plan line and up to three add-ons, then a voided duplicate


# A key repeated across files must be a restatement (same business event), never two events under one key.
RESTATEMENT_KEYS = {
    "invoices": (_invoices, "invoice_id, line_id", "customer_id, subscription_id, amount, period_start, period_end, issued_at"),
    "orders": (_orders, "order_id", "customer_id, ordered_at, amount, currency"),
}


@pytest.mark.parametrize("entity", RESTATEMENT_KEYS)
def test_a_repeated_key_is_a_restatement_not_a_collision(landing, entity):
    out, _ = landing
    files, key, event = RESTATEMENT_KEYS[entity]
    collisions = duckdb.sql(
        f"SELECT {key} FROM {files(out)} GROUP BY ALL HAVING count(DISTINCT ({event})) > 1"
    ).fetchall()
    assert collisions == []


def test_lines_of_an_invoice_share_its_period_status_and_issue_time(landing):
    """Plan line and add-ons of a renewal, credit and charge of a plan change: one invoice, one state per file."""
    out, _ = landing
    mixed = duckdb.sql(
        f"SELECT filename, invoice_id FROM {_invoices(out)} WHERE status <> 'void' GROUP BY ALL "
        "HAVING count(DISTINCT (customer_id, subscription_id, period_start, period_end, status, issued_at)) > 1"
    ).fetchall()
    assert mixed == []


def _digest(out: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(out)).encode())
        if path.suffix == ".csv":
            h.update(path.read_bytes())
        else:
            h.update(repr(duckdb.sql(f"SELECT * FROM read_parquet('{path}')").fetchall()).encode())
    return h.hexdigest()


def test_standard_output_is_unchanged(both):
    assert _digest(both["standard"]) == STANDARD_DIGEST


def test_profiles_by_name():
    assert profile("standard") is STANDARD and profile("dense") is DENSE and profile(DENSE) is DENSE
    with pytest.raises(ValueError, match="unknown density 'busy'"):
        profile("busy")


def test_cli_density_flag_defaults_to_standard():
    assert parser().parse_args(["sample-data"]).density == "standard"
    assert parser().parse_args(["sample-data", "--density", "dense"]).density == "dense"
