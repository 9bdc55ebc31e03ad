"""marts.customer_lifetime_value: each customer's expected value over the next RETENTION_CLV_MONTHS months.

Buyers get the purchase method (BG/NBD x Gamma-Gamma, the fits of purchase_model.py), current subscribers the
subscription method (MRR x their segment's survival curve from subscription_survival); a customer who is both
gets both, summed. clv.py does the arithmetic; this module reads the warehouse, picks the curves and writes.
"""

import dagster as dg
import numpy as np
import pandas as pd

from pipeline.lib.warehouse import Warehouse, replace_table
from pipeline.value.purchase_model import FIT_KEY, HISTORIES
from pipeline.value.survival_asset import FIRST_ACTIVE, SURVIVAL_KEY

CUSTOMER_VALUE = dg.AssetKey(["marts", "customer_value"])
CLV_KEY = dg.AssetKey(["marts", "customer_lifetime_value"])
METHODS = ("subscription", "purchases", "purchases+subscription")
MIN_CURVE_SUBSCRIBERS = 30  # a segment with fewer subscribers borrows the curve of all subscribers

AS_OF_SQL = "SELECT max(as_of) FROM marts.customer_value"
BUYERS_SQL = """
SELECT customer_id, repeat_order_days, recency_days, age_days, avg_repeat_order_day_value
FROM intermediate.int_customer_purchase_histories WHERE age_days > 0 AND as_of = $as_of ORDER BY customer_id"""
FITS_SQL = """
SELECT model, r, alpha, a, b, p, q, gamma, converged FROM marts.purchase_model_fit WHERE as_of = $as_of"""
SUBSCRIBERS_SQL = """
SELECT cv.customer_id, cast(cv.current_mrr AS DOUBLE) AS current_mrr, cv.segment,
       date_sub('month', f.first_mrr_day, cv.as_of) AS subscription_age_months
FROM marts.customer_value cv JOIN intermediate.int_customers_first_active f USING (customer_id)
WHERE cv.current_mrr > 0 AND f.first_mrr_day <= cv.as_of ORDER BY cv.customer_id"""
CURVES_SQL = """
SELECT group_type, group_value, months_since_start, at_risk, events, survival FROM marts.subscription_survival
WHERE group_type IN ('all', 'segment') AND as_of = $as_of ORDER BY group_type, group_value, months_since_start"""

COLUMNS = (
    "customer_id", "as_of", "method", "horizon_months", "p_alive", "expected_purchases", "expected_order_value",
    "purchase_clv", "current_mrr", "subscription_age_months", "survival_curve", "p_cancel", "subscription_clv",
    "clv", "value_at_stake",
)
DDL = """CREATE OR REPLACE TABLE marts.customer_lifetime_value (
    customer_id VARCHAR NOT NULL, as_of DATE NOT NULL, method VARCHAR NOT NULL, horizon_months INTEGER NOT NULL,
    p_alive DOUBLE, expected_purchases DOUBLE, expected_order_value DOUBLE, purchase_clv DOUBLE,
    current_mrr DOUBLE, subscription_age_months INTEGER, survival_curve VARCHAR, p_cancel DOUBLE,
    subscription_clv DOUBLE, clv DOUBLE NOT NULL, value_at_stake DOUBLE NOT NULL)"""


class ClvSettings(dg.ConfigurableResource):
    """The horizon, discount and margin of the lifetime value (RETENTION_CLV_MONTHS, RETENTION_DISCOUNT_RATE as a
    fraction per year, RETENTION_GROSS_MARGIN)."""

    months: int
    discount_rate: float
    gross_margin: float

    def terms(self):
        from pipeline.value.clv import ClvTerms

        return ClvTerms(self.months, self.discount_rate, self.gross_margin)


def usable_fits(fits: pd.DataFrame) -> tuple[tuple | None, tuple | None]:
    """The parameters (r, alpha, a, b) and (p, q, gamma) of the as-of day's BG/NBD and Gamma-Gamma fits, or None
    for each that is missing or did not converge."""
    rows = {r.model: r for r in fits.itertuples() if bool(r.converged)}
    bg, gg = rows.get("bg_nbd"), rows.get("gamma_gamma")
    return (
        (bg.r, bg.alpha, bg.a, bg.b) if bg is not None else None,
        (gg.p, gg.q, gg.gamma) if gg is not None else None,
    )


def buyer_values(buyers: pd.DataFrame, fits: pd.DataFrame, terms) -> tuple[pd.DataFrame, str | None]:
    """The purchase method for every buyer with history, and why there is none when both purchase models are not
    usable (then no rows)."""
    from pipeline.value.clv import purchase_value

    empty = pd.DataFrame(columns=["customer_id", "p_alive", "expected_purchases", "expected_order_value",
                                  "purchase_clv"])
    bg_fit, gg_fit = usable_fits(fits)
    if buyers.empty:
        return empty, None
    if bg_fit is None or gg_fit is None:
        missing = " and ".join(n for n, f in (("BG/NBD", bg_fit), ("Gamma-Gamma", gg_fit)) if f is None)
        return empty, f"no converged {missing} fit for this as-of day"
    try:
        values = purchase_value(
            bg_fit, gg_fit, *(buyers[c].to_numpy(dtype="float64") for c in
                              ("repeat_order_days", "recency_days", "age_days", "avg_repeat_order_day_value")),
            terms,
        )
    except FloatingPointError:
        # A near-degenerate BG/NBD fit (no dropout seen: a and b in the millions) can leave the 2F1 term of the
        # forecast unevaluable, as purchase_model.py finds too: no purchase value rather than an invented one.
        return empty, "the BG/NBD forecast cannot be evaluated for this fit (a and b near their limit)"
    values.insert(0, "customer_id", buyers["customer_id"].to_numpy())
    return values, None


