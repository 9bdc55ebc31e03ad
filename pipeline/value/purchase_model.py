"""The BG/NBD purchase model as an asset: fit on every order customer, predict per customer.

Reads one row per customer from dbt (`int_customer_purchase_histories`: repeat order days, recency, age in
days), fits by maximum likelihood (bgnbd.py), and replaces the fit row of this as-of day and the per-customer
predictions, so re-running gives the same tables.
"""

from typing import TYPE_CHECKING

import dagster as dg
import numpy as np
import pandas as pd

from pipeline.lib.warehouse import Warehouse

if TYPE_CHECKING:
    from pipeline.value import bgnbd

HISTORIES = dg.AssetKey(["intermediate", "int_customer_purchase_histories"])
FIT_KEY = dg.AssetKey(["marts", "purchase_model_fit"])
PREDICTIONS_KEY = dg.AssetKey(["marts", "customer_purchase_predictions"])
HORIZON_DAYS = 90
MIN_CUSTOMERS = 20  # fewer than this and the four parameters are not identified

FIT_DDL = """CREATE TABLE IF NOT EXISTS marts.purchase_model_fit (
    as_of DATE, model VARCHAR, r DOUBLE, alpha DOUBLE, a DOUBLE, b DOUBLE, time_unit VARCHAR,
    n_customers BIGINT, log_likelihood DOUBLE, converged BOOLEAN)"""


def predictions(histories: pd.DataFrame) -> "tuple[bgnbd.BgNbdFit | None, pd.DataFrame]":
    """Fit on customers with some history (age > 0 days) and predict p_alive and 90-day purchases for them.

    Predictions stay empty (and no customer gets `low_p_alive`) when there are too few customers to fit or the
    fit did not converge, as happens on small or dropout-free samples: a wrong model is worse than none.

    bgnbd (scipy) is imported here, when a model is fitted, not when Dagster loads the code.
    """
    from pipeline.value import bgnbd

    known = histories[histories["age_days"] > 0]
    out = histories[["customer_id", "as_of"]].copy()
    out["p_alive"] = np.nan
    out[f"expected_purchases_{HORIZON_DAYS}d"] = np.nan
    if len(known) < MIN_CUSTOMERS:
        return None, out
    x, t_x, T = (
        known[c].to_numpy(dtype="float64") for c in ("repeat_order_days", "recency_days", "age_days")
    )
    fit = bgnbd.fit(x, t_x, T)
    if not fit.converged:  # parameters at a bound or undefined: stored with converged = false, not used
        return fit, out
    out.loc[known.index, "p_alive"] = bgnbd.p_alive(fit, x, t_x, T)
    try:
        expected = bgnbd.expected_purchases(fit, HORIZON_DAYS, x, t_x, T)
    except FloatingPointError:
        # A near-degenerate fit (no dropout seen: a and b in the millions) can leave the 2F1 term unevaluable;
        # p_alive stays meaningful (close to 1), the purchase forecast is left empty rather than invented.
        return fit, out
    out.loc[known.index, f"expected_purchases_{HORIZON_DAYS}d"] = expected
    return fit, out


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            FIT_KEY,
            deps=[HISTORIES],
            group_name="value",
            owners=["team:customer-success"],
            kinds={"python", "duckdb"},
            description="BG/NBD fit (r, alpha, a, b, log-likelihood) per as-of day, time unit day.",
        ),
        dg.AssetSpec(
            PREDICTIONS_KEY,
            deps=[HISTORIES],
            group_name="value",
            owners=["team:customer-success"],
            kinds={"python", "duckdb"},
            description=f"Per order customer: probability alive and expected purchases in the next {HORIZON_DAYS} days.",
        ),
    ],
    pool="warehouse",
)
def purchase_model(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Fit BG/NBD on order customers as of the last day with data (Fader, Hardie and Lee 2005)."""
    with warehouse.connect(read_only=True) as con:
        histories = con.execute(f"SELECT * FROM {'.'.join(HISTORIES.path)} ORDER BY customer_id").df()
    fit, predicted = predictions(histories)
    as_of = histories["as_of"].max() if len(histories) else None
    with warehouse.connect() as con:
        con.execute("BEGIN TRANSACTION")
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute(FIT_DDL)
        if fit is not None:
            con.execute("DELETE FROM marts.purchase_model_fit WHERE as_of = ?", [as_of])
            con.execute(
                "INSERT INTO marts.purchase_model_fit VALUES (?, 'bg_nbd', ?, ?, ?, ?, 'day', ?, ?, ?)",
                [as_of, fit.r, fit.alpha, fit.a, fit.b, fit.n_customers, fit.log_likelihood, fit.converged],
            )
        con.execute("CREATE OR REPLACE TABLE marts.customer_purchase_predictions AS SELECT * FROM predicted")
        con.execute("COMMIT")
    if fit is None:
        context.log.warning(f"only {len(histories)} order customers: BG/NBD not fitted, p_alive left empty")
        fit_meta = {"fitted": False}
    else:
        if not fit.converged:
            context.log.warning(f"BG/NBD fit did not converge ({fit.message}): p_alive left empty")
        elif predicted[f"expected_purchases_{HORIZON_DAYS}d"].isna().all():
            context.log.warning("BG/NBD expected purchases could not be evaluated for this fit: left empty")
        fit_meta = {
            "r": fit.r,
            "alpha": fit.alpha,
            "a": fit.a,
            "b": fit.b,
            "log_likelihood": fit.log_likelihood,
            "converged": fit.converged,
            "n_customers": fit.n_customers,
            "as_of": str(as_of),
        }
    yield dg.MaterializeResult(asset_key=FIT_KEY, metadata=fit_meta)
    yield dg.MaterializeResult(asset_key=PREDICTIONS_KEY, metadata={"dagster/row_count": len(predicted)})
