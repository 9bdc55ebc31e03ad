"""Property-based test of the loader: random valid files with random corrupted cells, checked against a model.

Hypothesis builds a handful of invoice and order files (CSV, sometimes Parquet), corrupts random cells of
random rows (an empty key, garbage in a date, number, status or currency, a swapped service period, a negative
order amount, a key repeated within the file), ingests them in one run and checks the loader against a
plain-Python model of the contract:

- every file: rows read = its data rows = rows loaded + rows quarantined;
- the quarantine holds exactly the corrupted rows (file + row number), with the corruption's reason when a
  row has a single one (two corruptions may hit the same cell, `-` before `1e30`, and make other garbage);
- the raw tables hold exactly the valid rows, normalised (status lower-case, currency upper-case, amounts as
  decimals, dates, timestamps in UTC), and where a key occurs in several files the latest file (path order) wins.

The example database is off and generation derandomised, so CI runs the same examples every time.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pipeline.ingest.contract import ENTITIES_BY_FOLDER, INVOICE_STATUSES, ORDER_STATUSES, Entity
from pipeline.ingest.loader import ingest_landing
from pipeline.ingest.validation import quote_literal
from tests.ingest.conftest import write_parquet

INVOICES, ORDERS = ENTITIES_BY_FOLDER["invoices"], ENTITIES_BY_FOLDER["orders"]
CURRENCIES = ("USD", "EUR", "GBP", "CHF", "JPY")
BAD = {  # garbage per kind of cell; none of it parses or is an allowed value
    "date": ("2024-02-30", "31/01/2024", "soon", "2024-13-01"),
    "timestamp": ("yesterday", "2024-13-01 10:00:00", "10:00"),
    "number": ("abc", "1.2.3", "--5", "nan"),
    "status": ("settled", "pending", "ok"),
    "currency": ("ZZZ", "EURO", "€", "US"),
}


@dataclass
class Row:
    """One data row: the raw text of every column, the normalised values it should load as, its corruptions."""

    raw: dict[str, str]
    expected: dict[str, object]
    reasons: list[str] = field(default_factory=list)  # quarantine reasons of the corruptions applied


@dataclass
class File:
    name: str  # relative to the landing folder
    rows: list[Row]


def case_variant(value: str) -> st.SearchStrategy[str]:
    return st.sampled_from([value, value.upper(), value.title(), f" {value} "])


@st.composite
def timestamps(draw) -> tuple[str, dt.datetime]:
    """ISO 8601 text with or without an offset, and the naive UTC datetime it stands for."""
    local = draw(st.datetimes(dt.datetime(2020, 1, 1), dt.datetime(2030, 1, 1))).replace(microsecond=0)
    offset = draw(st.sampled_from([None, 0, 120, -300]))
    if offset is None:
        return local.isoformat(sep=draw(st.sampled_from([" ", "T"]))), local
    suffix = "Z" if offset == 0 else f"{'+' if offset > 0 else '-'}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    return local.isoformat(sep="T") + suffix, local - dt.timedelta(minutes=offset)


def amounts(minimum: int) -> st.SearchStrategy[Decimal]:
    """Decimals with up to 4 places, as DECIMAL(18,4) stores them exactly."""
    return st.integers(minimum, 10**10).map(lambda n: Decimal(n).scaleb(-4))


@st.composite
def invoice_row(draw, key: tuple[str, str]) -> Row:
    start = draw(st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)))
    end = start + dt.timedelta(days=draw(st.integers(1, 400)))
    amount = draw(amounts(-10**8))
    currency, status = draw(st.sampled_from(CURRENCIES)), draw(st.sampled_from(INVOICE_STATUSES))
    issued_text, issued = draw(timestamps())
    subscription = draw(st.sampled_from(["", "s1", "s2"]))
    customer = f"c{draw(st.integers(1, 9))}"
    raw = {"invoice_id": key[0], "line_id": key[1], "customer_id": customer, "subscription_id": subscription,
           "amount": f"{amount:f}", "currency": draw(case_variant(currency.lower())), "period_start": start.isoformat(),
           "period_end": end.isoformat(), "status": draw(case_variant(status)), "issued_at": issued_text}
    expected = {"invoice_id": key[0], "line_id": key[1], "customer_id": customer, "subscription_id": subscription or None,
                "amount": amount, "currency": currency, "period_start": start, "period_end": end, "status": status,
                "issued_at": issued}
    return Row(raw, expected)


@st.composite
def order_row(draw, key: tuple[str]) -> Row:
    amount = draw(amounts(1))
    currency, status = draw(st.sampled_from(CURRENCIES)), draw(st.sampled_from(ORDER_STATUSES))
    ordered_text, ordered = draw(timestamps())
    customer = f"c{draw(st.integers(1, 9))}"
    raw = {"order_id": key[0], "customer_id": customer, "ordered_at": ordered_text, "amount": f"{amount:f}",
           "currency": draw(case_variant(currency)), "status": draw(case_variant(status))}
    expected = {"order_id": key[0], "customer_id": customer, "ordered_at": ordered, "amount": amount,
                "currency": currency, "status": status}
    return Row(raw, expected)


# A corruption changes cells of one row and returns the reason the loader must quarantine it for.
Corruption = Callable[[st.DrawFn, Entity, Row], str]


def empty_key(draw, entity, row):
    row.raw[draw(st.sampled_from(entity.key))] = draw(st.sampled_from(["", "  "]))
    return "missing_key"


def empty_customer(draw, entity, row):
    row.raw["customer_id"] = ""
    return "missing_value"


def garbage(kind: str, *columns: str) -> Corruption:
    reason = {"date": "unparseable_date", "timestamp": "unparseable_timestamp", "number": "unparseable_number",
              "status": "unknown_status", "currency": "unknown_currency"}[kind]

    def corrupt(draw, entity, row):
        row.raw[draw(st.sampled_from(columns))] = draw(st.sampled_from(BAD[kind]))
        return reason

    return corrupt


def too_large(draw, entity, row):
    row.raw["amount"] = draw(st.sampled_from(["1e30", "100000000000000", "-99999999999999999"]))
    return "number_out_of_range"


def swap_period(draw, entity, row):
    row.raw["period_start"], row.raw["period_end"] = row.raw["period_end"], row.raw["period_start"]
    return "period_end_not_after_period_start"


def negative_amount(draw, entity, row):
    row.raw["amount"] = "-" + row.raw["amount"]
    return "negative_amount"


CORRUPTIONS: dict[str, list[Corruption]] = {
    "invoices": [empty_key, empty_customer, garbage("date", "period_start", "period_end"),
                 garbage("timestamp", "issued_at"), garbage("number", "amount"), too_large,
                 garbage("status", "status"), garbage("currency", "currency"), swap_period],
    "orders": [empty_key, empty_customer, garbage("timestamp", "ordered_at"), garbage("number", "amount"), too_large,
               garbage("status", "status"), garbage("currency", "currency"), negative_amount],
}


def keys_of(entity: Entity) -> list[tuple[str, ...]]:
    """Small key spaces, so the same key often turns up in several files (restatements)."""
    if entity is INVOICES:
        return [(f"inv-{n}", str(line)) for n in range(15) for line in (1, 2, 3)]
    return [(f"o-{n}",) for n in range(40)]


@st.composite
def landing_file(draw, entity: Entity, name: str) -> File:
    """Valid rows with unique keys, then some rows corrupted; a few rows repeat an earlier row's key."""
    make_row = invoice_row if entity is INVOICES else order_row
    size = draw(st.integers(0, 40))
    keys = draw(st.permutations(keys_of(entity)))[:size]
    rows = [draw(make_row(key)) for key in keys]
    for index, row in enumerate(rows):
        how_many = draw(st.sampled_from([0, 0, 0, 0, 1, 1, 2]))
        for corruption in draw(st.lists(st.sampled_from(CORRUPTIONS[entity.folder]), min_size=how_many,
                                        max_size=how_many, unique=True)):
            row.reasons.append(corruption(draw, entity, row))
        earlier = [r for r in rows[:index] if all(r.raw[k].strip() for k in entity.key)]
        if earlier and not row.reasons and draw(st.integers(0, 9)) == 0:
            source = draw(st.sampled_from(earlier))
            for k in entity.key:
                row.raw[k] = source.raw[k]
            row.reasons.append("duplicate_key_in_file")
    return File(name, rows)


