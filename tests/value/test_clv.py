"""Customer lifetime value of hand-made buyers and subscribers, computed by hand from the models' own pieces."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pipeline.value import bgnbd, clv, survival
from pipeline.value.clv_asset import MIN_CURVE_SUBSCRIBERS, lifetime_values, subscriber_values
from tests.value.test_survival import COHORT, curve_of

BG = (1.0, 2.0, 1.5, 3.0)  # r, alpha (days), a, b
GG = (6.0, 4.0, 15.0)  # p, q, gamma
TERMS = clv.ClvTerms(months=2, annual_discount_rate=0.10, gross_margin=0.5)
V = 1.10 ** (-1 / 12)  # one month's discount factor at 10 % a year
AS_OF = dt.date(2025, 12, 10)


def test_monthly_rate_compounds_to_the_annual_one():
    assert (1 + TERMS.monthly_discount_rate) ** 12 == pytest.approx(1.10)
    np.testing.assert_allclose(TERMS.discount_factors(), [V, V**2])
    assert clv.ClvTerms(3, 0.0, 1.0).discount_factors().tolist() == [1.0, 1.0, 1.0]


def test_expected_purchases_is_the_given_alive_forecast_times_p_alive():
    x, t_x, T = np.array([0, 2, 7]), np.array([0, 40, 300]), np.array([50, 100, 320])
    np.testing.assert_allclose(
        bgnbd.expected_purchases(BG, 45.0, x, t_x, T),
        bgnbd.expected_purchases_if_alive(BG, 45.0, x, T) * bgnbd.p_alive(BG, x, t_x, T),
        rtol=1e-14,
    )


def test_purchase_clv_of_one_buyer_by_hand():
    """x = 2 repeat order days averaging 35, last 40 days after the first, first 100 days ago. Gamma-Gamma expects
    (15 + 35 x 2) x 6 / (6 x 2 + 4 - 1) = 34 per order day; BG/NBD expects E1 order days within a month and E2
    within two, so 0.5 x 34 x (E1 v + (E2 - E1) v^2)."""
    e1, e2 = (bgnbd.expected_purchases(BG, k * 365.25 / 12, 2, 40, 100)[0] for k in (1, 2))
    row = clv.purchase_value(BG, GG, [2], [40], [100], [35.0], TERMS).iloc[0]
    assert row["expected_order_value"] == pytest.approx(34.0)
    assert row["expected_purchases"] == pytest.approx(e2)
    assert row["purchase_clv"] == pytest.approx(0.5 * 34.0 * (e1 * V + (e2 - e1) * V**2), rel=1e-12)
    assert row["p_alive"] == pytest.approx(bgnbd.p_alive(BG, 2, 40, 100)[0])


def test_a_buyer_without_a_repeat_value_gets_the_population_mean():
    """One order day (x = 0), or repeat days whose value is unknown: p gamma / (q - 1) = 6 x 15 / 3 = 30."""
    rows = clv.purchase_value(BG, GG, [0, 3], [0, 60], [80, 100], [np.nan, np.nan], TERMS)
    assert rows["expected_order_value"].tolist() == pytest.approx([30.0, 30.0])


def test_many_buyers_share_one_forecast_per_distinct_x_and_age():
    rng = np.random.default_rng(1)
    T = rng.integers(30, 400, 3000).astype(float)
    x, t_x, T = bgnbd.simulate(BG, 3000, T, rng)
    t_x = np.floor(t_x)
    rows = clv.purchase_value(BG, GG, x, t_x, T, np.full(3000, 20.0), TERMS)
    direct = bgnbd.expected_purchases(BG, 2 * 365.25 / 12, x, t_x, T)
    np.testing.assert_allclose(rows["expected_purchases"], direct, rtol=1e-12, atol=1e-15)


def test_subscription_clv_of_one_subscriber_by_hand():
    """MRR 100, one whole month old on the hand-made curve of test_survival (S(1) = 0.8, S(2) = S(3) = 4/7):
    still subscribing next month and the month after with probability (4/7) / 0.8 = 5/7 each, so
    0.5 x 100 x (5/7 v + 5/7 v^2), and cancelling within the two months with probability 2/7."""
    curve, _ = curve_of(COHORT)
    by_age = survival.conditional_by_age(curve, TERMS.months, TERMS.monthly_discount_rate)
    row = clv.subscription_value([100.0], by_age, [1], TERMS).iloc[0]
    assert row["subscription_clv"] == pytest.approx(0.5 * 100 * (5 / 7 * V + 5 / 7 * V**2), rel=1e-12)
    assert row["p_cancel"] == pytest.approx(2 / 7)


def test_value_at_stake_by_method():
    frame = pd.DataFrame({
        "purchase_clv": [900.0, np.nan, 100.0, np.nan],
        "p_alive": [0.4, np.nan, 0.5, np.nan],
        "subscription_clv": [np.nan, 2000.0, 1000.0, np.nan],
        "p_cancel": [np.nan, 0.1, 0.2, np.nan],
    })
    stake = clv.value_at_stake(frame)
    assert stake.iloc[:3].tolist() == pytest.approx([540.0, 200.0, 50.0 + 200.0])
    assert np.isnan(stake.iloc[3])


def _curves(segments: dict[str, int]) -> pd.DataFrame:
    """The hand-made curve for everyone and for each segment, with that many subscribers at month 0."""
    base, _ = curve_of(COHORT)
    frames = [base.assign(group_type="all", group_value="all")]
    for name, n in segments.items():
        frames.append(base.assign(group_type="segment", group_value=name, at_risk=n))
    return pd.concat(frames, ignore_index=True)


def test_a_small_segment_borrows_the_curve_of_everyone():
    subscribers = pd.DataFrame({
        "customer_id": ["big", "small", "new_segment"], "current_mrr": [100.0, 100.0, 100.0],
        "segment": ["smb", "enterprise", "unseen"], "subscription_age_months": [1, 1, 1],
    })
    curves = _curves({"smb": MIN_CURVE_SUBSCRIBERS, "enterprise": MIN_CURVE_SUBSCRIBERS - 1})
    out = subscriber_values(subscribers, curves, TERMS).set_index("customer_id")
    assert out["survival_curve"].to_dict() == {"big": "segment:smb", "small": "all", "new_segment": "all"}
    assert out["p_cancel"].tolist() == pytest.approx([2 / 7] * 3)


def test_lifetime_values_add_both_methods_and_leave_out_customers_no_model_knows():
    buyers = pd.DataFrame({"customer_id": ["both", "buyer"], "p_alive": [0.5, 0.4],
                           "expected_purchases": [2.0, 1.0], "expected_order_value": [50.0, 30.0],
                           "purchase_clv": [100.0, 900.0]})
    subscribers = pd.DataFrame({"customer_id": ["both", "subscriber"], "current_mrr": [50.0, 80.0],
                                "segment": ["smb", "smb"], "subscription_age_months": [3, 10],
                                "survival_curve": ["all", "all"], "p_cancel": [0.2, 0.1],
                                "subscription_clv": [1000.0, 2000.0]})
    out = lifetime_values(buyers, subscribers, AS_OF, TERMS).set_index("customer_id")
    assert out["method"].to_dict() == {"both": "purchases+subscription", "buyer": "purchases",
                                       "subscriber": "subscription"}
    assert out.loc["both", "clv"] == 1100.0 and out.loc["both", "value_at_stake"] == pytest.approx(250.0)
    assert out.loc["buyer", "value_at_stake"] == pytest.approx(540.0)
    assert (out["horizon_months"] == 2).all() and (out["as_of"] == pd.Timestamp(AS_OF)).all()
