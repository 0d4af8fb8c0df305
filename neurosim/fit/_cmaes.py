"""CMA-ES: a derivative-free global search for losses with plateaus and cliffs.

Spike-time losses of adaptive neurons (spikes appearing and vanishing as parameters move) are
piecewise flat with jumps; gradient descent from a poor start stalls there. The covariance
matrix adaptation evolution strategy samples a population around a mean, moves the mean to the
best-ranked samples and learns the search distribution's shape from them; only the *ranking*
of losses is used, so plateaus and jumps do not hurt. Each generation evaluates one batch of
candidates, which a ``vmap``-ed simulation does in a single call.

Written from the update equations of Hansen (2016), "The CMA evolution strategy: a tutorial",
arXiv:1604.00772 (positive recombination weights, rank-one and rank-mu covariance updates,
cumulative step-size adaptation).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

__all__ = ["CMAESResult", "cmaes"]


class CMAESResult(NamedTuple):
    """Outcome of :func:`cmaes`.

    Attributes:
        x: best point evaluated, shape ``(d,)``.
        loss: its loss.
        mean: final mean of the search distribution, shape ``(d,)``.
        sigma: final step size.
        best_history: best loss evaluated up to each generation, shape ``(G,)``.
        sigma_history: step size at each generation, shape ``(G,)``.
        evaluations: number of loss evaluations.
    """

    x: np.ndarray
    loss: float
    mean: np.ndarray
    sigma: float
    best_history: np.ndarray
    sigma_history: np.ndarray
    evaluations: int


def cmaes(
    batch_loss: Callable,
    x0,
    sigma0,
    *,
    generations: int,
    popsize: int | None = None,
    seed: int = 0,
    tol_sigma: float = 1e-6,
) -> CMAESResult:
    """Minimise a loss over ``R^d`` with CMA-ES; the loss is evaluated one population at a time.

    Args:
        batch_loss: maps candidates of shape ``(popsize, d)`` (NumPy) to losses ``(popsize,)``
            — typically a jitted ``vmap`` of a simulation and a spike-train distance. Non-finite
            losses rank last.
        x0: initial mean, shape ``(d,)`` (e.g. a :class:`ParameterSpace`'s unconstrained
            coordinates flattened).
        sigma0: initial step size (> 0), in the units of ``x``: about a quarter to a half of
            the width of the region where the optimum may lie.
        generations: number of generations (>= 1).
        popsize: candidates per generation (>= 4); default ``4 + floor(3 ln d)``. Larger
            populations search more globally.
        seed: seed of the sampling.
        tol_sigma: stop early once the step size falls below this.

    Returns:
        A :class:`CMAESResult`.

    Example:
        >>> import numpy as np, neurosim as ns
        >>> res = ns.fit.cmaes(lambda X: np.sum((X - 1.0) ** 2, axis=1), np.zeros(3), 0.5,
        ...                    generations=200)
        >>> bool(np.allclose(res.x, 1.0, atol=1e-3))
        True
    """
    m = np.asarray(x0, float).ravel().copy()
    d = m.size
    if d < 1:
        raise ValueError("x0 must have at least one element")
    if not np.all(np.isfinite(m)):
        raise ValueError(f"x0 must be finite, got {x0}")
    sigma = float(sigma0)
    if not (sigma > 0 and np.isfinite(sigma)):
        raise ValueError(f"sigma0 must be a finite number > 0, got {sigma0}")
    generations = int(generations)
    if generations < 1:
        raise ValueError(f"generations must be >= 1, got {generations}")
    lam = int(popsize) if popsize is not None else 4 + int(3 * np.log(d))
    if lam < 4:
        raise ValueError(f"popsize must be >= 4, got {popsize}")

    mu = lam // 2
    w = np.log(mu + 0.5) - np.log(np.arange(1, mu + 1))
    w /= w.sum()
    mu_eff = 1.0 / np.sum(w**2)
    c_sigma = (mu_eff + 2.0) / (d + mu_eff + 5.0)
    d_sigma = 1.0 + 2.0 * max(0.0, np.sqrt((mu_eff - 1.0) / (d + 1.0)) - 1.0) + c_sigma
    c_c = (4.0 + mu_eff / d) / (d + 4.0 + 2.0 * mu_eff / d)
    c_1 = 2.0 / ((d + 1.3) ** 2 + mu_eff)
    c_mu = min(1.0 - c_1, 2.0 * (mu_eff - 2.0 + 1.0 / mu_eff) / ((d + 2.0) ** 2 + mu_eff))
    chi_d = np.sqrt(d) * (1.0 - 1.0 / (4.0 * d) + 1.0 / (21.0 * d**2))

    rng = np.random.default_rng(seed)
    p_sigma, p_c = np.zeros(d), np.zeros(d)
    C = np.eye(d)
    B, D = np.eye(d), np.ones(d)
    best_x, best_f = m.copy(), np.inf
    best_hist, sigma_hist = [], []
    evals = 0
    for g in range(generations):
        z = rng.standard_normal((lam, d))
        y = (z * D) @ B.T  # y ~ N(0, C)
        x = m + sigma * y
        f = np.asarray(batch_loss(x), float).reshape(-1)
        if f.shape != (lam,):
            raise ValueError(f"batch_loss must return shape ({lam},), got {f.shape}")
        evals += lam
        f = np.where(np.isfinite(f), f, np.inf)
        order = np.argsort(f, kind="stable")
        if f[order[0]] < best_f:
            best_f, best_x = float(f[order[0]]), x[order[0]].copy()
        best_hist.append(best_f)
        sigma_hist.append(sigma)

        y_sel = y[order[:mu]]
        y_w = w @ y_sel
        m = m + sigma * y_w
        c_inv_sqrt_yw = B @ ((B.T @ y_w) / D)  # C^(-1/2) y_w
        p_sigma = (1 - c_sigma) * p_sigma + np.sqrt(
            c_sigma * (2 - c_sigma) * mu_eff
        ) * c_inv_sqrt_yw
        norm_ps = np.linalg.norm(p_sigma)
        # Stall the rank-one update while the step size is growing fast (h_sigma = 0).
        bias = np.sqrt(1 - (1 - c_sigma) ** (2 * (g + 1)))
        h_sigma = norm_ps / bias < (1.4 + 2 / (d + 1)) * chi_d
        p_c = (1 - c_c) * p_c + h_sigma * np.sqrt(c_c * (2 - c_c) * mu_eff) * y_w
        rank_mu = (y_sel * w[:, None]).T @ y_sel
        C = (
            (1 - c_1 - c_mu + (1 - h_sigma) * c_1 * c_c * (2 - c_c)) * C
            + c_1 * np.outer(p_c, p_c)
            + c_mu * rank_mu
        )
        sigma *= float(np.exp(c_sigma / d_sigma * (norm_ps / chi_d - 1)))
        C = 0.5 * (C + C.T)
        eig, B = np.linalg.eigh(C)
        D = np.sqrt(np.maximum(eig, 1e-20))
        if sigma * D.max() < tol_sigma:
            break
    return CMAESResult(
        best_x, best_f, m, sigma, np.asarray(best_hist), np.asarray(sigma_hist), evals
    )
