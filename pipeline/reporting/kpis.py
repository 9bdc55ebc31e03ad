"""Headline KPIs: the latest complete month beside the month before it.

Only complete months are compared: the month in progress has a partial end day, so its churn is low and its
MRR movements are half-counted, and comparing it with a whole month would show a trend that is not there.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class KpiSpec:
    key: str  # the mart column, also the Dagster metadata key
    label: str
    unit: str  # pct (a rate in percent, change in percentage points), money, count
    higher_is_better: bool


KPI_SPECS = (
    KpiSpec("retention_rate", "Retention rate", "pct", True),
    KpiSpec("churn_rate", "Churn rate", "pct", False),
    KpiSpec("gross_mrr_churn_rate", "Gross MRR churn", "pct", False),
    KpiSpec("net_revenue_retention", "Net revenue retention", "pct", True),
    KpiSpec("mrr_end", "MRR at month end", "money", True),
    KpiSpec("customers_end", "Active customers", "count", True),
)


@dataclass(frozen=True)
class Kpi:
    spec: KpiSpec
    value: float | None
    previous: float | None

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def improved(self) -> bool | None:
        """True when the change goes the good way (a falling churn rate), None without a change."""
        if not self.change:
            return None
        return (self.change > 0) == self.spec.higher_is_better

    def formatted_value(self) -> str:
        return format_value(self.value, self.spec.unit)

    def formatted_change(self) -> str:
        if self.change is None:
            return "no previous month"
        unit = " pp" if self.spec.unit == "pct" else ""
        return f"{_signed(self.change, self.spec.unit)}{unit}"


@dataclass(frozen=True)
class Headline:
    period: dt.date | None  # the latest complete month
    previous_period: dt.date | None
    kpis: tuple[Kpi, ...]


def _number(value: object) -> float | None:
    """A plain float, or None for SQL NULL (NaN / NA in pandas): a rate over nobody is not 0."""
    if value is None or value is pd.NA:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "pct":
        return f"{value:.1f} %"
    return f"{value:,.0f}"  # money and counts: whole units are precise enough for a headline


def _signed(change: float, unit: str) -> str:
    return f"{change:+.1f}" if unit == "pct" else f"{change:+,.0f}"


def complete_months(retention: pd.DataFrame, revenue: pd.DataFrame) -> pd.DataFrame:
    """One row per complete month with the customer and the revenue columns side by side."""
    both = retention.merge(revenue.drop(columns=["is_complete"]), on="period_start", how="inner")
    both = both[both["is_complete"].astype(bool)]
    return both.sort_values("period_start").reset_index(drop=True)


def _month_before(day: dt.date) -> dt.date:
    return (day.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def headline(retention: pd.DataFrame, revenue: pd.DataFrame) -> Headline:
    months = complete_months(retention, revenue)
    if months.empty:
        return Headline(None, None, tuple(Kpi(spec, None, None) for spec in KPI_SPECS))
    latest = months.iloc[-1]
    period = pd.Timestamp(latest["period_start"]).date()
    wanted = _month_before(period)
    before = months[pd.to_datetime(months["period_start"]).dt.date == wanted]
    previous = before.iloc[0] if len(before) else None
    kpis = tuple(
        Kpi(spec, _number(latest[spec.key]), _number(previous[spec.key]) if previous is not None else None)
        for spec in KPI_SPECS
    )
    return Headline(period, wanted if previous is not None else None, kpis)
