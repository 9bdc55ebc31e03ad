"""The BG/NBD purchase model (Fader, Hardie & Lee 2005, Marketing Science 24(2)) in numpy/scipy.

Irregular buyers do not cancel, so "churned" is never observed; BG/NBD infers it. While alive a customer buys as a
Poisson process with rate lambda ~ Gamma(r, rate alpha); after every *repeat* purchase they drop out with
probability p ~ Beta(a, b). Per customer the model only needs three numbers (all in days here):

* ``x``   -- repeat purchase days: distinct order days minus 1 (several orders on one day count as one);
* ``t_x`` -- recency: days from the first to the last order day (0 when ``x == 0``);
* ``T``   -- age: days from the first order day to ``as_of``.

Everything is evaluated in log space because ``Gamma(r + x)`` and ``((alpha + T) / (alpha + t_x)) ** (r + x)``
overflow long before x reaches the purchase counts of real customers. The fit compresses the data to unique
``(x, t_x, T)`` triples with counts, so a million customers with day-valued inputs cost a few thousand
likelihood terms, and optimises over log-parameters (positivity for free, better conditioning) with L-BFGS-B and
an analytic gradient. See docs/purchase-model.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from pipeline.value import log_space

__all__ = [
    "BgNbdFit",
    "expected_purchases",
    "expected_purchases_if_alive",
    "fit",
    "log_likelihood",
    "p_alive",
    "simulate",
]

Params = tuple[float, float, float, float]

@dataclass(frozen=True)
class BgNbdFit:
    """A fitted BG/NBD model. Parameters are on the day scale (lambda is purchases per day).

    ``log_likelihood`` is the total over all customers (not the mean) so fits of the same data can be compared
    and stored; ``converged`` is the optimiser's verdict, downgraded to False when the result is not finite or a
    parameter sits on its bound (an unidentified, boundary solution is not a usable MLE). ``message`` says why.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int
    converged: bool
    iterations: int
    message: str

    @property
    def params(self) -> Params:
        return (self.r, self.alpha, self.a, self.b)


# --------------------------------------------------------------------------------------------------- validation


def _check_params(params: object) -> Params:
    if isinstance(params, BgNbdFit):
        params = params.params
    try:
        values = tuple(float(v) for v in params)  # type: ignore[union-attr]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"params must be four numbers (r, alpha, a, b), got {params!r}") from exc
    if len(values) != 4:
        raise ValueError(f"params must be four numbers (r, alpha, a, b), got {len(values)}")
    for name, value in zip(("r", "alpha", "a", "b"), values, strict=True):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"parameter {name} must be finite and > 0, got {value!r}")
    return values  # type: ignore[return-value]


def _bad(name: str, mask: np.ndarray, what: str) -> None:
    n_bad = int(np.count_nonzero(mask))
    if n_bad:
        raise ValueError(f"{name}: {n_bad} of {mask.size} rows {what}")


