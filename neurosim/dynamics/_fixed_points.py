"""Fixed points: batched damped Newton from a grid of starts, de-duplication, stability."""

from __future__ import annotations

import dataclasses
import itertools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._linalg import lu_solve_det
from ._system import System, as_box

__all__ = ["FixedPoints", "fixed_points", "fixed_points_sweep", "newton", "classify", "KINDS"]

KINDS = (
    "stable node",
    "unstable node",
    "stable focus",
    "unstable focus",
    "saddle",
    "centre",
    "degenerate",
)


def _eps(dtype) -> float:
    return float(jnp.finfo(dtype).eps)


def _solve(J, f):
    """Newton step ``J^{-1} f``; a Levenberg-Marquardt step where ``J`` is singular."""
    step, _ = lu_solve_det(J, f)
    JtJ = J.T @ J
    mu = jnp.sqrt(jnp.finfo(J.dtype).eps) * (jnp.trace(JtJ) + jnp.finfo(J.dtype).tiny)
    reg, _ = lu_solve_det(JtJ + mu * jnp.eye(J.shape[0], dtype=J.dtype), J.T @ f)
    return jnp.where(jnp.all(jnp.isfinite(step)), step, reg)


def _newton_one(fun, x0, lo, hi, max_iter: int, xtol):
    """Damped Newton on ``fun`` from ``x0``: step halving (8 trial lengths) keeps ``|f|`` down.

    Iterates are kept within the box widened by its width on each side (so exponential
    vector fields cannot overflow). Returns ``(x, last relative step, |f|_inf)``.
    """
    width = hi - lo
    lo_w, hi_w = lo - width, hi + width
    alphas = 0.5 ** jnp.arange(8, dtype=x0.dtype)

    def body(carry, _):
        x, rel = carry
        f = fun(x)
        dx = _solve(jax.jacfwd(fun)(x), f)
        trial = jnp.clip(x[None] - alphas[:, None] * dx[None], lo_w, hi_w)
        norms = jax.vmap(lambda y: jnp.max(jnp.abs(fun(y))))(trial)
        norms = jnp.where(jnp.isfinite(norms), norms, jnp.inf)
        k = jnp.argmin(norms)
        x_new = jnp.where(jnp.isfinite(norms[k]), trial[k], x)
        rel_new = jnp.max(jnp.abs(x_new - x) / width)
        done = rel <= xtol
        return (jnp.where(done, x, x_new), jnp.where(done, rel, rel_new)), None

    (x, rel), _ = jax.lax.scan(body, (x0, jnp.asarray(jnp.inf, x0.dtype)), None, length=max_iter)
    return x, rel, jnp.max(jnp.abs(fun(x)))


def _newton_batch_impl(system: System, q, starts, lo, hi, max_iter, xtol):
    fun = system.bind(q)

    def one(x0):
        x, rel, res = _newton_one(fun, x0, lo, hi, max_iter, xtol)
        return x, rel, res, jax.jacfwd(fun)(x)

    f0 = jax.vmap(fun)(starts)
    return jax.vmap(one)(starts) + (jnp.median(jnp.abs(f0), axis=0),)


_newton_batch = eqx.filter_jit(_newton_batch_impl)


def newton(system: System, x0, p: dict | None = None, *, max_iter: int = 40, xtol=None):
    """Damped Newton from one start ``x0``: ``(x, converged, residual |f|_inf)``.

    Convergence: the last step moved ``x`` by less than ``xtol`` (default ``100 eps`` of the
    float type) relative to ``max(1, |x0|)``.

    Example:
        >>> import neurosim as ns
        >>> fhn = ns.dynamics.system(ns.neurons.FitzHughNagumo(1))
        >>> x, ok, res = ns.dynamics.newton(fhn, [-1.0, -0.5])
    """
    x0 = jnp.atleast_1d(jnp.asarray(x0, jnp.result_type(float)))
    if x0.shape != (system.dim,):
        raise ValueError(f"x0 must have shape ({system.dim},) for {system.names}, got {x0.shape}")
    scale = jnp.maximum(1.0, jnp.abs(x0))
    xtol = 100 * _eps(x0.dtype) if xtol is None else xtol
    x, rel, res, _, _ = _newton_batch(
        system, system.params(p), x0[None], x0 - scale, x0 + scale, max_iter, xtol
    )
    return np.asarray(x[0]), bool(rel[0] <= xtol), float(res[0])


