"""Kaplan-Meier curves and the conditional survival of a subscriber, on a hand-made cohort computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pipeline.value import survival

# Ten subscribers: (whole months lived, ended). Censored ones still subscribe on the as-of day.
COHORT = [(0, True), (1, True), (1, False), (2, True), (2, True), (3, False), (4, True), (5, False), (5, False),
          (6, True)]
# By hand: at risk 10, 9, 7, 5, 4, 3, 1; events 1, 1, 2, 0, 1, 0, 1
# S(0) = 9/10, S(1) = 9/10 x 8/9 = 0.8, S(2) = 0.8 x 5/7 = 4/7, S(3) = 4/7, S(4) = 4/7 x 3/4 = 3/7, S(5) = 3/7,
# S(6) = 0; the median is the first month with S <= 1/2: 4.
HAND_SURVIVAL = [0.9, 0.8, 4 / 7, 4 / 7, 3 / 7, 3 / 7, 0.0]


def curve_of(rows):
    months, ended = zip(*rows, strict=True)
    return survival.kaplan_meier(months, ended, np.ones(len(rows), dtype=int))


def test_kaplan_meier_by_hand():
    curve, median = curve_of(COHORT)
    assert curve["months_since_start"].tolist() == list(range(7))
    assert curve["at_risk"].tolist() == [10, 9, 7, 5, 4, 3, 1]
    assert curve["events"].tolist() == [1, 1, 2, 0, 1, 0, 1]
    assert curve["censored"].tolist() == [0, 1, 0, 1, 0, 2, 0]
    np.testing.assert_allclose(curve["survival"], HAND_SURVIVAL, rtol=1e-12, atol=1e-15)
    assert median == 4


def test_confidence_interval_is_the_exponential_greenwood_one():
    """At month 2: Greenwood's sum d / (n (n - d)) = 1/(10 x 9) + 1/(9 x 8) + 2/(7 x 5); on the log(-log) scale
    the 95 % interval is S^exp(+-1.96 sqrt(sum) / |ln S|)."""
    curve, _ = curve_of(COHORT)
    greenwood = 1 / 90 + 1 / 72 + 2 / 35
    s = 4 / 7
    spread = 1.959963984540054 * math.sqrt(greenwood) / abs(math.log(s))
    row = curve.iloc[2]
    assert row["ci_lower"] == pytest.approx(s ** math.exp(spread), rel=1e-9)
    assert row["ci_upper"] == pytest.approx(s ** math.exp(-spread), rel=1e-9)
    assert row["ci_lower"] < s < row["ci_upper"]


def test_counts_as_weights_give_the_same_curve_as_one_row_per_subscriber():
    once, _ = curve_of(COHORT)
    doubled, _ = survival.kaplan_meier([m for m, _ in COHORT], [e for _, e in COHORT], [2] * len(COHORT))
    np.testing.assert_allclose(doubled["survival"], once["survival"])
    assert (doubled["at_risk"] == 2 * once["at_risk"]).all()
    assert (doubled["ci_upper"] - doubled["ci_lower"] < once["ci_upper"] - once["ci_lower"] + 1e-12).all()


def test_a_median_never_reached_is_none():
    _, median = curve_of([(3, False), (4, True), (5, False), (6, False)])
    assert median is None


def test_survival_table_has_every_group_and_its_median():
    lifetimes = pd.DataFrame({
        "cohort_quarter": ["2024-Q1"] * 6 + ["2024-Q2"] * 4,
        "segment": ["smb", "smb", "smb", "enterprise", "enterprise", "smb", "smb", "enterprise", "smb", "smb"],
        "months": [m for m, _ in COHORT],
        "ended": [e for _, e in COHORT],
        "subscribers": 1,
    })
    table = survival.survival_table(lifetimes)
    assert list(table.columns) == list(survival.TABLE_COLUMNS)
    groups = table.groupby(["group_type", "group_value"]).size()
    assert set(groups.index) == {("all", "all"), ("segment", "smb"), ("segment", "enterprise"),
                                 ("cohort_quarter", "2024-Q1"), ("cohort_quarter", "2024-Q2")}
    everyone = table[table["group_type"] == "all"]
    np.testing.assert_allclose(everyone["survival"], HAND_SURVIVAL, atol=1e-15)
    assert everyone["median_lifetime_months"].eq(4).all()
    # the 2024-Q1 cohort: months 0, 1, 1, 2, 2, 3 with ended T, T, F, T, T, F -> at risk 6 then 5: S(0) = 5/6, S(1) = 5/6 x 4/5
    q1 = table[table["group_value"] == "2024-Q1"].set_index("months_since_start")["survival"]
    assert q1[1] == pytest.approx(5 / 6 * 4 / 5)


def test_beyond_the_longest_lifetime_the_pooled_tail_hazard_continues_the_curve():
    rows = [*COHORT[:-1], (6, False)]  # the last subscriber still subscribes: S(6) = S(5) = 3/7
    curve, _ = curve_of(rows)
    s = survival.extended_survival(curve, 8)
    hazard = 5 / 39  # events 1+1+2+0+1+0+0 over at risk 10+9+7+5+4+3+1 (all seven months are the last twelve)
    np.testing.assert_allclose(s[:7], curve["survival"])
    assert s[7] == pytest.approx(3 / 7 * (1 - hazard))
    assert s[8] == pytest.approx(3 / 7 * (1 - hazard) ** 2)


def test_conditional_survival_of_a_subscriber_by_hand():
    """A subscriber of 1 month (S(1) = 0.8), horizon 2 months: S(2)/S(1) = S(3)/S(1) = (4/7)/0.8 = 5/7."""
    curve, _ = curve_of(COHORT)
    plain = survival.conditional_by_age(curve, horizon=2, monthly_discount=0.0).set_index("age_months")
    assert plain.loc[1, "discounted_months"] == pytest.approx(10 / 7)
    assert plain.loc[1, "p_cancel"] == pytest.approx(2 / 7)
    discounted = survival.conditional_by_age(curve, horizon=2, monthly_discount=0.01).set_index("age_months")
    assert discounted.loc[1, "discounted_months"] == pytest.approx(5 / 7 / 1.01 + 5 / 7 / 1.01**2)
    # a subscriber at the curve's last month: S(6) = 0 on this curve, so nothing is expected
    assert plain.loc[6, "discounted_months"] == 0 and plain.loc[6, "p_cancel"] == 1
    assert len(survival.conditional_by_age(curve, 2, 0.0, max_age=20)) == 21


def test_bad_inputs():
    with pytest.raises(ValueError, match="no subscribers"):
        survival.kaplan_meier([], [], [])
    with pytest.raises(ValueError, match=">= 0"):
        survival.kaplan_meier([-1, 2], [True, False], [1, 1])
