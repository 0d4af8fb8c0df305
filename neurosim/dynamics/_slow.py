"""Slow points (Sussillo & Barak 2013): minima of ``q(x) = |f(x)|^2 / 2`` from many starts."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from ._fixed_points import classify
from ._linalg import lu_solve_det
from ._system import System

__all__ = ["SlowPoints", "slow_points", "step_map"]


class _MapSystem(System):
    """``x -> (F(x) - x)``: its zeros are the fixed points of the step map ``F``."""

    fn: Callable = eqx.field(static=True)
    state: object
    dt: float = eqx.field(static=True)

    def bind(self, q):
        float_part, unravel_rest = _split(self.state)
        _, unravel = ravel_pytree(float_part)

        def f(x):
            new = self.fn(unravel_rest(unravel(x)), q)
            return (ravel_pytree(_split(new)[0])[0] - x) / self.dt

        return f


def _split(state):
    """The inexact leaves of ``state`` and a function rebuilding it from them."""
    leaves, tree = jax.tree.flatten(state)
    is_float = [eqx.is_inexact_array(x) for x in leaves]
    floats = [x for x, m in zip(leaves, is_float, strict=True) if m]

    def rebuild(new_floats):
        it = iter(new_floats)
        return jax.tree.unflatten(
            tree, [next(it) if m else x for x, m in zip(leaves, is_float, strict=True)]
        )

    return floats, rebuild


def step_map(fn: Callable, state, params: dict | None = None, dt: float = 1.0) -> System:
    """A :class:`System` whose zeros are the fixed points of a discrete step ``fn``.

    ``f(x) = (F(x) - x) / dt`` over the flattened inexact leaves of ``state`` (integer
    leaves, e.g. refractory counters, stay as given). For a trained ``ns.train`` layer use
    ``fn = lambda s, p: layer.cell(s, current, dt)[0]``: its Jacobian then carries the
    spike nonlinearity's *surrogate* derivative (spikes are Heaviside steps), so
    linearisations are exact only where no neuron is near threshold.

    Args:
        fn: ``fn(state, p) -> state`` (one step). state: a template state (pytree).
        params: default parameters passed to ``fn``. dt: the step (ms), so that the
            eigenvalues of ``df/dx`` are ``(mu - 1) / dt`` for the map's multipliers ``mu``.

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> m = ns.dynamics.step_map(lambda s, p: {"h": 0.5 * s["h"]}, {"h": jnp.ones(3)})
        >>> m.dim
        3
    """
    floats, _ = _split(state)
    flat, _ = ravel_pytree(floats)
    names = tuple(f"x[{i}]" for i in range(flat.shape[0]))
    defaults = {k: jnp.asarray(v, jnp.result_type(float)) for k, v in (params or {}).items()}
    return _MapSystem(names, defaults, fn, state, float(dt))


@dataclasses.dataclass(frozen=True)
class SlowPoints:
    """Slow points found from many starts.

    Attributes:
        x: ``(k, dim)`` de-duplicated points with ``q < tol``. q: ``|f|^2 / 2`` there.
        jacobian: ``(k, dim, dim)`` linearisation. eigenvalues: ``(k, dim)``, by real part.
        kind: :func:`classify` of each point. multipliers: for a :func:`step_map`, the map's
            multipliers ``1 + dt * eigenvalue`` (else None).
        all_x, all_q: the end point and ``q`` of every start (before the cut and
            de-duplication).
    """

    x: np.ndarray
    q: np.ndarray
    jacobian: np.ndarray
    eigenvalues: np.ndarray
    kind: tuple
    multipliers: np.ndarray | None
    all_x: np.ndarray
    all_q: np.ndarray


def _lm_one(fun, x0, n_iter):
    """Levenberg–Marquardt on ``|f|^2 / 2`` (accept steps that lower it, adapt damping)."""

    def q_of(x):
        f = fun(x)
        return 0.5 * jnp.dot(f, f)

    def body(carry, _):
        x, mu = carry
        f = fun(x)
        J = jax.jacfwd(fun)(x)
        JtJ = J.T @ J
        step, _ = lu_solve_det(JtJ + mu * jnp.eye(x.shape[0], dtype=x.dtype), J.T @ f)
        x_try = x - step
        q_try = q_of(x_try)
        better = jnp.isfinite(q_try) & (q_try < 0.5 * jnp.dot(f, f))
        x_new = jnp.where(better, x_try, x)
        mu_new = jnp.where(better, mu / 3.0, mu * 4.0)
        return (x_new, jnp.clip(mu_new, 1e-12, 1e12)), None

    f0 = jax.jacfwd(fun)(x0)
    mu0 = 1e-3 * jnp.mean(jnp.sum(f0 * f0, axis=0)) + jnp.finfo(x0.dtype).tiny
    (x, _), _ = jax.lax.scan(body, (x0, mu0), None, length=n_iter)
    return x, q_of(x), jax.jacfwd(fun)(x)


@eqx.filter_jit
def _lm_batch(system, q, starts, n_iter):
    fun = system.bind(q)
    return jax.vmap(lambda x0: _lm_one(fun, x0, n_iter))(starts)


def slow_points(
    system: System,
    starts,
    p: dict | None = None,
    *,
    tol: float | None = None,
    max_iter: int = 100,
    dedup_tol: float = 1e-3,
) -> SlowPoints:
    """Slow points of ``system``: local minima of ``q(x) = |f(x)|^2 / 2`` below ``tol``.

    Each start (e.g. states visited along trajectories of a trained network) is relaxed by
    Levenberg–Marquardt on ``q``; fixed points have ``q = 0``, slow points small ``q``
    (Sussillo & Barak 2013, *Neural Comput.* 25:626). Points within ``dedup_tol`` times the
    spread of the starts are merged.

    Args:
        system: a :class:`System` (e.g. :func:`system` of a trained ``ns.train.RateRNN``,
            :func:`step_map` of a trained layer, or :func:`from_function`). starts:
            ``(m, dim)``. p: parameters.
        tol: keep points with ``q < tol`` (default ``sqrt(eps)`` times the median ``q`` of
            the starts). max_iter: iterations.

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> rnn = ns.dynamics.from_function(lambda x, p: -x + 0.5 * jnp.tanh(x), ("a", "b"))
        >>> sp = ns.dynamics.slow_points(rnn, [[1.0, -2.0], [0.3, 0.1]])
        >>> sp.x.shape
        (1, 2)
    """
    x0 = np.atleast_2d(np.asarray(starts, float))
    if x0.shape[1] != system.dim:
        raise ValueError(f"starts must have shape (m, {system.dim}), got {x0.shape}")
    dtype = jnp.result_type(float)
    q = system.params(p)
    xs, qs, Js = _lm_batch(system, q, jnp.asarray(x0, dtype), int(max_iter))
    xs, qs, Js = np.asarray(xs), np.asarray(qs), np.asarray(Js)
    if tol is None:
        f0 = np.asarray(jax.vmap(system.bind(q))(jnp.asarray(x0, dtype)), float)
        q0 = 0.5 * np.median(np.sum(f0 * f0, axis=1))
        tol = float(np.sqrt(np.finfo(dtype).eps) * q0 + np.finfo(dtype).tiny)
    spread = np.maximum(np.ptp(x0, axis=0), 1e-12) if x0.shape[0] > 1 else np.ones(x0.shape[1])
    order = np.argsort(np.where(np.isfinite(qs), qs, np.inf), kind="stable")
    keep: list[int] = []
    for i in order:
        if not (np.isfinite(qs[i]) and qs[i] < tol):
            continue
        if all(np.max(np.abs(xs[i] - xs[j]) / spread) > dedup_tol for j in keep):
            keep.append(i)
    d = system.dim
    lam = np.array([np.sort_complex(np.linalg.eigvals(Js[i].astype(float))) for i in keep])
    lam = lam.reshape(len(keep), d)
    mult = 1.0 + system.dt * lam if isinstance(system, _MapSystem) else None
    return SlowPoints(
        xs[keep].reshape(-1, d), qs[keep], Js[keep].reshape(-1, d, d), lam,
        tuple(classify(e) for e in lam), mult, xs, qs,
    )  # fmt: skip
