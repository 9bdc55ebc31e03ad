"""A small, deterministic landing dataset written straight into the raw warehouse tables.

Covers monthly and annual plans, a mid-month upgrade (credit + prorated charge), a downgrade, cancellations,
a reactivation, a void and a refunded line, a foreign currency with and without a usable rate, shop
customers buying at irregular intervals, cancellation-survey answers around churn days and monthly marketing spend.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import duckdb

from pipeline.ingest.tables import create_warehouse_tables

D = dt.date
LOADED_AT = dt.datetime(2024, 9, 1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.month - 1 + months
    return day.replace(year=day.year + index // 12, month=index % 12 + 1)


class Dataset:
    def __init__(self) -> None:
        self.invoices: list[tuple] = []
        self.orders: list[tuple] = []
        self.customers: list[tuple] = []
        self.fx_rates: list[tuple] = []
        self.churn_feedback: list[tuple] = []
        self.acquisition_costs: list[tuple] = []

    def feedback(self, customer, submitted_at, reason, comment=None):
        self.churn_feedback.append((customer, submitted_at, reason, comment))

    def line(self, customer, amount, start, end, status="paid", currency="USD", issued=None):
        number = len(self.invoices) + 1
        issued_at = dt.datetime.combine(issued or start, dt.time(9))
        self.invoices.append(
            (
                f"inv-{number}",
                "1",
                customer,
                f"sub-{customer}",
                Decimal(str(amount)),
                currency,
                start,
                end,
                status,
                issued_at,
            )
        )

    def monthly(self, customer, amount, first, months, currency="USD", status="paid"):
        for k in range(months):
            self.line(customer, amount, _add_months(first, k), _add_months(first, k + 1), status, currency)

    def order(self, customer, day, amount, status="completed", currency="USD"):
        number = len(self.orders) + 1
        self.orders.append(
            (
                f"ord-{number}",
                customer,
                dt.datetime.combine(day, dt.time(12)),
                Decimal(str(amount)),
                currency,
                status,
            )
        )


def build_dataset(with_invoices: bool = True, with_orders: bool = True) -> Dataset:
    data = Dataset()
    rng = random.Random(7)
    if with_invoices:
        data.monthly("s-monthly", 100, D(2023, 1, 1), 20)
        data.line("s-annual", 1200, D(2023, 2, 1), D(2024, 2, 1))
        data.line("s-annual", 1320, D(2024, 2, 1), D(2025, 2, 1))
        data.monthly("s-upgrade", 50, D(2023, 1, 15), 4)
        data.line("s-upgrade", Decimal("-27.42"), D(2023, 5, 1), D(2023, 5, 15))
        data.line("s-upgrade", Decimal("54.84"), D(2023, 5, 1), D(2023, 5, 15))
        data.monthly("s-upgrade", 100, D(2023, 5, 15), 12)
        data.monthly("s-cancel", 80, D(2023, 3, 1), 5)
        data.monthly("s-react", 60, D(2023, 1, 1), 3)
        data.monthly("s-react", 70, D(2023, 9, 1), 8)
        data.monthly("s-down", 300, D(2023, 4, 1), 6)
        data.monthly("s-down", 150, D(2023, 10, 1), 10)
        data.monthly("s-eur", 90, D(2023, 2, 10), 15, currency="EUR")
        data.monthly("s-gbp", 40, D(2023, 6, 1), 6, currency="GBP")
        data.monthly("s-void", 500, D(2023, 7, 1), 2, status="void")
        data.line("s-void", 500, D(2023, 9, 1), D(2023, 10, 1), status="refunded")
        data.monthly("s-credit", 20, D(2023, 3, 1), 3)
        data.line("s-credit", -100, D(2023, 4, 1), D(2023, 5, 1))
        for n in range(12):
            start = D(2023, 1 + n % 12, 1 + n)
            data.monthly(
                f"s-gen-{n}", 10 * (n + 1), start, rng.randint(2, 8), status=rng.choice(["paid", "open"])
            )
        data.fx_rates += [
            (D(2023, 1, 1), "EUR", Decimal("1.10")),
            (D(2023, 6, 1), "EUR", Decimal("1.08")),
            (D(2024, 1, 1), "EUR", Decimal("1.12")),
        ]
    if with_orders:
        for n in range(25):
            customer = f"o-{n}"
            day = D(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 400))
            while day <= D(2024, 8, 20):
                data.order(
                    customer, day, rng.randint(10, 200), status=rng.choice(["completed"] * 8 + ["cancelled"])
                )
                day += dt.timedelta(days=rng.choice([5, 20, 30, 45, 90, 200]))
        data.order("s-monthly", D(2023, 3, 5), 25)
        data.order("o-eur", D(2023, 4, 2), 30, currency="EUR")
        data.order("o-jpy", D(2023, 4, 3), 3000, currency="JPY")
    # Survey answers: s-cancel's last paid day is 2023-07-31 (churn day 2023-08-01); its answer 2 days after the
    # churn day is nearer than the one 7 days before. s-react churns on 2023-04-01 and again on 2024-05-01.
    # s-down churns on 2024-08-01. A blank answer is ignored; s-monthly never churns.
    data.feedback("s-cancel", dt.datetime(2023, 7, 25, 10), "Missing features")
    data.feedback("s-cancel", dt.datetime(2023, 8, 3, 9), " too EXPENSIVE ")
    data.feedback("s-react", dt.datetime(2023, 3, 28, 16), "Switched to competitor")
    data.feedback("s-react", dt.datetime(2024, 5, 2, 8), "Too expensive", "cheaper elsewhere")
    data.feedback("s-down", dt.datetime(2024, 7, 30, 12), "budget")
    data.feedback("s-gen-3", dt.datetime(2023, 6, 1, 12), "   ")
    data.feedback("s-monthly", dt.datetime(2023, 6, 1, 12), "other")
    for k in range(20):
        month = _add_months(D(2023, 1, 1), k)
        data.acquisition_costs.append((month, "search", Decimal(200 + 25 * k)))
        if k % 3 == 0:
            data.acquisition_costs.append((month, "events", Decimal(1500)))
    segments = ["smb", "enterprise", None, ""]
    ids = sorted({row[2] for row in data.invoices} | {row[1] for row in data.orders})
    for index, customer in enumerate(ids[:-3]):
        data.customers.append((customer, customer.upper(), None, "US", segments[index % 4], None))
    return data


def write_warehouse(path, data: Dataset) -> None:
    con = duckdb.connect(str(path))
    try:
        create_warehouse_tables(con)
        tables = {
            "billing.invoices": data.invoices,
            "shop.orders": data.orders,
            "crm.customers": data.customers,
            "finance.fx_rates": data.fx_rates,
            "crm.churn_feedback": data.churn_feedback,
            "marketing.acquisition_costs": data.acquisition_costs,
        }
        for table, rows in tables.items():
            if not rows:
                continue
            width = len(rows[0])
            placeholders = ", ".join(["?"] * width)
            con.executemany(
                f"INSERT INTO {table} VALUES ({placeholders}, 'fixture.csv', ?, 1, ?)",
                [(*row, number, LOADED_AT) for number, row in enumerate(rows, start=1)],
            )
        # what ingest records for the load: every customer it touched
        con.execute(
            "INSERT INTO ingest.changed_customers SELECT DISTINCT ?, 'fixture', customer_id FROM ("
            "SELECT customer_id FROM billing.invoices UNION ALL SELECT customer_id FROM shop.orders "
            "UNION ALL SELECT customer_id FROM crm.customers)",
            [LOADED_AT],
        )
    finally:
        con.close()
