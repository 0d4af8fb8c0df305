"""Pseudo-arclength continuation of ``G(u) = 0``, ``G: R^(m+1) -> R^m``, in one compiled scan.

Used for fixed-point branches (``u = (x, lambda)``, ``G = f``) and for two-parameter fold and
Hopf curves (``u = (x, lambda_1, lambda_2)``, ``G = (f, test function)``). Unknowns are scaled
by ``scale`` (``u = scale * v``) so that one arclength step means the same in every unit.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._linalg import lu_solve_det, newton_scan

__all__ = ["bialternate", "det", "hopf_test", "make_G", "continue_curve", "correct", "tangent"]


def det(J):
    """Determinant (LU with partial pivoting)."""
    return lu_solve_det(J, jnp.zeros(J.shape[0], J.dtype))[1]


def bialternate(A):
    """The bialternate product ``2A (.) I`` (size ``d(d-1)/2``); eigenvalues ``l_i + l_j``, i<j.

    Kuznetsov (2004), *Elements of Applied Bifurcation Theory*, 3rd ed., §10.2.2.
    """
    d = A.shape[0]
    pairs = [(p, q) for p in range(1, d) for q in range(p)]
    rows = []
    for p, q in pairs:
        row = []
        for r, s in pairs:
            if r == q:
                v = -A[p, s]
            elif r != p and s == q:
                v = A[p, r]
            elif r == p and s == q:
                v = A[p, p] + A[q, q]
            elif r == p and s != q:
                v = A[q, s]
            elif s == p:
                v = -A[q, r]
            else:
                v = jnp.zeros((), A.dtype)
            row.append(v)
        rows.append(jnp.stack(row))
    return jnp.stack(rows)


BIALTERNATE_MAX_DIM = 12


def hopf_test(J):
    """Hopf test function: ``prod_{i<j} (l_i + l_j)`` (the trace in 2-D); 1 in 1-D.

    Above :data:`BIALTERNATE_MAX_DIM` variables (e.g. a whole-brain network) the bialternate
    product (size ``d(d-1)/2``) is too large to build; the test is then
    ``prod_k tanh(Re l_k / |l_k|)`` over the complex pairs (``Im l_k > 0``), which changes
    sign where a pair crosses the imaginary axis (neutral saddles are not detected, and a
    sign change where a pair turns real is discarded by the check of the located point).
    """
    d = J.shape[0]
    if d == 1:
        return jnp.ones((), J.dtype)
    if d == 2:
        return jnp.trace(J)
    if d > BIALTERNATE_MAX_DIM:
        lam = jnp.linalg.eigvals(J)
        scale = jnp.maximum(jnp.abs(lam), jnp.finfo(J.dtype).tiny)
        pair = lam.imag > 1e-9 * (1.0 + jnp.max(jnp.abs(lam)))
        return jnp.prod(jnp.where(pair, jnp.tanh(lam.real / scale), 1.0)).astype(J.dtype)
    return det(bialternate(J))


def make_G(system, q, d: int, names: tuple, mode: str):
    """``G(u)`` for ``u = (x, values of names)``; mode ``"fp"``, ``"fold"`` or ``"hopf"``."""

    def G(u):
        qq = {**q, **{k: u[d + i] for i, k in enumerate(names)}}
        fun = system.bind(qq)
        x = u[:d]
        if mode == "fp":
            return fun(x)
        J = jax.jacfwd(fun)(x)
        extra = det(J) if mode == "fold" else hopf_test(J)
        return jnp.concatenate([fun(x), extra[None]])

    return G


def tangent(Gs, v, t_prev):
    """Unit tangent ``t`` with ``DG t = 0`` and ``t . t_prev > 0``."""
    DG = jax.jacfwd(Gs)(v)
    A = jnp.concatenate([DG, t_prev[None]], axis=0)
    e = jnp.zeros(v.shape[0], v.dtype).at[-1].set(1.0)
    t, _ = lu_solve_det(A, e)
    return t / jnp.linalg.norm(t)


def correct(Gs, v_pred, normal, n_iter: int, ctol):
    """Newton on ``[G(v); normal . (v - v_pred)] = 0``; returns ``(v, converged)``."""

    def H(v):
        return jnp.concatenate([Gs(v), jnp.dot(normal, v - v_pred)[None]])

    v, done = newton_scan(H, v_pred, n_iter, ctol)
    return v, done & jnp.all(jnp.isfinite(H(v)))


def continue_curve(Gs, v0, t0, ds, ds_min, ds_max, lo, hi, n_steps: int, n_iter: int, ctol):
    """Continue from ``v0`` along ``t0``; returns ``(v (n+1, m+1), t (n+1, m+1), ok (n+1,),
    code)`` with ``code`` 0 (all steps done), 1 (left the bounds) or 2 (corrector failed)."""

    def attempt(v, t, h):
        v_new, ok = correct(Gs, v + h * t, t, n_iter, ctol)
        ok &= jnp.linalg.norm(v_new - v) <= 2.0 * h
        return v_new, ok

    def step(carry, _):
        v, t, h, code = carry

        def retry_cond(c):
            _, ok, hh = c
            return (~ok) & (hh > ds_min)

        def retry_body(c):
            hh = 0.5 * c[2]
            vn, ok = attempt(v, t, hh)
            return vn, ok, hh

        vn, ok = attempt(v, t, h)
        vn, ok, h_used = jax.lax.while_loop(retry_cond, retry_body, (vn, ok, h))
        alive = code == 0
        inside = jnp.all((vn >= lo) & (vn <= hi))
        good = alive & ok & inside
        t_new = jnp.where(good, tangent(Gs, vn, t), t)
        code_new = jnp.where(alive & ~ok, 2, jnp.where(alive & ~inside, 1, code))
        v_out = jnp.where(good, vn, v)
        h_new = jnp.where(good, jnp.minimum(1.3 * h_used, ds_max), h)
        return (v_out, t_new, h_new, code_new), (v_out, t_new, good)

    init = (v0, t0, jnp.asarray(ds, v0.dtype), jnp.asarray(0, jnp.int32))
    (_, _, _, code), (vs, ts, oks) = jax.lax.scan(step, init, None, length=n_steps)
    vs = jnp.concatenate([v0[None], vs])
    ts = jnp.concatenate([t0[None], ts])
    oks = jnp.concatenate([jnp.ones((1,), bool), oks])
    return vs, ts, oks, code


def locate(Gs, test, v_a, v_b, n_iter: int, ctol, n_bisect: int):
    """Zero of ``test(v)`` on the curve between two points where it changes sign.

    Bisection on ``s`` in [0, 1]: the curve point ``v(s)`` is the corrected point on the
    hyperplane through ``v_a + s (v_b - v_a)`` normal to the chord.
    """
    chord = v_b - v_a
    normal = chord / jnp.linalg.norm(chord)

    def point(s):
        v, ok = correct(Gs, v_a + s * chord, normal, n_iter, ctol)
        return v, ok, test(v)

    psi_a = test(v_a)

    def body(_, c):
        a, b, pa = c
        m = 0.5 * (a + b)
        _, _, pm = point(m)
        same = jnp.sign(pm) == jnp.sign(pa)
        return jnp.where(same, m, a), jnp.where(same, b, m), jnp.where(same, pm, pa)

    a, b, _ = jax.lax.fori_loop(
        0, n_bisect, body, (jnp.zeros_like(psi_a), jnp.ones_like(psi_a), psi_a)
    )
    return point(0.5 * (a + b))[:2]
