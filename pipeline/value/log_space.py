"""Maximum likelihood over log-parameters, shared by the BG/NBD and Gamma-Gamma fits.

Both models have strictly positive parameters. Fitting their logarithms with L-BFGS-B keeps them positive
without constraints; the box exp(+-LOG_BOUND) only stops a parameter that the data do not identify from running
off to infinity, and a fit that ends on it says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import optimize

LOG_BOUND = 20.0  # exp(-20) ~ 2e-9 .. exp(20) ~ 5e8: wide enough for any sensible day-scale fit
BOUND_SLACK = 1e-6


def minimize(objective: Callable, data: object, start: Sequence[float], ftol: float) -> optimize.OptimizeResult:
    """Minimises `objective(log_params, data) -> (value, gradient)` from `start` (parameters, not logs)."""
    x0 = np.clip(np.log(np.asarray(start, dtype=np.float64)), -LOG_BOUND + 1, LOG_BOUND - 1)
    return optimize.minimize(
        objective,
        x0,
        args=(data,),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-LOG_BOUND, LOG_BOUND)] * len(x0),
        options={"maxiter": 2000, "ftol": ftol, "gtol": 1e-8, "maxcor": 20},
    )


def at_bound(names: Sequence[str], log_params: np.ndarray) -> str:
    """The message part naming the parameters that ended on the bound; empty when none did."""
    names_at_bound = [n for n, v in zip(names, log_params, strict=True) if abs(v) >= LOG_BOUND - BOUND_SLACK]
    if not names_at_bound:
        return ""
    return f"; {', '.join(names_at_bound)} at the bound exp(+-{LOG_BOUND:g}): not identified by these data"
