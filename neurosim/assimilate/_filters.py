"""Ensemble Kalman analysis steps (pure jnp): stochastic EnKF and deterministic ETKF.

Conventions: an ensemble is an array ``(E, D)`` (members first); the predicted observations
``(E, M)`` are the observation operator applied to each member's forecast; ``y_obs`` is
``(M,)``; ``R`` the observation-error variances, a scalar or ``(M,)`` (diagonal R).

Missing observations: entries of ``y_obs`` that are NaN (or where ``mask`` is False) are
dropped from the update exactly: their predicted anomalies, innovations and gains are set to
zero, so the result equals the analysis with those rows removed (shapes stay fixed, so one
compiled function serves every window).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

__all__ = ["Diagnostics", "enkf_update", "etkf_update", "check_ensemble", "relax_to_prior_spread"]


class Diagnostics(NamedTuple):
    """Per-analysis record (all scalars, arrays on device).

    Attributes:
        spread_prior: mean over state dimensions of the forecast ensemble std.
        spread_post: the same after the update.
        innovation_mean: mean over valid observations of ``y_obs - mean(y_pred)``.
        innovation_var: mean squared innovation over valid observations.
        expected_var: its expectation if the filter is consistent: mean of
            ``var(y_pred) + R`` over valid observations.
        n_obs: number of valid (unmasked) observations.
        collapsed: True if ``spread_post`` is below ``collapse_tol`` (ensemble collapse).
        divergent: True if ``innovation_var / expected_var`` exceeds ``divergence_ratio``
            (the ensemble under-represents its own error: filter divergence), or if the
            analysis is not finite.
    """

    spread_prior: jax.Array
    spread_post: jax.Array
    innovation_mean: jax.Array
    innovation_var: jax.Array
    expected_var: jax.Array
    n_obs: jax.Array
    collapsed: jax.Array
    divergent: jax.Array


def check_ensemble(X, Y, y_obs, R) -> None:
    """Raise ``ValueError`` naming the array whose shape does not fit (host side)."""
    if X.ndim != 2:
        raise ValueError(f"X (ensemble) must be (E, D), got shape {tuple(X.shape)}")
    E = X.shape[0]
    if E < 2:
        raise ValueError(f"X (ensemble) needs at least 2 members, got {E}")
    if Y.ndim != 2 or Y.shape[0] != E:
        raise ValueError(
            f"Y (predicted observations) must be (E, M) = ({E}, M) like X's {E} members, "
            f"got shape {tuple(Y.shape)}"
        )
    M = Y.shape[1]
    if y_obs.shape != (M,):
        raise ValueError(f"y_obs must have shape ({M},) like Y's columns, got {tuple(y_obs.shape)}")
    if R.ndim > 1 or (R.ndim == 1 and R.shape[0] != M):
        raise ValueError(f"R (observation variance) must be a scalar or ({M},), got {R.shape}")


def _prepare(X, Y, y_obs, R, mask, inflation):
    X = jnp.asarray(X)
    Y = jnp.asarray(Y, X.dtype)
    y_obs = jnp.asarray(y_obs, X.dtype)
    R = jnp.asarray(R, X.dtype)
    check_ensemble(X, Y, y_obs, R)
    M = Y.shape[1]
    R = jnp.broadcast_to(R, (M,))
    valid = jnp.isfinite(y_obs)
    if mask is not None:
        mask = jnp.asarray(mask, bool)
        if mask.shape != (M,):
            raise ValueError(f"mask must have shape ({M},) like y_obs, got {tuple(mask.shape)}")
        valid = valid & mask
    xm, ym = X.mean(0), Y.mean(0)
    A = (X - xm) * inflation  # multiplicative inflation of the forecast anomalies
    B = (Y - ym) * inflation
    B = jnp.where(valid, B, 0.0)
    d = jnp.where(valid, y_obs - ym, 0.0)
    R_eff = jnp.where(valid, R, 1.0)  # masked rows decouple: zero anomalies, unit variance
    return X, A, B, d, R_eff, R, valid, xm, ym


def relax_to_prior_spread(A, Xa, alpha):
    r"""Relaxation to prior spread (RTPS; Whitaker & Hamill 2012), per state dimension.

    The analysis anomalies of dimension ``j`` are scaled so that their std becomes
    ``alpha_j sigma_b + (1 - alpha_j) sigma_a`` (``sigma_b``: forecast std from the anomalies
    ``A``, ``sigma_a``: the analysis std); the analysis mean is unchanged. ``alpha = 0`` is
    no relaxation, ``alpha = 1`` keeps the forecast spread. A per-dimension ``alpha`` of
    shape ``(D,)`` relaxes chosen components only (e.g. augmented parameters: a
    parameter-only inflation that follows how much the data shrank the spread, without the
    compounding growth of multiplicative inflation). Dimensions whose analysis spread is 0
    are left alone.

    Args:
        A: forecast anomalies ``(E, D)`` (members minus their mean).
        Xa: analysis ensemble ``(E, D)``.
        alpha: scalar or ``(D,)`` in ``[0, 1]``.

    Returns:
        the relaxed analysis ensemble ``(E, D)``.

    Example:
        >>> import jax, jax.numpy as jnp, neurosim as ns
        >>> X = jax.random.normal(jax.random.key(0), (8, 2))
        >>> Xr = ns.assimilate.relax_to_prior_spread(X - X.mean(0), 0.5 * X, 1.0)
        >>> bool(jnp.allclose(Xr.std(0), X.std(0), rtol=1e-5))
        True
    """
    E = A.shape[0]
    alpha = jnp.asarray(alpha, Xa.dtype)
    if alpha.ndim > 1 or (alpha.ndim == 1 and alpha.shape[0] != Xa.shape[1]):
        raise ValueError(f"rtps must be a scalar or ({Xa.shape[1]},), got {alpha.shape}")
    mean_a = Xa.mean(0)
    Aa = Xa - mean_a
    sb = jnp.sqrt((A**2).sum(0) / (E - 1))
    sa = jnp.sqrt((Aa**2).sum(0) / (E - 1))
    ok = sa > 0
    factor = jnp.where(ok, 1.0 + alpha * (sb - sa) / jnp.where(ok, sa, 1.0), 1.0)
    return mean_a + Aa * factor


def _maybe_rtps(A, Xa, rtps):
    if isinstance(rtps, (int, float)) and rtps == 0:
        return Xa  # the default: no relaxation, the plain analysis bit for bit
    return relax_to_prior_spread(A, Xa, rtps)


def _diagnostics(A, Xa, B, d, R, valid, collapse_tol, divergence_ratio):
    E = A.shape[0]
    nv = jnp.maximum(valid.sum(), 1)
    var_y = (B**2).sum(0) / (E - 1)
    inn_var = jnp.where(valid, d**2, 0.0).sum() / nv
    exp_var = jnp.where(valid, var_y + R, 0.0).sum() / nv
    sp = jnp.sqrt((A**2).sum(0) / (E - 1)).mean()
    sa = Xa.std(0, ddof=1).mean()
    return Diagnostics(
        spread_prior=sp,
        spread_post=sa,
        innovation_mean=jnp.where(valid, d, 0.0).sum() / nv,
        innovation_var=inn_var,
        expected_var=exp_var,
        n_obs=valid.sum(),
        collapsed=sa < collapse_tol,
        divergent=~(inn_var <= divergence_ratio * exp_var) | ~jnp.all(jnp.isfinite(Xa)),
    )


def enkf_update(
    key,
    X,
    Y,
    y_obs,
    R,
    *,
    inflation=1.0,
    rtps=0.0,
    loc_xy=None,
    loc_yy=None,
    mask=None,
    collapse_tol=1e-8,
    divergence_ratio=10.0,
):
    r"""Stochastic (perturbed-observation) ensemble Kalman analysis (Burgers et al. 1998).

    Each member is updated towards its own perturbed observation
    ``y_obs + sqrt(R) eta_e``: ``X_e += K (y_obs + sqrt(R) eta_e - Y_e)`` with the gain
    ``K = (L_xy o C_xy)(L_yy o C_yy + R)^{-1}`` from the (inflated) ensemble covariances.
    The perturbations are centred over members so the mean update is exactly
    ``K (y_obs - mean Y)``.

    Args:
        key: random key for the observation perturbations.
        X: forecast ensemble ``(E, D)`` (the augmented state: parameters in unconstrained
            coordinates, model states to be updated, ...).
        Y: predicted observations ``(E, M)``.
        y_obs: observations ``(M,)``; NaN marks a missing value (masked, see module doc).
        R: observation-error variance, scalar or ``(M,)``, > 0.
        inflation: multiplicative inflation factor of the forecast anomalies (>= 1 typical).
        rtps: relaxation to prior spread after the update, scalar or ``(D,)`` in ``[0, 1]``
            (0: none; see :func:`relax_to_prior_spread`); a ``(D,)`` vector inflates
            chosen components only, e.g. the augmented parameters.
        loc_xy: optional localisation taper ``(D, M)`` (Schur product with ``C_xy``), e.g.
            1 for a region's own observation and a connectome- or distance-based weight else.
        loc_yy: optional taper ``(M, M)`` for ``C_yy`` (default: none).
        mask: optional boolean ``(M,)``, False drops an observation.
        collapse_tol: posterior spread below which ``collapsed`` is flagged.
        divergence_ratio: innovation-variance ratio above which ``divergent`` is flagged.

    Returns:
        ``(X_analysis (E, D), Diagnostics)``.

    Example:
        >>> import jax, jax.numpy as jnp, neurosim as ns
        >>> X = jax.random.normal(jax.random.key(0), (50, 2))
        >>> Xa, diag = ns.assimilate.enkf_update(jax.random.key(1), X, X[:, :1],
        ...                                      jnp.array([0.5]), 0.1)
        >>> Xa.shape
        (50, 2)
    """
    X, A, B, d, R_eff, R, valid, xm, ym = _prepare(X, Y, y_obs, R, mask, inflation)
    E = X.shape[0]
    Cxy = A.T @ B / (E - 1)
    Cyy = B.T @ B / (E - 1)
    if loc_xy is not None:
        loc_xy = jnp.asarray(loc_xy, X.dtype)
        if loc_xy.shape != Cxy.shape:
            raise ValueError(f"loc_xy must have shape {Cxy.shape} (D, M), got {loc_xy.shape}")
        Cxy = Cxy * loc_xy
    if loc_yy is not None:
        loc_yy = jnp.asarray(loc_yy, X.dtype)
        if loc_yy.shape != Cyy.shape:
            raise ValueError(f"loc_yy must have shape {Cyy.shape} (M, M), got {loc_yy.shape}")
        Cyy = Cyy * loc_yy
    S = Cyy + jnp.diag(R_eff)
    eta = jax.random.normal(key, B.shape, X.dtype) * jnp.sqrt(R_eff)
    eta = eta - eta.mean(0)
    # innovation per member: (y + eta_e) - Y_e = d + eta_e - B_e
    D_e = jnp.where(valid, d[None, :] + eta - B, 0.0)
    W = jax.scipy.linalg.solve(S, D_e.T, assume_a="pos")  # (M, E)
    Xa = xm + A + (Cxy @ W).T
    Xa = _maybe_rtps(A, Xa, rtps)
    return Xa, _diagnostics(A, Xa, B, d, R_eff, valid, collapse_tol, divergence_ratio)


def etkf_update(
    X,
    Y,
    y_obs,
    R,
    *,
    inflation=1.0,
    rtps=0.0,
    mask=None,
    collapse_tol=1e-8,
    divergence_ratio=10.0,
):
    r"""Deterministic square-root analysis: the ensemble transform Kalman filter (ETKF).

    In ensemble space (Bishop et al. 2001; symmetric square root of Hunt et al. 2007): with
    scaled predicted anomalies ``S = R^{-1/2} B^T / sqrt(E-1)`` and ``C = I + S^T S``, the mean
    moves by ``A^T C^{-1} S^T R^{-1/2} d / sqrt(E-1)`` and the anomalies become
    ``C^{-1/2} A``. For a linear observation operator the posterior ensemble mean and
    covariance are exactly the Kalman filter's given the forecast mean and covariance (no
    sampling noise). No localisation (use :func:`enkf_update` for that).

    Args:
        X, Y, y_obs, R, inflation, rtps, mask, collapse_tol, divergence_ratio: as
            :func:`enkf_update`.

    Returns:
        ``(X_analysis (E, D), Diagnostics)``.

    Example:
        >>> import jax, jax.numpy as jnp, neurosim as ns
        >>> X = jax.random.normal(jax.random.key(0), (20, 3))
        >>> Xa, diag = ns.assimilate.etkf_update(X, X[:, :2], jnp.zeros(2), 0.5)
    """
    X, A, B, d, R_eff, R, valid, xm, ym = _prepare(X, Y, y_obs, R, mask, inflation)
    E = X.shape[0]
    r = 1.0 / jnp.sqrt(R_eff)
    S = B * r / jnp.sqrt(E - 1.0)  # (E, M), zero columns for masked observations
    # Thin SVD S = U diag(sig) V^T: C^{-1} S = U diag(sig / (1 + sig^2)) V^T and
    # C^{-1/2} = I - U diag(1 - 1/sqrt(1 + sig^2)) U^T, with no cancellation even when R is
    # tiny against the spread (an eigen-decomposition of C loses its small eigenvalues then).
    U, sig, Vt = jnp.linalg.svd(S, full_matrices=False)
    w = U @ (sig / (1.0 + sig**2) * (Vt @ (d * r)))  # C^{-1} S d~
    shrink = 1.0 - 1.0 / jnp.sqrt(1.0 + sig**2)
    T = jnp.eye(E, dtype=X.dtype) - (U * shrink) @ U.T  # symmetric: keeps anomalies centred
    mean_a = xm + A.T @ w / jnp.sqrt(E - 1.0)
    Xa = _maybe_rtps(A, mean_a + T @ A, rtps)
    return Xa, _diagnostics(A, Xa, B, d, R_eff, valid, collapse_tol, divergence_ratio)
