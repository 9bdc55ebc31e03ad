"""How each entity's integer-coded frame becomes the contract's columns: one SQL SELECT per entity.

The frames hold only numbers (codes, day numbers, epoch seconds, cents) to stay small and fast; formatting
ids, dates, timestamps and two-decimal amounts happens here, inside DuckDB, while each file is written.
Column names come from pipeline.ingest.contract, so a renamed contract column breaks loudly here.
"""

from __future__ import annotations

from pipeline.ingest.contract import ENTITIES_BY_FOLDER, INVOICE_STATUSES
from pipeline.sample_data import catalog as cat
from pipeline.sample_data import malformed as bad

EPOCH = "DATE '1970-01-01'"


def lookup(values: tuple[str, ...], code: str) -> str:
    """SQL that maps a 0-based integer code column to its label."""
    literal = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"[{literal}][{code} + 1]"


def ident(prefix: str, column: str, width: int) -> str:
    return f"'{prefix}_' || lpad({column}::VARCHAR, {width}, '0')"


def id_width(max_number: int) -> int:
    """Zero-padded id width: at least 6 digits, more when the data set is bigger."""
    return max(6, len(str(max_number)))


def day(column: str) -> str:
    return f"({EPOCH} + {column}::INTEGER)"


def timestamp(column: str) -> str:
    return f"make_timestamp({column}::BIGINT * 1000000)"


def money(column: str) -> str:
    return f"({column} / 100.0)::DECIMAL(18, 2)"


def _select(folder: str, expressions: dict[str, str]) -> str:
    """SELECT list in contract order; fails when a contract column has no expression."""
    names = [c.name for c in ENTITIES_BY_FOLDER[folder].columns]
    return ", ".join(f'{expressions[n]} AS "{n}"' for n in names)


def invoices_sql(widths: dict[str, int]) -> str:
    """Every column as text, so the malformed rows can carry values that are not valid for the type."""
    return _select(
        "invoices",
        {
            "invoice_id": ident("inv", "inv", widths["inv"]),
            "line_id": "line::VARCHAR",
            "customer_id": ident("cus", "cust", widths["cus"]),
            "subscription_id": ident("sub", "sub", widths["sub"]),
            "amount": f"CASE WHEN bad = {bad.BAD_AMOUNT} THEN '{bad.BAD_AMOUNT_VALUE}' "
            f"ELSE {money('cents')}::VARCHAR END",
            "currency": lookup(cat.CURRENCIES, "currency"),
            "period_start": f"CASE WHEN bad = {bad.BAD_DATE} "
            f"THEN strftime({day('ps')}, '{bad.BAD_DATE_FORMAT}') "
            f"ELSE {day('ps')}::VARCHAR END",
            "period_end": f"{day('pe')}::VARCHAR",
            "status": f"CASE WHEN bad = {bad.BAD_STATUS} THEN '{bad.BAD_STATUS_VALUE}' "
            f"ELSE {lookup(INVOICE_STATUSES, 'status')} END",
            "issued_at": f"{timestamp('issue_sec')}::VARCHAR",
        },
    )


def orders_sql(widths: dict[str, int]) -> str:
    return _select(
        "orders",
        {
            "order_id": ident("ord", "order_no", widths["ord"]),
            "customer_id": ident("cus", "cust", widths["cus"]),
            "ordered_at": timestamp("ordered_sec"),
            "amount": money("cents"),
            "currency": lookup(cat.CURRENCIES, "currency"),
            "status": lookup(cat.ORDER_STATUSES, "status"),
        },
    )


def customers_sql(widths: dict[str, int]) -> str:
    first, last = lookup(cat.FIRST_NAMES, "first_name"), lookup(cat.LAST_NAMES, "last_name")
    word, suffix = lookup(cat.COMPANY_WORDS, "company_word"), lookup(cat.COMPANY_SUFFIXES, "company_suffix")
    company = f"{word} || ' ' || {suffix}"
    return _select(
        "customers",
        {
            "customer_id": ident("cus", "cust", widths["cus"]),
            "name": f"CASE WHEN segment = {cat.CONSUMER} THEN {first} || ' ' || {last} ELSE {company} END",
            "email": f"lower({first} || '.' || {last}) || cust::VARCHAR || '@example.com'",
            "country": lookup(cat.COUNTRIES, "country"),
            "segment": lookup(cat.SEGMENTS, "segment"),
            "created_at": timestamp("created_sec"),
        },
    )


def fx_rates_sql(widths: dict[str, int]) -> str:
    return _select(
        "fx_rates",
        {
            "date": day("day"),
            "currency": lookup(cat.FX_CURRENCIES, "currency"),
            "rate": "rate::DECIMAL(18, 8)",
        },
    )


def acquisition_costs_sql(widths: dict[str, int]) -> str:
    return _select(
        "acquisition_costs",
        {
            "period_start": day("period_start"),
            "channel": lookup(cat.CHANNELS, "channel"),
            "amount": money("cents"),
        },
    )


def churn_feedback_sql(widths: dict[str, int]) -> str:
    return _select(
        "churn_feedback",
        {
            "customer_id": ident("cus", "cust", widths["cus"]),
            "submitted_at": timestamp("submitted_sec"),
            "reason": lookup(cat.REASONS, "reason"),
            "comment": f"CASE WHEN comment >= 0 THEN {lookup(cat.COMMENTS, 'comment')} END",
        },
    )