@st.composite
def landing(draw) -> dict[str, list[File]]:
    """One to four files per entity folder, named in the order they must apply; CSV or (sometimes) Parquet."""
    result = {}
    for entity in (INVOICES, ORDERS):
        count = draw(st.integers(1, 4))
        formats = draw(st.lists(st.sampled_from(["csv", "csv", "csv", "parquet"]), min_size=count, max_size=count))
        names = [f"{entity.folder}/2024-01-{day + 1:02d}.{fmt}" for day, fmt in enumerate(formats)]
        result[entity.folder] = [draw(landing_file(entity, name)) for name in names]
    return result


def write_file(root: Path, entity: Entity, file: File) -> None:
    """CSV as text; Parquet with every column VARCHAR, so the corrupted cells survive as they are."""
    path = root / file.name
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = [c.name for c in entity.columns]
    if path.suffix == ".csv":
        lines = [",".join(columns)] + [",".join(row.raw[c] for c in columns) for row in file.rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif file.rows:
        values = ", ".join(f"({', '.join(quote_literal(row.raw[c]) for c in columns)})" for row in file.rows)
        write_parquet(path, f"SELECT * FROM (VALUES {values}) AS t({', '.join(columns)})")
    else:
        write_parquet(path, "SELECT " + ", ".join(f"NULL::VARCHAR AS {c}" for c in columns) + " LIMIT 0")


def expected_tables(files: list[File], entity: Entity) -> dict[tuple, tuple]:
    """The model: the valid rows, and for a key in several files the one from the latest file."""
    winners = {}
    for file in files:  # already in path order
        for number, row in enumerate(file.rows, start=1):
            if not row.reasons:
                winners[tuple(row.expected[k] for k in entity.key)] = (row.expected, file.name, number)
    return winners


def check_entity(con: duckdb.DuckDBPyConnection, entity: Entity, files: list[File]) -> None:
    manifest = {r[0]: r[1:] for r in con.execute(
        "SELECT path, rows_read, rows_loaded, rows_quarantined, error FROM ingest.manifest WHERE entity = ?", [entity.folder]
    ).fetchall()}
    quarantine = {(r[0], r[1]): r[2] for r in con.execute(
        "SELECT file, row_number, reason FROM ingest.quarantine WHERE entity = ?", [entity.folder]
    ).fetchall()}
    expected_quarantine = {}
    for file in files:
        bad = sum(1 for row in file.rows if row.reasons)
        assert manifest[file.name] == (len(file.rows), len(file.rows) - bad, bad, None), file.name
        for number, row in enumerate(file.rows, start=1):
            if row.reasons:
                expected_quarantine[(file.name, number)] = row.reasons
    assert set(quarantine) == set(expected_quarantine)
    for where, reasons in expected_quarantine.items():
        if len(reasons) == 1:  # two corruptions may meet in one cell and make a third kind of garbage
            assert quarantine[where] == reasons[0], (where, quarantine[where])

    names = [c.name for c in entity.columns]
    loaded = con.execute(f"SELECT {', '.join(names)}, _source_file, _source_row FROM {entity.qualified}").fetchall()
    actual = {tuple(r[names.index(k)] for k in entity.key): (dict(zip(names, r[:-2], strict=True)), r[-2], r[-1]) for r in loaded}
    assert len(actual) == len(loaded), "one row per key"
    assert actual == expected_tables(files, entity)


def label(files: dict[str, list[File]]) -> None:
    """Tell `--hypothesis-show-statistics` how often the interesting situations come up."""
    for folder, entity_files in files.items():
        entity = ENTITIES_BY_FOLDER[folder]
        rows = [row for file in entity_files for row in file.rows]
        seen_in = {}
        for file in entity_files:
            for row in file.rows:
                seen_in.setdefault(tuple(row.raw[k] for k in entity.key), set()).add(file.name)
        situations = {
            "key in several files": any(len(names) > 1 for names in seen_in.values()),
            "Parquet file": any(f.name.endswith(".parquet") for f in entity_files),
            "duplicate key in a file": any("duplicate_key_in_file" in r.reasons for r in rows),
            "row with two corruptions": any(len(r.reasons) > 1 for r in rows),
            "more than 20 rows in a file": any(len(f.rows) > 20 for f in entity_files),
        }
        for situation in (name for name, happened in situations.items() if happened):
            event(f"{entity.folder}: {situation}")


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(landing())
def test_loader_matches_the_model(files: dict[str, list[File]]):
    label(files)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "landing"
        for folder, entity_files in files.items():
            for file in entity_files:
                write_file(root, ENTITIES_BY_FOLDER[folder], file)
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        try:
            ingest_landing(con, root)
            for folder, entity_files in files.items():
                check_entity(con, ENTITIES_BY_FOLDER[folder], entity_files)
        finally:
            con.close()
