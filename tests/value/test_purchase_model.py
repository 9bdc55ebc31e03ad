"""The purchase-model asset's core: who gets predictions and when the model is not trusted."""

import datetime as dt

import numpy as np
import pandas as pd

from pipeline.value import bgnbd
from pipeline.value.purchase_model import MIN_CUSTOMERS, predictions

AS_OF = dt.date(2025, 12, 10)


def histories(x, t_x, T) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [f"c{i:05d}" for i in range(len(x))], "as_of": AS_OF,
        "repeat_order_days": x.astype(int), "recency_days": t_x.astype(int), "age_days": T.astype(int),
    })


def test_fitted_model_predicts_for_every_customer_with_history():
    rng = np.random.default_rng(3)
    T = rng.integers(60, 900, size=5000).astype(float)
    x, t_x, T = bgnbd.simulate((0.8, 40.0, 0.6, 2.5), 5000, T, rng)
    frame = histories(np.asarray(x), np.floor(t_x), T)
    frame.loc[0, ["repeat_order_days", "recency_days", "age_days"]] = 0  # first order on the as-of day
    fit, out = predictions(frame)
    assert fit is not None and fit.converged
    assert out.loc[0, ["p_alive", "expected_purchases_90d"]].isna().all()  # no history yet: no prediction
    rest = out.iloc[1:]
    assert rest["p_alive"].between(0, 1).all() and (rest["expected_purchases_90d"] >= 0).all()
    assert rest.loc[frame["repeat_order_days"].iloc[1:] == 0, "p_alive"].eq(1.0).all()


def test_too_few_customers_gives_no_model_and_no_predictions():
    frame = histories(np.array([1, 2, 0] * 5), np.array([10, 40, 0] * 5), np.array([100, 100, 50] * 5))
    assert len(frame) < MIN_CUSTOMERS
    fit, out = predictions(frame)
    assert fit is None and out["p_alive"].isna().all() and len(out) == len(frame)


def test_a_forecast_that_cannot_be_evaluated_is_left_empty_not_fatal(monkeypatch):
    def overflow(*args, **kwargs):
        raise FloatingPointError("hyp2f1 did not give a finite value")

    monkeypatch.setattr(bgnbd, "expected_purchases", overflow)
    rng = np.random.default_rng(5)
    x, t_x, T = bgnbd.simulate((0.8, 40.0, 0.6, 2.5), 2000, rng.integers(60, 900, size=2000).astype(float), rng)
    fit, out = predictions(histories(np.asarray(x), np.floor(t_x), T))
    assert fit.converged
    assert out["p_alive"].notna().all() and out["expected_purchases_90d"].isna().all()
