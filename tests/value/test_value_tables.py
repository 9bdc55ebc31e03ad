"""What the value assets write: the subscription lifetimes SQL on hand-made MRR intervals, and the fit rows of
the purchase models (one per as-of day and model, replaced on a re-run, added to a table of an earlier version)."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipeline.value import bgnbd, gamma_gamma
from pipeline.value.purchase_model import FIT_DDL, spend_model, write_fits
from pipeline.value.survival_asset import read_lifetimes, survival_rows

AS_OF = dt.date(2024, 6, 30)
INTERVALS = [
    ("a", "2024-01-15", "2024-03-15", 10),  # ended on Mar 15: 2 whole months
    ("b", "2024-01-31", "2024-02-29", 10),  # an upgrade on Feb 29, still paying on the as-of day: censored,
    ("b", "2024-02-29", "2024-07-31", 20),  # Jan 31 -> Jun 30 is 5 whole months (month ends count as whole)
    ("c", "2024-02-01", "2024-03-01", 10),  # paused, back on Apr 10, ended May 10: one lifetime of 3 months
    ("c", "2024-04-10", "2024-05-10", 10),
    ("d", "2024-07-05", "2024-08-05", 10),  # starts after the as-of day: not a subscriber yet
    ("e", "2024-04-01", "2024-06-30", 10),  # the last day with MRR is Jun 29: ended, 2 months; no CRM segment
    ("f", "2024-05-20", "2024-07-20", 10),  # censored after 1 month, a renewal already invoiced
    ("f", "2024-07-20", "2024-08-20", 10),
]
SEGMENTS = [("a", "smb"), ("b", "enterprise"), ("c", "smb"), ("d", "smb"), ("f", "smb")]


@pytest.fixture
def con():
    with duckdb.connect() as connection:
        connection.execute("CREATE SCHEMA intermediate")
        connection.execute("CREATE TABLE intermediate.int_as_of_day AS SELECT DATE '2024-06-30' AS as_of_day")
        connection.execute("CREATE TABLE intermediate.int_customer_mrr_intervals (customer_id VARCHAR, "
                           "valid_from DATE, valid_to DATE, mrr DECIMAL(18, 4))")
        connection.executemany("INSERT INTO intermediate.int_customer_mrr_intervals VALUES (?, ?, ?, ?)", INTERVALS)
        connection.execute("CREATE TABLE intermediate.int_customers_first_active (customer_id VARCHAR, segment VARCHAR)")
        connection.executemany("INSERT INTO intermediate.int_customers_first_active VALUES (?, ?)", SEGMENTS)
        yield connection


def test_one_lifetime_per_subscriber_from_the_first_mrr_day_to_the_last_end(con):
    lifetimes, as_of = read_lifetimes(con)
    assert as_of == AS_OF
    assert [tuple(r) for r in lifetimes.itertuples(index=False)] == [
        ("2024-Q1", "enterprise", 5, False, 1),
        ("2024-Q1", "smb", 2, True, 1),
        ("2024-Q1", "smb", 3, True, 1),
        ("2024-Q2", "smb", 1, False, 1),
        ("2024-Q2", "unknown", 2, True, 1),
    ]


def test_survival_rows_carry_the_as_of_day_and_every_group(con):
    rows = survival_rows(*read_lifetimes(con))
    assert (rows["as_of"] == AS_OF).all()
    everyone = rows[rows["group_type"] == "all"].set_index("months_since_start")
    # at risk 5, 5, 4, 2 (month 0 .. 3); events at 2 (a, e) and 3 (c): S(2) = 1 - 2/4, S(3) = S(2) x (1 - 1/2)
    assert everyone["at_risk"].tolist()[:4] == [5, 5, 4, 2]
    assert everyone.loc[2, "survival"] == pytest.approx(0.5) and everyone.loc[3, "survival"] == pytest.approx(0.25)
    assert set(rows.loc[rows["group_type"] == "cohort_quarter", "group_value"]) == {"2024-Q1", "2024-Q2"}
    assert survival_rows(read_lifetimes(con)[0].head(0), AS_OF).empty


def _histories(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x, t_x, T = bgnbd.simulate((0.8, 40.0, 0.6, 2.5), n, rng.integers(60, 900, n).astype(float), rng)
    m = np.where(x > 0, gamma_gamma.simulate((2.0, 3.0, 60.0), np.maximum(x, 1), rng), np.nan)
    return pd.DataFrame({"repeat_order_days": x, "recency_days": np.floor(t_x), "age_days": T,
                         "avg_repeat_order_day_value": m})


def test_spend_model_fits_repeat_buyers_with_a_known_value_only():
    frame = _histories(3000, 1)
    frame.loc[frame.index[:50], "avg_repeat_order_day_value"] = np.nan  # a repeat order without an fx rate
    fit, correlation = spend_model(frame)
    known = (frame["repeat_order_days"] >= 1) & frame["avg_repeat_order_day_value"].notna()
    assert fit.converged and fit.n_customers == int(known.sum())
    assert correlation == pytest.approx(np.corrcoef(frame.loc[known, "repeat_order_days"],
                                                    frame.loc[known, "avg_repeat_order_day_value"])[0, 1])
    assert spend_model(frame.head(10)) == (None, None)


def test_fit_rows_are_replaced_per_day_and_model_in_a_table_of_an_earlier_version():
    frame = _histories(2000, 2)
    bg_fit = bgnbd.fit(frame["repeat_order_days"], frame["recency_days"], frame["age_days"])
    gg_fit, correlation = spend_model(frame)
    with duckdb.connect() as con:
        con.execute("CREATE SCHEMA marts")
        con.execute(FIT_DDL)  # as the BG/NBD-only version created it, with an earlier day's row
        con.execute("INSERT INTO marts.purchase_model_fit VALUES "
                    "(DATE '2024-06-29', 'bg_nbd', 1, 2, 3, 4, 'day', 10, -5.0, true)")
        for _ in range(2):
            write_fits(con, AS_OF, bg_fit, gg_fit, 0.45)
        rows = con.execute("SELECT as_of, model, p, correlation_flag, frequency_value_correlation "
                           "FROM marts.purchase_model_fit ORDER BY as_of, model").fetchall()
        assert rows == [(dt.date(2024, 6, 29), "bg_nbd", None, None, None),
                        (AS_OF, "bg_nbd", None, None, None),
                        (AS_OF, "gamma_gamma", gg_fit.p, True, 0.45)]
        write_fits(con, AS_OF, bg_fit, gg_fit, correlation)
        assert abs(correlation) < 0.3 and con.execute(
            "SELECT correlation_flag FROM marts.purchase_model_fit WHERE model = 'gamma_gamma'").fetchone() == (False,)
        write_fits(con, AS_OF, bg_fit, None, None)  # Gamma-Gamma no longer fitted: its row goes
        assert con.execute("SELECT model FROM marts.purchase_model_fit WHERE as_of = ?", [AS_OF]).fetchall() == [
            ("bg_nbd",)
        ]
