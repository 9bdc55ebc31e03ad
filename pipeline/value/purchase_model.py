"""The purchase models as an asset: BG/NBD on every order customer, Gamma-Gamma on the repeat buyers.

Reads one row per customer from dbt (`int_customer_purchase_histories`: repeat order days, recency, age in
days, average repeat order day value), fits both by maximum likelihood (bgnbd.py, gamma_gamma.py), and replaces
the fit rows of this as-of day (one per model) and the per-customer BG/NBD predictions, so re-running gives the
same tables. The customer lifetime value (clv_asset.py) reads the fits from here.
"""

from typing import TYPE_CHECKING

import dagster as dg
import numpy as np
import pandas as pd

from pipeline.lib.warehouse import Warehouse

if TYPE_CHECKING:
    from pipeline.value import bgnbd, gamma_gamma

HISTORIES = dg.AssetKey(["intermediate", "int_customer_purchase_histories"])
FIT_KEY = dg.AssetKey(["marts", "purchase_model_fit"])
PREDICTIONS_KEY = dg.AssetKey(["marts", "customer_purchase_predictions"])
HORIZON_DAYS = 90
MIN_CUSTOMERS = 20  # fewer than this and the four parameters are not identified

FIT_DDL = """CREATE TABLE IF NOT EXISTS marts.purchase_model_fit (
    as_of DATE, model VARCHAR, r DOUBLE, alpha DOUBLE, a DOUBLE, b DOUBLE, time_unit VARCHAR,
    n_customers BIGINT, log_likelihood DOUBLE, converged BOOLEAN)"""
# Gamma-Gamma's columns, added to a table an earlier version created (null on bg_nbd rows and vice versa).
FIT_COLUMNS_ADDED = (
    ("p", "DOUBLE"), ("q", "DOUBLE"), ("gamma", "DOUBLE"),
    ("frequency_value_correlation", "DOUBLE"), ("correlation_flag", "BOOLEAN"),
)


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


def spend_model(histories: pd.DataFrame) -> "tuple[gamma_gamma.GammaGammaFit | None, float | None]":
    """Gamma-Gamma on the repeat buyers with a known repeat value (x >= 1, m > 0), and the Pearson correlation
    of x and m that its independence assumption asks to check. None with fewer than MIN_CUSTOMERS of them."""
    from pipeline.value import gamma_gamma

    m = histories["avg_repeat_order_day_value"].astype("float64")
    buyers = histories[(histories["repeat_order_days"] >= 1) & (m > 0)]
    if len(buyers) < MIN_CUSTOMERS:
        return None, None
    x = buyers["repeat_order_days"].to_numpy(dtype="float64")
    values = buyers["avg_repeat_order_day_value"].to_numpy(dtype="float64")
    return gamma_gamma.fit(x, values), gamma_gamma.frequency_value_correlation(x, values)


def write_fits(con, as_of, bg_fit, gg_fit, correlation: float | None) -> None:
    """Replace this as-of day's row of each model (none when the model was not fitted): never a duplicate."""
    from pipeline.value.gamma_gamma import CORRELATION_FLAG

    con.execute(FIT_DDL)
    for column, kind in FIT_COLUMNS_ADDED:
        con.execute(f"ALTER TABLE marts.purchase_model_fit ADD COLUMN IF NOT EXISTS {column} {kind}")
    con.execute("DELETE FROM marts.purchase_model_fit WHERE as_of = ? AND model IN ('bg_nbd', 'gamma_gamma')", [as_of])
    if bg_fit is not None:
        con.execute(
            "INSERT INTO marts.purchase_model_fit (as_of, model, r, alpha, a, b, time_unit, n_customers, "
            "log_likelihood, converged) VALUES (?, 'bg_nbd', ?, ?, ?, ?, 'day', ?, ?, ?)",
            [as_of, bg_fit.r, bg_fit.alpha, bg_fit.a, bg_fit.b, bg_fit.n_customers, bg_fit.log_likelihood,
             bg_fit.converged],
        )
    if gg_fit is not None:
        r = None if correlation is None or np.isnan(correlation) else float(correlation)
        con.execute(
            "INSERT INTO marts.purchase_model_fit (as_of, model, p, q, gamma, n_customers, log_likelihood, "
            "converged, frequency_value_correlation, correlation_flag) VALUES (?, 'gamma_gamma', ?, ?, ?, ?, ?, ?, ?, ?)",
            [as_of, gg_fit.p, gg_fit.q, gg_fit.gamma, gg_fit.n_customers, gg_fit.log_likelihood, gg_fit.converged,
             r, r is not None and abs(r) > CORRELATION_FLAG],
        )