def curve_for_segment(curves: pd.DataFrame) -> dict[str, str]:
    """Each segment's own curve when it has MIN_CURVE_SUBSCRIBERS subscribers, else the curve of everyone."""
    starts = curves[(curves["group_type"] == "segment") & (curves["months_since_start"] == 0)]
    return {
        str(r.group_value): (f"segment:{r.group_value}" if r.at_risk >= MIN_CURVE_SUBSCRIBERS else "all")
        for r in starts.itertuples()
    }


def subscriber_values(subscribers: pd.DataFrame, curves: pd.DataFrame, terms) -> pd.DataFrame:
    """The subscription method for every current subscriber, each read off the curve of their segment."""
    from pipeline.value.clv import subscription_value
    from pipeline.value.survival import conditional_by_age

    out = subscribers.copy()
    if out.empty or curves.empty:
        return out.assign(survival_curve=pd.Series(dtype="object"), p_cancel=np.nan, subscription_clv=np.nan)
    chosen = curve_for_segment(curves)
    out["survival_curve"] = pd.Categorical(out["segment"].map(chosen).fillna("all"))  # a few names, many rows
    keyed = curves.assign(curve=np.where(curves["group_type"] == "all", "all", "segment:" + curves["group_value"]))
    parts = []
    for name, rows in out.groupby("survival_curve", sort=True):
        by_age = conditional_by_age(keyed[keyed["curve"] == name], terms.months, terms.monthly_discount_rate,
                                    max_age=int(rows["subscription_age_months"].max()))
        values = subscription_value(rows["current_mrr"], by_age, rows["subscription_age_months"], terms)
        parts.append(values.set_axis(rows.index))
    return out.join(pd.concat(parts))


def lifetime_values(buyers: pd.DataFrame, subscribers: pd.DataFrame, as_of, terms) -> pd.DataFrame:
    """One row per customer either method covers, with both parts, their sum and the value at stake."""
    from pipeline.value.clv import value_at_stake

    # Both come ordered by customer_id from SQL: an index join is the cheap outer join of a million keys.
    merged = buyers.set_index("customer_id").join(
        subscribers.drop(columns=["segment"]).set_index("customer_id"), how="outer"
    ).reset_index()  # work on a range index: lookups on an index of a million strings would build its hash table
    merged = merged[merged["purchase_clv"].notna() | merged["subscription_clv"].notna()].reset_index(drop=True)
    has_purchases = merged["purchase_clv"].notna().to_numpy()
    has_subscription = merged["subscription_clv"].notna().to_numpy()
    merged["as_of"] = pd.Timestamp(as_of)  # a datetime64 column, stored as DATE (python dates would be objects)
    codes = np.where(has_purchases & has_subscription, 2, has_purchases.astype(np.int8))
    merged["method"] = pd.Categorical.from_codes(codes, METHODS)  # three values: codes, not 600k strings
    merged["horizon_months"] = terms.months
    merged["clv"] = merged[["purchase_clv", "subscription_clv"]].sum(axis=1, min_count=1)
    merged["value_at_stake"] = value_at_stake(merged)
    return merged[list(COLUMNS)]


@dg.asset(
    key=CLV_KEY,
    deps=[CUSTOMER_VALUE, FIT_KEY, HISTORIES, SURVIVAL_KEY, FIRST_ACTIVE],
    group_name="value",
    owners=["team:customer-success"],
    kinds={"python", "duckdb"},
    pool="warehouse",
)
def customer_lifetime_value(context: dg.AssetExecutionContext, warehouse: Warehouse, clv: ClvSettings):
    """Expected margin over the next RETENTION_CLV_MONTHS months, discounted, per buyer and subscriber, and the
    part of it expected to be lost (the at-risk priority)."""
    terms = clv.terms()
    with warehouse.connect(read_only=True) as con:
        as_of = con.execute(AS_OF_SQL).fetchone()[0]
        params = {"as_of": as_of}
        buyers = con.execute(BUYERS_SQL, params).df()
        fits = con.execute(FITS_SQL, params).df()
        subscribers = con.execute(SUBSCRIBERS_SQL).df()
        curves = con.execute(CURVES_SQL, params).df()
    bought, no_purchase_value = buyer_values(buyers, fits, terms)
    clv_rows = lifetime_values(bought, subscriber_values(subscribers, curves, terms), as_of, terms)
    replace_table(warehouse, DDL, "marts.customer_lifetime_value", clv_rows)
    methods = clv_rows["method"].value_counts().to_dict()
    if no_purchase_value:
        context.log.warning(f"buyers get no lifetime value: {no_purchase_value}")
    context.log.info(f"lifetime value of {len(clv_rows)} customers over {terms.months} months: {methods}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(clv_rows),
            "as_of": str(as_of),
            "horizon_months": terms.months,
            "annual_discount_rate": terms.annual_discount_rate,
            "gross_margin": terms.gross_margin,
            **{f"customers_{method.replace('+', '_and_')}": int(n) for method, n in sorted(methods.items())},
            "clv_total": float(clv_rows["clv"].sum()) if len(clv_rows) else 0.0,
            "value_at_stake_total": float(clv_rows["value_at_stake"].sum()) if len(clv_rows) else 0.0,
        }
    )
