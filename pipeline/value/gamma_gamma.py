"""The Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value Curves for Customer Base
Analysis", Journal of Marketing Research 42(4); after Colombo & Jiang 1999) in numpy/scipy.

BG/NBD says how many purchases a customer will make; this model says what each is worth. The value of a
customer's transactions z_1, z_2, ... is Gamma(p, rate nu), so their mean is p / nu; nu varies across customers
as Gamma(q, rate gamma). Per customer it needs two numbers:

* ``x``   -- repeat transactions (>= 1): repeat order *days*, exactly BG/NBD's x;
* ``m``   -- the average value of those x repeat transactions (> 0), one transaction being the completed orders
             of one day, in the reporting currency.

Given nu, the sum x m of x transactions is Gamma(p x, rate nu), which makes the likelihood and the posterior mean
closed-form. The model assumes the value of a customer's transactions independent of how often they buy: check
the correlation of x and m (``frequency_value_correlation``) before trusting it. Like bgnbd.py the fit works in
log-parameters with L-BFGS-B and an analytic gradient; special functions are evaluated once per distinct x.
See docs/purchase-model.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from pipeline.value import log_space

__all__ = [
    "GammaGammaFit",
    "conditional_expected_value",
    "fit",
    "frequency_value_correlation",
    "log_likelihood",
    "population_mean_value",
    "simulate",
]

Params = tuple[float, float, float]

_GTOL_ACCEPT = 1e-6  # gradient of the mean log-likelihood in log-parameters below which the fit is at its optimum
# |r| above this between frequency and average value and the independence assumption is doubtful (the
# threshold the model's authors and the lifetimes library suggest checking against).
CORRELATION_FLAG = 0.3


@dataclass(frozen=True)
class GammaGammaFit:
    """A fitted Gamma-Gamma model; gamma is in the reporting currency (p and q have no unit).

    ``log_likelihood`` is the total over the customers; ``converged`` is False when the optimiser failed, the
    result is not finite, a parameter sits on its bound, or q <= 1 (then the mean transaction value of the
    population, p gamma / (q - 1), is infinite and no expected value can be given).
    """

    p: float
    q: float
    gamma: float
    log_likelihood: float
    n_customers: int
    converged: bool
    iterations: int
    message: str

    @property
    def params(self) -> Params:
        return (self.p, self.q, self.gamma)


# --------------------------------------------------------------------------------------------------- validation


def _check_params(params: object) -> Params:
    if isinstance(params, GammaGammaFit):
        params = params.params
    try:
        values = tuple(float(v) for v in params)  # type: ignore[union-attr]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"params must be three numbers (p, q, gamma), got {params!r}") from exc
    if len(values) != 3:
        raise ValueError(f"params must be three numbers (p, q, gamma), got {len(values)}")
    for name, value in zip(("p", "q", "gamma"), values, strict=True):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"parameter {name} must be finite and > 0, got {value!r}")
    return values  # type: ignore[return-value]


def _bad(name: str, mask: np.ndarray, what: str) -> None:
    n_bad = int(np.count_nonzero(mask))
    if n_bad:
        raise ValueError(f"{name}: {n_bad} of {mask.size} rows {what}")


def _check_data(x: object, m: object, min_x: int) -> tuple[np.ndarray, np.ndarray]:
    """Float64 1-d arrays of one length. Errors name the argument and count the bad rows (see bgnbd.py)."""
    arrays = []
    for name, value in (("x", x), ("m", m)):
        try:
            arrays.append(np.asarray(value, dtype=np.float64))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric") from exc
    try:
        x_arr, m_arr = (np.ravel(a) for a in np.broadcast_arrays(*arrays))
    except ValueError as exc:
        raise ValueError(f"x and m must have the same length (or be scalars): x{arrays[0].shape}, "
                         f"m{arrays[1].shape}") from exc
    _bad("x", ~np.isfinite(x_arr), "are not finite")
    _bad("x", x_arr != np.floor(x_arr), "are not whole numbers (x counts repeat transactions)")
    _bad("x", x_arr < min_x, f"are below {min_x} (the model needs repeat transactions)")
    if min_x >= 1:
        _bad("m", ~np.isfinite(m_arr), "are not finite")
        _bad("m", m_arr <= 0, "are not > 0 (m is the average value of the repeat transactions)")
    else:  # x == 0 rows carry no value: m is ignored there
        has = x_arr > 0
        _bad("m", has & ~np.isfinite(m_arr), "are not finite where x > 0")
        _bad("m", has & (m_arr < 0), "are negative where x > 0")
    return x_arr, m_arr


# --------------------------------------------------------------------------------------------------- likelihood


@dataclass(frozen=True)
class _Data:
    """The rows in a canonical order, their logs, and the distinct x with counts and the inverse index: special
    functions are evaluated per distinct x, and every term linear in ln m or ln x is summed once, up front."""

    x: np.ndarray
    m: np.ndarray
    log_m: np.ndarray
    log_x: np.ndarray
    ux: np.ndarray
    ix: np.ndarray
    n_u: np.ndarray  # rows per distinct x
    sum_x_log_m: float
    sum_log_m: float
    sum_x_log_x: float

    @staticmethod
    def of(x: np.ndarray, m: np.ndarray) -> _Data:
        order = np.lexsort((m, x))  # sums in one order whatever order the rows came in
        x, m = x[order], m[order]
        ux, ix, n_u = np.unique(x, return_inverse=True, return_counts=True)
        log_m, log_x = np.log(m), np.log(x)
        return _Data(x, m, log_m, log_x, ux, ix, n_u.astype(np.float64), float(np.dot(x, log_m)),
                     float(log_m.sum()), float(np.dot(x, log_x)))


def _log_gamma_terms(params: Params, ux: np.ndarray) -> np.ndarray:
    p, q, _ = params
    return special.gammaln(p * ux + q) - special.gammaln(p * ux) - special.gammaln(q)


def _ll_rows(params: Params, d: _Data) -> np.ndarray:
    """Per-row ln f(m | x) = ln Gamma(px+q) - ln Gamma(px) - ln Gamma(q) + q ln gamma + (px-1) ln m + px ln x
    - (px+q) ln(gamma + m x)."""
    p, q, gamma = params
    px = p * d.x
    return (_log_gamma_terms(params, d.ux)[d.ix] + q * np.log(gamma) + (px - 1.0) * d.log_m + px * d.log_x
            - (px + q) * np.log(gamma + d.m * d.x))


def _ll_total(params: Params, d: _Data) -> tuple[float, np.ndarray]:
    """The total log-likelihood and its gradient in (p, q, gamma), from the precomputed sums: per evaluation only
    ln(gamma + m x) and 1 / (gamma + m x) are formed per row.

    sum ln f = sum_u n_u G(u) + n q ln gamma + p (S_xlnm + S_xlnx) - S_lnm - p sum x L - q sum L, L = ln(gamma + m x)
    """
    p, q, gamma = params
    n = float(d.x.size)
    log_gmx = np.log(gamma + d.m * d.x)
    inv_gmx = 1.0 / (gamma + d.m * d.x)
    sum_xl, sum_l = float(np.dot(d.x, log_gmx)), float(log_gmx.sum())
    sum_xr, sum_r = float(np.dot(d.x, inv_gmx)), float(inv_gmx.sum())
    total = (float(np.dot(d.n_u, _log_gamma_terms(params, d.ux))) + n * q * np.log(gamma)
             + p * (d.sum_x_log_m + d.sum_x_log_x) - d.sum_log_m - p * sum_xl - q * sum_l)
    psi_pxq = special.digamma(p * d.ux + q)
    grad = np.array([
        float(np.dot(d.n_u * d.ux, psi_pxq - special.digamma(p * d.ux))) + d.sum_x_log_m + d.sum_x_log_x - sum_xl,
        float(np.dot(d.n_u, psi_pxq)) - n * special.digamma(q) + n * np.log(gamma) - sum_l,
        n * q / gamma - p * sum_xr - q * sum_r,
    ])
    return total, grad


def log_likelihood(params: Params | GammaGammaFit, x: object, m: object) -> np.ndarray:
    """Per-customer ln f(m | p, q, gamma, x): the density of the average m of x transactions, nu integrated out.
    Rows come back in the order given."""
    params = _check_params(params)
    x_arr, m_arr = _check_data(x, m, min_x=1)
    ux, ix = np.unique(x_arr, return_inverse=True)
    d = _Data(x_arr, m_arr, np.log(m_arr), np.log(x_arr), ux, ix, np.ones(0), 0.0, 0.0, 0.0)
    return _ll_rows(params, d)


def _objective(log_params: np.ndarray, d: _Data) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood and its gradient in log-parameters (the mean keeps tolerances O(1))."""
    params = np.exp(log_params)
    total, grad = _ll_total(tuple(params), d)  # type: ignore[arg-type]
    n = d.x.size
    value = -total / n
    g = -grad * params / n
    if not np.isfinite(value) or not np.all(np.isfinite(g)):
        return np.inf, np.zeros(3)
    return value, g