def _fit_metadata(bg_fit, gg_fit, correlation: float | None, as_of) -> dict[str, object]:
    meta: dict[str, object] = {"as_of": str(as_of), "fitted": bg_fit is not None}
    if bg_fit is not None:
        meta.update({"r": bg_fit.r, "alpha": bg_fit.alpha, "a": bg_fit.a, "b": bg_fit.b,
                     "log_likelihood": bg_fit.log_likelihood, "converged": bg_fit.converged,
                     "n_customers": bg_fit.n_customers})
    if gg_fit is not None:
        meta.update({"gamma_gamma_p": gg_fit.p, "gamma_gamma_q": gg_fit.q, "gamma_gamma_gamma": gg_fit.gamma,
                     "gamma_gamma_converged": gg_fit.converged, "gamma_gamma_customers": gg_fit.n_customers,
                     "frequency_value_correlation": dg.FloatMetadataValue(
                         None if correlation is None or np.isnan(correlation) else round(float(correlation), 4))})
    return meta


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            FIT_KEY,
            deps=[HISTORIES],
            group_name="value",
            owners=["team:customer-success"],
            kinds={"python", "duckdb"},
            description="Per as-of day one row per model: BG/NBD (r, alpha, a, b; time unit day) and Gamma-Gamma "
            "(p, q, gamma; reporting currency, with the correlation of frequency and value).",
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
    """Fit BG/NBD on order customers and Gamma-Gamma on repeat buyers as of the last day with data (Fader,
    Hardie and Lee 2005)."""
    from pipeline.value.gamma_gamma import CORRELATION_FLAG

    with warehouse.connect(read_only=True) as con:
        histories = con.execute(f"SELECT * FROM {'.'.join(HISTORIES.path)} ORDER BY customer_id").df()
    fit, predicted = predictions(histories)
    gg_fit, correlation = spend_model(histories)
    as_of = histories["as_of"].max() if len(histories) else None
    with warehouse.connect() as con:
        con.execute("BEGIN TRANSACTION")
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        write_fits(con, as_of, fit, gg_fit, correlation)
        con.execute("CREATE OR REPLACE TABLE marts.customer_purchase_predictions AS SELECT * FROM predicted")
        con.execute("COMMIT")
    if fit is None:
        context.log.warning(f"only {len(histories)} order customers: BG/NBD not fitted, p_alive left empty")
    elif not fit.converged:
        context.log.warning(f"BG/NBD fit did not converge ({fit.message}): p_alive left empty")
    elif predicted[f"expected_purchases_{HORIZON_DAYS}d"].isna().all():
        context.log.warning("BG/NBD expected purchases could not be evaluated for this fit: left empty")
    if gg_fit is None:
        context.log.warning("fewer than 20 repeat buyers with a known value: Gamma-Gamma not fitted")
    elif not gg_fit.converged:
        context.log.warning(f"Gamma-Gamma fit not usable ({gg_fit.message})")
    elif correlation is not None and abs(correlation) > CORRELATION_FLAG:
        context.log.warning(f"frequency and average value correlate (r = {correlation:.2f}): Gamma-Gamma assumes "
                            "they do not, its expected values are doubtful")
    yield dg.MaterializeResult(asset_key=FIT_KEY, metadata=_fit_metadata(fit, gg_fit, correlation, as_of))
    yield dg.MaterializeResult(asset_key=PREDICTIONS_KEY, metadata={"dagster/row_count": len(predicted)})
