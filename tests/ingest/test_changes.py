"""What a load changed: the first day a new, late or restated row touches, which the nightly rebuild starts from."""

import datetime as dt

from pipeline.ingest.changes import as_of_day, changed_from, changes_since, utc_now
from pipeline.ingest.loader import ingest_landing
from tests.ingest.conftest import INVOICE_HEADER, ORDER_HEADER, invoice_row, write

D = dt.date


def _load(con, landing):
    since, before = utc_now(), as_of_day(con) if _has_tables(con) else None
    ingest_landing(con, landing)
    return changes_since(con, since, before)


def _has_tables(con) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'invoices'").fetchone()[0])


def test_changed_from_is_the_earliest_day_and_nothing_when_nothing_loaded():
    assert changed_from([D(2024, 5, 1), None, D(2024, 2, 3)], D(2024, 6, 30), loaded=True) == D(2024, 2, 3)
    assert changed_from([D(2024, 5, 1)], D(2024, 3, 31), loaded=True) == D(2024, 3, 31)
    assert changed_from([D(2024, 5, 1)], D(2024, 3, 31), loaded=False) is None


def test_a_late_invoice_touches_its_service_period_start(con, landing):
    write(landing / "invoices" / "2024-06-01.csv", [INVOICE_HEADER, invoice_row(start="2024-05-01", end="2024-06-01",
                                                                                issued="2024-05-01 09:00:00")])
    _load(con, landing)
    late = invoice_row(invoice="i9", start="2023-02-01", end="2023-03-01", issued="2024-06-02 09:00:00")
    write(landing / "invoices" / "2024-06-02.csv", [INVOICE_HEADER, late])
    changes = _load(con, landing)
    assert changes.by_entity["invoices"] == (D(2023, 2, 1), 1, 0)
    assert changes.changed_from == D(2023, 2, 1)


def test_a_restated_row_touches_the_days_of_its_old_and_new_version(con, landing):
    write(landing / "invoices" / "a.csv", [INVOICE_HEADER, invoice_row(start="2023-09-01", end="2023-10-01")])
    _load(con, landing)
    write(landing / "invoices" / "b.csv", [INVOICE_HEADER, invoice_row(start="2024-01-01", end="2024-02-01")])
    changes = _load(con, landing)
    assert changes.by_entity["invoices"] == (D(2023, 9, 1), 1, 1)


def test_the_previous_as_of_day_is_touched_because_its_quarter_completes(con, landing):
    write(landing / "orders" / "a.csv", [ORDER_HEADER, "o1,c1,2024-03-30 10:00:00,10.00,USD,completed"])
    _load(con, landing)
    write(landing / "orders" / "b.csv", [ORDER_HEADER, "o2,c1,2024-04-02 10:00:00,10.00,USD,completed"])
    changes = _load(con, landing)
    assert changes.by_entity["orders"][0] == D(2024, 4, 2)
    assert changes.changed_from == D(2024, 3, 30)


def test_a_customer_row_touches_everything_from_the_customers_first_activity(con, landing):
    write(landing / "orders" / "a.csv", [ORDER_HEADER, "o1,c1,2023-05-06 10:00:00,10.00,USD,completed",
                                         "o2,c1,2024-01-02 10:00:00,10.00,USD,completed"])
    _load(con, landing)
    header = "customer_id,name,email,country,segment,created_at"
    write(landing / "customers" / "a.csv", [header, "c1,Ann,a@x.org,DE,enterprise,2024-01-01 00:00:00"])
    changes = _load(con, landing)
    assert changes.by_entity["customers"][0] == D(2023, 5, 6)


def test_reloading_the_same_files_changes_nothing(con, landing):
    write(landing / "invoices" / "a.csv", [INVOICE_HEADER, invoice_row()])
    _load(con, landing)
    changes = _load(con, landing)
    assert changes.changed_from is None and "nothing to rebuild" in changes.markdown()
