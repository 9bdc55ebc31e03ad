"""Headline KPIs: the latest complete month against the month before, from the hand-made warehouse."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipeline.reporting.data import read_report_data
from pipeline.reporting.kpis import KPI_SPECS, headline


def by_key(head):
    return {k.spec.key: k for k in head.kpis}


def test_latest_complete_month_against_the_month_before(con):
    data = read_report_data(con)
    head = headline(data.retention, data.revenue)
    kpis = by_key(head)
    # April is in progress and the quarter row is another grain: March 2024 vs February 2024.
    assert head.period == dt.date(2024, 3, 1) and head.previous_period == dt.date(2024, 2, 1)
    assert kpis["retention_rate"].value == pytest.approx(91.2)
    assert kpis["retention_rate"].change == pytest.approx(91.2 - 95.0)
    assert kpis["retention_rate"].formatted_change() == "-3.8 pp"
    assert kpis["churn_rate"].formatted_change() == "+5.2 pp"
    assert kpis["net_revenue_retention"].formatted_value() == "92.7 %"
    assert kpis["gross_mrr_churn_rate"].change == pytest.approx(3.0)
    assert kpis["customers_end"].formatted_change() == "+1"
    assert kpis["mrr_end"].formatted_value() == "1,100" and kpis["mrr_end"].change == 0


def test_direction_is_good_or_bad_per_metric(con):
    kpis = by_key(headline(read_report_data(con).retention, read_report_data(con).revenue))
    assert kpis["retention_rate"].improved is False  # fell
    assert kpis["churn_rate"].improved is False  # rose: bad for a churn rate
    assert kpis["customers_end"].improved is True
    assert kpis["mrr_end"].improved is None  # unchanged


def test_without_the_previous_month_there_is_no_change(con):
    data = read_report_data(con)
    only_march = data.retention[pd.to_datetime(data.retention["period_start"]) >= "2024-03-01"]
    head = headline(only_march, data.revenue)
    assert head.period == dt.date(2024, 3, 1) and head.previous_period is None
    assert all(k.change is None and k.formatted_change() == "no previous month" for k in head.kpis)


def test_no_complete_month_gives_empty_headline(con):
    data = read_report_data(con)
    head = headline(data.retention.head(0), data.revenue.head(0))
    assert head.period is None
    assert [k.formatted_value() for k in head.kpis] == ["n/a"] * len(KPI_SPECS)


def test_a_null_rate_stays_unknown_not_zero(con):
    data = read_report_data(con)
    retention = data.retention.copy()
    retention.loc[pd.to_datetime(retention["period_start"]) == "2024-02-01", "retention_rate"] = None
    kpis = by_key(headline(retention, data.revenue))
    assert kpis["retention_rate"].previous is None and kpis["retention_rate"].change is None