def classify(eigenvalues, rtol: float = 1e-6) -> str:
    """Class of a fixed point from its Jacobian eigenvalues (see :data:`KINDS`).

    Real parts within ``rtol * max|lambda|`` (plus ``rtol`` absolute) of zero are treated as
    zero: a zero real eigenvalue is ``"degenerate"``, a purely imaginary pair with all other
    eigenvalues of one sign is a ``"centre"`` in 2-D (``"degenerate"`` otherwise).
    ``"focus"`` means some eigenvalues are complex; ``"saddle"`` real parts of both signs.

    Example:
        >>> import neurosim as ns
        >>> ns.dynamics.classify([-1 + 2j, -1 - 2j])
        'stable focus'
    """
    lam = np.atleast_1d(np.asarray(eigenvalues, complex))
    tol = rtol * (1.0 + np.max(np.abs(lam)))
    re, im = lam.real, lam.imag
    zero = np.abs(re) <= tol
    cplx = np.abs(im) > tol
    if np.any(zero):
        if lam.size == 2 and np.all(zero) and np.all(cplx):
            return "centre"
        return "degenerate"
    if np.all(re < 0):
        return "stable focus" if np.any(cplx) else "stable node"
    if np.all(re > 0):
        return "unstable focus" if np.any(cplx) else "unstable node"
    return "saddle"


@dataclasses.dataclass(frozen=True)
class FixedPoints:
    """Fixed points found in a box, de-duplicated.

    Attributes:
        names: state variable names.
        x: ``(k, dim)`` positions.
        eigenvalues: ``(k, dim)`` complex Jacobian eigenvalues (per ms), by real part.
        kind: class of each point (:func:`classify`).
        residual: ``|f(x)|_inf`` at each point.
        jacobian: ``(k, dim, dim)``.
    """

    names: tuple
    x: np.ndarray
    eigenvalues: np.ndarray
    kind: tuple
    residual: np.ndarray
    jacobian: np.ndarray

    def __len__(self) -> int:
        return len(self.kind)

    @property
    def stable(self) -> np.ndarray:
        """True where every eigenvalue has a negative real part."""
        return np.array([k.startswith("stable") for k in self.kind], bool)


def _grid(lo, hi, n_grid, n_random, key):
    d = lo.size
    if n_grid is None:
        n_grid = {1: 64, 2: 12, 3: 6}.get(d, 0)
    axes = [np.linspace(a, b, n_grid) for a, b in zip(lo, hi, strict=True)] if n_grid else []
    pts = np.array(list(itertools.product(*axes)), float).reshape(-1, d) if n_grid else None
    if n_random or pts is None:
        m = n_random or 256
        u = np.asarray(jax.random.uniform(jax.random.key(key), (m, d)), float)
        rnd = lo + u * (hi - lo)
        pts = rnd if pts is None else np.concatenate([pts, rnd])
    return pts


def _collect(names, x, rel, res, jac, fscale, lo, hi, xtol, dedup_tol, rtol):
    x, rel, res, jac = (np.asarray(a) for a in (x, rel, res, jac))
    fscale = np.asarray(fscale)
    ftol = np.sqrt(_eps(x.dtype)) * (np.max(fscale) + 1e-30)
    ok = np.isfinite(res) & (rel <= xtol) & (res <= ftol)
    ok &= np.all((x >= lo - 1e-9 * (hi - lo)) & (x <= hi + 1e-9 * (hi - lo)), axis=1)
    idx = np.flatnonzero(ok)
    idx = idx[np.argsort(res[idx], kind="stable")]
    keep: list[int] = []
    for i in idx:
        if all(np.max(np.abs(x[i] - x[j]) / (hi - lo)) > dedup_tol for j in keep):
            keep.append(i)
    keep = sorted(keep, key=lambda i: tuple(x[i]))
    d = len(names)
    lam = np.zeros((len(keep), d), complex)
    for r, i in enumerate(keep):
        ev = np.linalg.eigvals(jac[i].astype(float))
        lam[r] = ev[np.lexsort((ev.imag, ev.real))]
    kinds = tuple(classify(e, rtol) for e in lam)
    return FixedPoints(
        tuple(names), x[keep].reshape(-1, d), lam, kinds, res[keep], jac[keep].reshape(-1, d, d)
    )