def _check_data(x: object, t_x: object, T: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate and broadcast to float64 arrays of one shape (1-d). Errors name the argument and the bad-row count,
    because the caller is a pipeline step over millions of rows and needs to know what to look for."""
    arrays = []
    for name, value in (("x", x), ("t_x", t_x), ("T", T)):
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric") from exc
        arrays.append(arr)
    try:
        x_arr, t_arr, T_arr = np.broadcast_arrays(*arrays)
    except ValueError as exc:
        shapes = ", ".join(f"{n}{a.shape}" for n, a in zip(("x", "t_x", "T"), arrays, strict=True))
        raise ValueError(f"x, t_x and T must have the same length (or be scalars): {shapes}") from exc
    x_arr, t_arr, T_arr = (np.ravel(a) for a in (x_arr, t_arr, T_arr))
    _bad("x", ~np.isfinite(x_arr), "are not finite")
    _bad("t_x", ~np.isfinite(t_arr), "are not finite")
    _bad("T", ~np.isfinite(T_arr), "are not finite")
    _bad("x", x_arr < 0, "are negative (x counts repeat purchase days)")
    _bad("x", x_arr != np.floor(x_arr), "are not whole numbers (x counts repeat purchase days)")
    _bad("T", T_arr <= 0, "are not > 0 (T is the age from the first order day to as_of)")
    _bad("t_x", t_arr < 0, "are negative (t_x is the time from the first to the last order day)")
    _bad("t_x", t_arr > T_arr, "are greater than T (the last order cannot be after as_of)")
    _bad("t_x", (x_arr == 0) & (t_arr != 0), "are not 0 where x == 0 (no repeat purchase means no recency)")
    return x_arr, t_arr, T_arr


# --------------------------------------------------------------------------------------------------- likelihood


def log_likelihood(params: Params | BgNbdFit, x: object, t_x: object, T: object) -> np.ndarray:
    """Per-customer log-likelihood ln L(r, alpha, a, b | x, t_x, T) (FHL 2005, eq. 6), vectorised.

    ln L = ln[Gamma(r+x) alpha^r / Gamma(r)] + ln[B(a, b+x) / B(a, b)]
           + ln[(alpha+T)^-(r+x) + [x>0] a/(b+x-1) (alpha+t_x)^-(r+x)]
    The last bracket is a log-sum of two terms (logaddexp) so neither power is ever formed; for x == 0 the
    second term is absent (the customer cannot have dropped out before a repeat purchase).
    """
    r, alpha, a, b = _check_params(params)
    x_arr, t_arr, T_arr = _check_data(x, t_x, T)
    ll, _ = _ll_terms((r, alpha, a, b), _Compressed.identity(x_arr, t_arr, T_arr), gradient=False)
    return ll


@dataclass(frozen=True)
class _Compressed:
    """Unique (x, t_x, T) triples with counts, plus inverse indices into the unique values of each coordinate so
    that the special functions are evaluated once per distinct x (or T, or t_x) rather than once per triple."""

    x: np.ndarray  # per triple
    counts: np.ndarray  # per triple (float64 weights)
    ux: np.ndarray
    ix: np.ndarray
    uT: np.ndarray
    iT: np.ndarray
    ut: np.ndarray
    it: np.ndarray
    n_customers: int

    @staticmethod
    def _from_triples(x: np.ndarray, t: np.ndarray, T: np.ndarray, counts: np.ndarray, n: int) -> _Compressed:
        ux, ix = np.unique(x, return_inverse=True)
        uT, iT = np.unique(T, return_inverse=True)
        ut, it = np.unique(t, return_inverse=True)
        return _Compressed(x, counts, ux, ix, uT, iT, ut, it, n)

    @staticmethod
    def identity(x: np.ndarray, t: np.ndarray, T: np.ndarray) -> _Compressed:
        return _Compressed._from_triples(x, t, T, np.ones(x.size), x.size)

    @staticmethod
    def compress(x: np.ndarray, t: np.ndarray, T: np.ndarray) -> _Compressed:
        # What np.unique(np.stack([x, t, T], axis=1), axis=0, return_counts=True) does, faster: day-valued inputs
        # (the warehouse case) are packed into one int64 key and sorted once; anything else is lexsorted.
        # Both give the triples in the same (x, t_x, T) order, so the fit does not depend on the path taken.
        span = float(max(t.max(initial=0.0), T.max(initial=0.0))) + 1.0
        if (
            span * span * (float(x.max(initial=0.0)) + 1.0) < 2.0**62
            and np.all(t == np.floor(t))
            and np.all(T == np.floor(T))
        ):
            s = np.int64(span)
            key = (x.astype(np.int64) * s + t.astype(np.int64)) * s + T.astype(np.int64)
            ukey, counts = np.unique(key, return_counts=True)
            ux_, rest = np.divmod(ukey, s * s)
            ut_, uT_ = np.divmod(rest, s)
            return _Compressed._from_triples(
                ux_.astype(np.float64),
                ut_.astype(np.float64),
                uT_.astype(np.float64),
                counts.astype(np.float64),
                x.size,
            )
        order = np.lexsort((T, t, x))
        xs, ts, Ts = x[order], t[order], T[order]
        new = np.empty(xs.size, dtype=bool)
        new[:1] = True
        new[1:] = (xs[1:] != xs[:-1]) | (ts[1:] != ts[:-1]) | (Ts[1:] != Ts[:-1])
        starts = np.flatnonzero(new)
        counts = np.diff(np.append(starts, xs.size)).astype(np.float64)
        return _Compressed._from_triples(xs[starts], ts[starts], Ts[starts], counts, x.size)


def _ll_terms(params: Params, d: _Compressed, gradient: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-triple log-likelihood and, if asked, its gradient with respect to (r, alpha, a, b), shape (4, n)."""
    r, alpha, a, b = params
    ux = d.ux
    pos_u = ux > 0
    # Terms depending on x only (few distinct values).
    g_x = special.gammaln(r + ux) - special.gammaln(r) + special.betaln(a, b + ux) - special.betaln(a, b)
    bx1 = np.where(pos_u, b + ux - 1.0, 1.0)  # b + x - 1 > 0 whenever x >= 1
    log_ratio_u = np.where(pos_u, np.log(a) - np.log(bx1), -np.inf)  # ln[a / (b+x-1)], absent for x == 0
    log_aT = np.log(alpha + d.uT)
    log_at = np.log(alpha + d.ut)

    rx = r + d.x
    log_aT_i = log_aT[d.iT]
    log_at_i = log_at[d.it]
    # ln bracket = ln (alpha+T)^-(r+x) + ln(1 + e^lo), with lo = ln[a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)] the
    # log-odds of "dropped out after the last purchase" (-inf for x == 0, so the second term vanishes exactly).
    log_odds = log_ratio_u[d.ix] + rx * (log_aT_i - log_at_i)
    softplus = np.logaddexp(0.0, log_odds)
    ll = g_x[d.ix] + (r * np.log(alpha) - rx * log_aT_i + softplus)
    if not gradient:
        return ll, None

    # d ln bracket = w_T d ln(alpha+T)^-(r+x) + w_t d ln[a/(b+x-1) (alpha+t_x)^-(r+x)], where w_t = 1 - P(alive)
    # and w_T = P(alive) are the posterior weights of the two terms.
    w_t = np.exp(log_odds - softplus)
    w_T = 1.0 - w_t
    dg_r = special.digamma(r + ux) - special.digamma(r)
    psi_abx = special.digamma(a + b + ux)
    psi_ab = special.digamma(a + b)
    dg_a = psi_ab - psi_abx
    dg_b = special.digamma(b + ux) - special.digamma(b) + psi_ab - psi_abx
    inv_bx1 = np.where(pos_u, 1.0 / bx1, 0.0)

    grad = np.empty((4, ll.size))
    grad[0] = dg_r[d.ix] + np.log(alpha) - w_T * log_aT_i - w_t * log_at_i
    grad[1] = r / alpha - rx * (w_T * (1.0 / (alpha + d.uT))[d.iT] + w_t * (1.0 / (alpha + d.ut))[d.it])
    grad[2] = dg_a[d.ix] + w_t / a
    grad[3] = dg_b[d.ix] - w_t * inv_bx1[d.ix]
    return ll, grad


def _objective(log_params: np.ndarray, d: _Compressed) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood per customer and its gradient in log-parameters. The mean (not the sum) keeps
    the objective O(1) whatever the number of customers, so the optimiser's tolerances mean the same thing."""
    params = np.exp(log_params)
    ll, grad = _ll_terms(tuple(params), d, gradient=True)  # type: ignore[arg-type]
    assert grad is not None
    n = d.n_customers
    value = -float(np.dot(d.counts, ll)) / n
    g = -(grad @ d.counts) * params / n  # chain rule: d/d ln theta = theta d/d theta
    if not np.isfinite(value) or not np.all(np.isfinite(g)):
        return np.inf, np.zeros(4)  # L-BFGS-B backtracks from a non-finite point
    return value, g


def _default_initial(x: np.ndarray, T: np.ndarray, counts: np.ndarray, n: int) -> Params:
    # r = 1 and alpha matched to the average purchase rate (mean lambda = r / alpha ~ sum x / sum T) puts the start
    # in the right order of magnitude whatever the time unit; a = b = 1 is a uniform prior on the dropout p.
    rate = max(float(np.dot(counts, x)), 0.5) / float(np.dot(counts, T))
    return (1.0, 1.0 / rate, 1.0, 1.0)


def fit(x: object, t_x: object, T: object, initial: Params | None = None) -> BgNbdFit:
    """Maximum-likelihood fit of (r, alpha, a, b).

    The data are compressed to unique (x, t_x, T) triples with counts (day-valued inputs from the warehouse have
    few distinct triples, so this is what makes millions of customers cheap), then the mean negative
    log-likelihood is minimised over log-parameters with L-BFGS-B using the analytic gradient. The result is
    deterministic: same inputs, same arithmetic, same fit.
    """
    x_arr, t_arr, T_arr = _check_data(x, t_x, T)
    if x_arr.size == 0:
        raise ValueError("x, t_x, T: no customers to fit")
    d = _Compressed.compress(x_arr, t_arr, T_arr)
    start = (
        _check_params(initial)
        if initial is not None
        else _default_initial(d.x, d.uT[d.iT], d.counts, d.n_customers)
    )
    result = log_space.minimize(_objective, d, start, ftol=1e-13)
    params = tuple(float(v) for v in np.exp(result.x))
    ll_total = float(np.dot(d.counts, _ll_terms(params, d, gradient=False)[0]))  # type: ignore[arg-type]
    converged = bool(result.success) and bool(np.isfinite(ll_total))
    message = str(result.message)
    bound = log_space.at_bound(("r", "alpha", "a", "b"), result.x)
    if bound:
        converged = False
        message += bound
    if not np.any(d.x > 0):
        converged = False
        message += (
            "; no customer has a repeat purchase: r, alpha, a, b are not identified"
            " (the likelihood only asks for a purchase rate of 0)"
        )
    r, alpha, a, b = params
    return BgNbdFit(
        r=r,
        alpha=alpha,
        a=a,
        b=b,
        log_likelihood=ll_total,
        n_customers=d.n_customers,
        converged=converged,
        iterations=int(result.nit),
        message=message,
    )


# --------------------------------------------------------------------------------------------------- prediction


def _log_odds_dead(params: Params, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """ln[ a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x) ] for x > 0, -inf for x == 0: the log-odds of having dropped
    out after the last purchase versus being alive, given the history."""
    r, alpha, a, b = params
    pos = x > 0
    bx1 = np.where(pos, b + x - 1.0, 1.0)
    log_odds = np.log(a) - np.log(bx1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(pos, log_odds, -np.inf)


def p_alive(fit_or_params: BgNbdFit | Params, x: object, t_x: object, T: object) -> np.ndarray:
    """P(alive at T | x, t_x, T) = 1 / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)) (FHL 2005, eq. 11).

    Evaluated as expit(-log-odds) so large x or long gaps give a clean 0 rather than 1/inf warnings. Exactly 1 for
    x == 0: in BG/NBD a customer can only drop out right after a repeat purchase.
    """
    params = _check_params(fit_or_params)
    x_arr, t_arr, T_arr = _check_data(x, t_x, T)
    return special.expit(-_log_odds_dead(params, x_arr, t_arr, T_arr))


def _expected_given_alive_factor(params: Params, t: float, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """(a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)], z = t/(alpha+T+t).

    Euler's transformation 2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z) turns the product into
    (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z): its first two parameters no longer grow with x, so it tends to 1
    for large x instead of overflowing (the textbook form needs 2F1 ~ (1-z)^-(r+x) times a power that
    underflows). Needs a != 1 (callers average a = 1 +- h there).

    For x == 0 and a + b < 1 the third parameter c = a+b-1 is negative and 2F1 can be negative, so the
    expm1/log route (accurate for small t) is only used where 2F1 > 0. At c == 0 (x == 0, a + b == 1) 2F1 has a
    pole; there the limit c 2F1(A, B; c; z) -> A B z 2F1(A+1, B+1; 2; z) gives the value (used for |c| < 1e-8,
    an O(c) approximation).
    """
    r, alpha, a, b = params
    c = a + b + x - 1.0
    z = t / (alpha + T + t)
    log1mz = np.log(alpha + T) - np.log(alpha + T + t)  # ln(1 - z) without cancellation
    big_a = a + b - 1.0 - r
    hyp = special.hyp2f1(big_a, a - 1.0, c, z)
    positive = hyp > 0
    bracket = np.where(
        positive,
        -np.expm1((a - 1.0) * log1mz + np.log(np.where(positive, hyp, 1.0))),
        1.0 - np.exp((a - 1.0) * log1mz) * hyp,
    )
    factor = c / (a - 1.0) * bracket
    pole = np.abs(c) < 1e-8
    if np.any(pole):
        zp = z[pole] if np.ndim(z) else z
        limit = -np.exp((a - 1.0) * log1mz[pole]) * big_a * zp * special.hyp2f1(big_a + 1.0, a, 2.0, zp)
        factor = np.where(pole, 0.0, factor)
        factor[pole] = limit
    return factor


def _factor(params: Params, t: float, x_arr: np.ndarray, T_arr: np.ndarray) -> np.ndarray:
    """The given-alive factor, a == 1 exactly (a removable singularity) handled by averaging a = 1 +- 1e-4."""
    r, alpha, a, b = params
    if abs(a - 1.0) < 1e-6:
        h = 1e-4
        return 0.5 * (
            _expected_given_alive_factor((r, alpha, 1.0 + h, b), t, x_arr, T_arr)
            + _expected_given_alive_factor((r, alpha, 1.0 - h, b), t, x_arr, T_arr)
        )
    return _expected_given_alive_factor(params, t, x_arr, T_arr)


def _check_horizon(t: object) -> float:
    t = float(t)  # type: ignore[arg-type]
    if not (np.isfinite(t) and t >= 0):
        raise ValueError(f"t must be finite and >= 0, got {t!r}")
    return t


def _finite(result: np.ndarray, name: str, params: Params, t: float) -> np.ndarray:
    bad = ~np.isfinite(result)
    if np.any(bad):
        raise FloatingPointError(
            f"{name}: hyp2f1 did not give a finite value for {int(bad.sum())} rows (params={params}, t={t})"
        )
    return np.maximum(result, 0.0)  # rounding can leave -1e-17 for t -> 0


def expected_purchases_if_alive(fit_or_params: BgNbdFit | Params, t: float, x: object, T: object) -> np.ndarray:
    """E[X(T, T+t) | alive at T, x, T]: expected repeat purchases in the next t days of a customer still alive.

    ``expected_purchases`` is this times P(alive). It does not depend on the recency t_x, so a caller that needs
    it at many horizons can evaluate it once per distinct (x, T) and multiply by each customer's P(alive).
    """
    params = _check_params(fit_or_params)
    t = _check_horizon(t)
    x_arr, _, T_arr = _check_data(x, 0.0, T)
    if t == 0:
        return np.zeros(x_arr.size)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        factor = _factor(params, t, x_arr, T_arr)
    return _finite(factor, "expected_purchases_if_alive", params, t)


def expected_purchases(
    fit_or_params: BgNbdFit | Params, t: float, x: object, t_x: object, T: object
) -> np.ndarray:
    """E[X(T, T+t) | x, t_x, T]: expected repeat purchases in the next t days (FHL 2005, eq. 10).

        E = (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))] * P(alive)

    The 2F1 term is evaluated in its Euler-transformed form (see ``_expected_given_alive_factor``), which stays
    finite for large x; a == 1 exactly (a removable singularity) is handled by averaging a = 1 +- 1e-4, good to
    ~1e-8 relative. Raises FloatingPointError rather than returning NaN/inf if hyp2f1 still fails for some row
    (never seen for valid inputs: x up to 1e6, t up to 1e6 days were checked in development).
    For small t, E ~ P(alive) (r+x)/(alpha+T) t: the posterior mean purchase rate of a live customer times t.
    """
    params = _check_params(fit_or_params)
    t = _check_horizon(t)
    x_arr, t_arr, T_arr = _check_data(x, t_x, T)
    if t == 0:
        return np.zeros(x_arr.size)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        result = _factor(params, t, x_arr, T_arr) * special.expit(-_log_odds_dead(params, x_arr, t_arr, T_arr))
    return _finite(result, "expected_purchases", params, t)


# --------------------------------------------------------------------------------------------------- simulation


def simulate(
    params: Params | BgNbdFit, n_customers: int, T: object, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw (x, t_x, T) for n customers from the BG/NBD process, each observed over [0, T] from a first purchase at 0.

    Per customer: lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b); repeat purchases follow a Poisson process with
    rate lambda; after each repeat purchase the customer drops out with probability p, i.e. they die right after
    their J-th repeat purchase with J ~ Geometric(p) on {1, 2, ...}. Exact and fully vectorised: with N ~
    Poisson(lambda T) purchases in (0, T] the observed count is x = min(N, J), and given N the purchase times are
    uniform order statistics, so t_x = T * Beta(x, N - x + 1) (the x-th of N uniforms). Times are continuous
    (not rounded to days). ``T`` is a scalar or an array of length n_customers.
    """
    r, alpha, a, b = _check_params(params)
    n = int(n_customers)
    if n < 0:
        raise ValueError(f"n_customers must be >= 0, got {n_customers!r}")
    T_arr = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    _bad("T", ~np.isfinite(T_arr) | (T_arr <= 0), "are not finite and > 0")
    lam = rng.gamma(shape=r, scale=1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    n_purchases = rng.poisson(lam * T_arr).astype(np.float64)
    # J by inversion, in floats so p -> 0 (J -> infinity) cannot overflow an integer.
    u = 1.0 - rng.random(n)  # (0, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        j = np.maximum(np.ceil(np.log(u) / np.log1p(-p)), 1.0)
    j = np.where(np.isnan(j), np.inf, j)  # p == 0 and u == 1: 0/0 -> never drops out
    x = np.minimum(n_purchases, j)
    pos = x > 0
    t_x = np.zeros(n)
    t_x[pos] = T_arr[pos] * rng.beta(x[pos], n_purchases[pos] - x[pos] + 1.0)
    return x.astype(np.int64), t_x, T_arr
