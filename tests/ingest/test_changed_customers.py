"""ingest.changed_customers: every customer whose derived numbers a load can change, and no row for a load that
changed nothing (the dbt models rebuild only these customers, so a missing one would leave stale numbers)."""

from __future__ import annotations

import datetime as dt

from pipeline.ingest.loader import ingest_landing
from tests.ingest.conftest import INVOICE_HEADER, ORDER_HEADER, invoice_row, write


def changed(con, entity: str | None = None) -> dict[str, set[str]]:
    """Customers per load (by loaded_at, as text), optionally of one entity."""
    rows = con.execute(
        "SELECT loaded_at::VARCHAR, customer_id FROM ingest.changed_customers WHERE ? IS NULL OR entity = ?",
        [entity, entity],
    ).fetchall()
    loads: dict[str, set[str]] = {}
    for loaded_at, customer in rows:
        loads.setdefault(loaded_at, set()).add(customer)
    return loads


def last_load(con, entity: str) -> set[str]:
    loads = changed(con, entity)
    return loads[max(loads)] if loads else set()


def clock():
    """Distinct, increasing load times, so each load's rows can be told apart."""
    times = iter(dt.datetime(2025, 1, 1) + dt.timedelta(minutes=n) for n in range(1000))
    return lambda: next(times)


def test_new_rows_record_their_customers_once_per_load(con, landing):
    now = clock()
    write(landing / "invoices" / "a.csv", [INVOICE_HEADER, invoice_row(customer="c1"), invoice_row(line="2", customer="c1"),
                                           invoice_row(invoice="i2", customer="c2")])
    write(landing / "orders" / "o.csv", [ORDER_HEADER, "o1,c3,2024-01-05 10:00:00,10.00,EUR,completed"])
    write(landing / "customers" / "c.csv", ["customer_id,name", "c4,Ada"])
    write(landing / "churn_feedback" / "f.csv", ["customer_id,submitted_at,reason", "c5,2024-02-01 09:00:00,price"])
    ingest_landing(con, landing, now=now)
    assert {e: last_load(con, e) for e in ("invoices", "orders", "customers", "churn_feedback")} == {
        "invoices": {"c1", "c2"}, "orders": {"c3"}, "customers": {"c4"}, "churn_feedback": {"c5"}}
    assert con.execute("SELECT count(*) FROM ingest.changed_customers WHERE entity = 'invoices'").fetchone()[0] == 2
    same_transaction = con.execute(
        "SELECT count(*) FROM ingest.changed_customers c JOIN ingest.changes USING (loaded_at, entity)"
    ).fetchone()[0]
    assert same_transaction == 5, "each load's customers carry that load's ingest.changes time"


def test_a_restated_line_moving_to_another_customer_records_both(con, landing):
    now = clock()
    write(landing / "invoices" / "d1.csv", [INVOICE_HEADER, invoice_row(customer="A"), invoice_row(invoice="i9", customer="C")])
    ingest_landing(con, landing, now=now)
    write(landing / "invoices" / "d2.csv", [INVOICE_HEADER, invoice_row(customer="B")])
    ingest_landing(con, landing, now=now)
    assert last_load(con, "invoices") == {"A", "B"}, "the old version's customer and the new one's, not C"


def test_a_re_read_file_that_drops_a_row_records_that_customer(con, landing):
    now = clock()
    path = write(landing / "invoices" / "a.csv", [INVOICE_HEADER, invoice_row(customer="keep"), invoice_row(invoice="i2", customer="gone")])
    ingest_landing(con, landing, now=now)
    write(path, [INVOICE_HEADER, invoice_row(customer="keep")])
    ingest_landing(con, landing, now=now)
    assert con.execute("SELECT customer_id FROM billing.invoices").fetchall() == [("keep",)]
    assert last_load(con, "invoices") == {"keep", "gone"}


def test_an_fx_restatement_records_the_customers_of_that_currency_from_that_day_on(con, landing):
    now = clock()
    write(landing / "invoices" / "i.csv", [
        INVOICE_HEADER,
        invoice_row(invoice="before", customer="eur_before", currency="EUR", start="2024-01-01", end="2024-02-01"),
        invoice_row(invoice="on", customer="eur_on", currency="eur", start="2024-03-01", end="2024-04-01"),
        invoice_row(invoice="after", customer="eur_after", currency="EUR", start="2024-06-01", end="2024-07-01"),
        invoice_row(invoice="usd", customer="usd_after", currency="USD", start="2024-06-01", end="2024-07-01"),
    ])
    write(landing / "orders" / "o.csv", [
        ORDER_HEADER,
        "o1,eur_order_before,2024-02-29 23:59:59,10.00,EUR,completed",
        "o2,eur_order_on,2024-03-01 00:00:00,10.00,EUR,completed",
        "o3,gbp_order_after,2024-05-01 10:00:00,10.00,GBP,completed",
    ])
    write(landing / "fx_rates" / "fx_1.csv", ["date,currency,rate", "2024-01-01,EUR,1.10", "2024-03-01,EUR,1.08", "2024-01-01,GBP,1.25"])
    ingest_landing(con, landing, now=now)
    write(landing / "fx_rates" / "fx_2.csv", ["date,currency,rate", "2024-03-01,EUR,1.09"])
    ingest_landing(con, landing, now=now)
    assert last_load(con, "fx_rates") == {"eur_on", "eur_after", "eur_order_on"}


def test_a_new_rate_records_the_customers_it_is_the_nearest_earlier_rate_for(con, landing):
    """A first rate (no earlier one) records every later line of its currency, as the as-of join will use it."""
    now = clock()
    write(landing / "invoices" / "i.csv", [INVOICE_HEADER, invoice_row(customer="c1", currency="CHF", start="2024-05-01", end="2024-06-01"),
                                           invoice_row(invoice="i2", customer="c2", currency="CHF", start="2023-05-01", end="2023-06-01")])
    write(landing / "fx_rates" / "fx.csv", ["date,currency,rate", "2024-04-30,CHF,1.12"])
    ingest_landing(con, landing, now=now)
    assert last_load(con, "fx_rates") == {"c1"}


def test_an_unchanged_re_run_and_a_load_without_good_rows_record_nothing(con, landing):
    now = clock()
    write(landing / "invoices" / "a.csv", [INVOICE_HEADER, invoice_row(customer="c1")])
    ingest_landing(con, landing, now=now)
    before = con.execute("SELECT count(*) FROM ingest.changed_customers").fetchone()[0]
    assert [r.skipped for r in ingest_landing(con, landing, now=now)] == [True]
    write(landing / "invoices" / "b.csv", [INVOICE_HEADER, invoice_row(invoice="bad", customer="c2", status="??")])
    ingest_landing(con, landing, now=now)
    assert con.execute("SELECT count(*) FROM ingest.changed_customers").fetchone()[0] == before == 1


def test_acquisition_costs_concern_no_customer(con, landing):
    now = clock()
    write(landing / "acquisition_costs" / "a.csv", ["period_start,channel,amount", "2024-01-01,search,100"])
    ingest_landing(con, landing, now=now)
    assert changed(con) == {}