def fixed_points(
    system: System,
    box,
    p: dict | None = None,
    *,
    n_grid: int | None = None,
    n_random: int = 0,
    starts=None,
    max_iter: int = 40,
    xtol=None,
    dedup_tol: float = 1e-4,
    rtol: float = 1e-6,
    key: int = 0,
) -> FixedPoints:
    """All fixed points of ``system`` in ``box`` by damped Newton from a grid of starts.

    Args:
        system: a :class:`System` (``ns.dynamics.system(model)``).
        box: ``[(lo, hi), ...]`` per state variable (the model's units, e.g. mV and pA).
        p: parameter overrides.
        n_grid: starts per dimension of a regular grid (default 64 in 1-D, 12 in 2-D, 6 in
            3-D, none above, where 256 random starts are used).
        n_random: extra uniformly random starts. starts: explicit ``(m, dim)`` starts instead.
        max_iter: Newton iterations. xtol: convergence on the last step relative to the box
            width (default ``100 eps``).
        dedup_tol: points closer than this (relative to the box width, every coordinate) are
            one point.
        rtol: zero tolerance of eigenvalue real parts (:func:`classify`).
        key: seed of the random starts.

    A start counts as converged when its last Newton step is below ``xtol`` and ``|f|`` is
    below ``sqrt(eps)`` times the typical ``|f|`` over the starts.

    Example:
        >>> import neurosim as ns
        >>> fhn = ns.dynamics.system(ns.neurons.FitzHughNagumo(1))
        >>> fp = ns.dynamics.fixed_points(fhn, [(-3, 3), (-3, 3)], {"i_ext": 0.5})
        >>> fp.kind
        ('unstable focus',)
    """
    lo, hi = as_box(system, box)
    pts = _grid(lo, hi, n_grid, n_random, key) if starts is None else np.asarray(starts, float)
    if pts.ndim != 2 or pts.shape[1] != system.dim:
        raise ValueError(f"starts must have shape (m, {system.dim}), got {pts.shape}")
    dtype = jnp.result_type(float)
    xtol = 100 * _eps(dtype) if xtol is None else float(xtol)
    out = _newton_batch(
        system,
        system.params(p),
        jnp.asarray(pts, dtype),
        jnp.asarray(lo, dtype),
        jnp.asarray(hi, dtype),
        int(max_iter),
        xtol,
    )
    return _collect(system.names, *out, lo, hi, xtol, dedup_tol, rtol)


@eqx.filter_jit
def _newton_sweep(system, q, name, values, starts, lo, hi, max_iter, xtol):
    def one(v):
        return _newton_batch_impl(system, {**q, name: v}, starts, lo, hi, max_iter, xtol)

    return jax.vmap(one)(values)


def fixed_points_sweep(
    system: System,
    box,
    name: str,
    values,
    p: dict | None = None,
    *,
    n_grid: int | None = None,
    starts=None,
    max_iter: int = 40,
    xtol=None,
    dedup_tol: float = 1e-4,
    rtol: float = 1e-6,
) -> list[FixedPoints]:
    """:func:`fixed_points` for each value of parameter ``name``: one compiled, vmapped call.

    Example:
        >>> import numpy as np, neurosim as ns
        >>> fhn = ns.dynamics.system(ns.neurons.FitzHughNagumo(1))
        >>> fps = ns.dynamics.fixed_points_sweep(fhn, [(-3, 3), (-3, 3)], "i_ext",
        ...                                      np.linspace(0, 1.5, 4))
    """
    lo, hi = as_box(system, box)
    q = system.params(p)
    if name not in q:
        raise ValueError(f"unknown parameter {name!r}; parameters are {sorted(q)}")
    pts = _grid(lo, hi, n_grid, 0, 0) if starts is None else np.asarray(starts, float)
    dtype = jnp.result_type(float)
    xtol = 100 * _eps(dtype) if xtol is None else float(xtol)
    vals = jnp.asarray(values, q[name].dtype)
    out = _newton_sweep(
        system, q, name, vals, jnp.asarray(pts, dtype), jnp.asarray(lo, dtype),
        jnp.asarray(hi, dtype), int(max_iter), xtol,
    )  # fmt: skip
    return [
        _collect(system.names, *(a[i] for a in out), lo, hi, xtol, dedup_tol, rtol)
        for i in range(vals.shape[0])
    ]