def _default_initial(m: np.ndarray) -> Params:
    # p = 1, q = 2 put the start at a finite-mean, moderately skewed population; gamma then matches the mean
    # transaction value p gamma / (q - 1) to the observed mean, so the start is on the data's currency scale.
    return (1.0, 2.0, float(np.mean(m)))


def fit(x: object, m: object, initial: Params | None = None) -> GammaGammaFit:
    """Maximum-likelihood fit of (p, q, gamma) on repeat buyers (x >= 1, m > 0). Deterministic; row order does
    not change the result beyond floating-point summation order."""
    x_arr, m_arr = _check_data(x, m, min_x=1)
    if x_arr.size == 0:
        raise ValueError("x, m: no repeat buyers to fit")
    d = _Data.of(x_arr, m_arr)
    start = _check_params(initial) if initial is not None else _default_initial(m_arr)
    result = log_space.minimize(_objective, d, start, ftol=1e-12)
    params = tuple(float(v) for v in np.exp(result.x))
    ll_total = float(_ll_rows(params, d).sum())  # type: ignore[arg-type]
    # L-BFGS-B can end its line search "ABNORMAL" at the optimum, where the mean log-likelihood of many customers
    # no longer changes in the last digits; a vanishing gradient there is still a maximum.
    flat = bool(np.all(np.abs(_objective(result.x, d)[1]) < _GTOL_ACCEPT))
    converged = (bool(result.success) or flat) and bool(np.isfinite(ll_total))
    message = str(result.message)
    bound = log_space.at_bound(("p", "q", "gamma"), result.x)
    if bound:
        converged = False
        message += bound
    if params[1] <= 1.0:
        converged = False
        message += "; q <= 1: the population's mean transaction value is infinite, no expected value exists"
    p, q, gamma = params
    return GammaGammaFit(p, q, gamma, ll_total, int(x_arr.size), converged, int(result.nit), message)


# --------------------------------------------------------------------------------------------------- prediction


def _check_finite_mean(params: Params) -> None:
    if params[1] <= 1.0:
        raise ValueError(f"q must be > 1 for an expected value (the mean p gamma / (q - 1)), got {params[1]!r}")


def population_mean_value(params: Params | GammaGammaFit) -> float:
    """E[Z] = p gamma / (q - 1): the mean transaction value of the population (needs q > 1)."""
    p, q, gamma = _check_params(params)
    _check_finite_mean((p, q, gamma))
    return p * gamma / (q - 1.0)


def conditional_expected_value(params: Params | GammaGammaFit, x: object, m: object) -> np.ndarray:
    """E[Z | x, m] = (gamma + m x) p / (p x + q - 1) (FHL 2005, eq. 5): the expected value of the customer's
    next transactions given x transactions averaging m.

    A weighted mean of the population mean p gamma / (q - 1) and the customer's own m, with weight
    p x / (p x + q - 1) on m: the more transactions, the more their own average counts. For x = 0 (one order day,
    no repeat) m is ignored and the result is the population mean.
    """
    p, q, gamma = _check_params(params)
    _check_finite_mean((p, q, gamma))
    x_arr, m_arr = _check_data(x, m, min_x=0)
    own = np.where(x_arr > 0, m_arr, 0.0)
    return (gamma + own * x_arr) * p / (p * x_arr + q - 1.0)


def frequency_value_correlation(x: object, m: object) -> float:
    """Pearson correlation of x and m over repeat buyers; NaN when either is constant (nothing to correlate)."""
    x_arr, m_arr = _check_data(x, m, min_x=1)
    if x_arr.size < 2 or np.ptp(x_arr) == 0 or np.ptp(m_arr) == 0:
        return float("nan")
    return float(np.corrcoef(x_arr, m_arr)[0, 1])


# --------------------------------------------------------------------------------------------------- simulation


def simulate(params: Params | GammaGammaFit, x: object, rng: np.random.Generator) -> np.ndarray:
    """The average value m of x transactions per customer: nu ~ Gamma(q, rate gamma), then the sum of x values is
    Gamma(p x, rate nu) (a sum of x independent Gamma(p, nu)); exact and vectorised. ``x`` are whole numbers >= 1."""
    p, q, gamma = _check_params(params)
    x_arr, _ = _check_data(x, 1.0, min_x=1)
    nu = rng.gamma(shape=q, scale=1.0 / gamma, size=x_arr.size)
    return rng.gamma(shape=p * x_arr, scale=1.0 / nu) / x_arr
