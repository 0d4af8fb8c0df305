"""Small dense linear algebra that compiles fast: LU with partial pivoting in a ``fori_loop``.

XLA's LAPACK-backed ``jnp.linalg.solve`` takes seconds to compile on CPU; the systems analysed
here are small, and one elimination loop serves every size without unrolling.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["lu_solve_det", "newton_scan"]


def lu_solve_det(A, b):
    """``(A^{-1} b, det A)`` by Gaussian elimination with partial pivoting.

    A singular ``A`` gives a non-finite solution and ``det A = 0``.
    """
    n = A.shape[0]
    M = jnp.concatenate([A, b.reshape(n, 1)], axis=1)
    rows = jnp.arange(n)

    def eliminate(k, carry):
        M, det = carry
        col = jnp.where(rows >= k, jnp.abs(M[:, k]), -1.0)
        piv = jnp.argmax(col)
        rk, rp = M[k], M[piv]
        M = M.at[k].set(rp).at[piv].set(rk)
        det = det * jnp.where(piv == k, 1.0, -1.0) * M[k, k]
        factor = jnp.where(rows > k, M[:, k] / M[k, k], 0.0)
        return M - factor[:, None] * M[k][None, :], det

    M, det = jax.lax.fori_loop(0, n, eliminate, (M, jnp.ones((), A.dtype)))

    def back(i, x):
        k = n - 1 - i
        s = M[k, n] - jnp.dot(M[k, :n], x)  # x[k] is still 0 here
        return x.at[k].set(s / M[k, k])

    x = jax.lax.fori_loop(0, n, back, jnp.zeros((n,), A.dtype))
    return x, det


def newton_scan(R, u0, n_iter: int, tol):
    """Plain Newton on ``R(u) = 0`` (square Jacobian by ``jacfwd``) in a fixed-length scan.

    Iterates stop changing ``u`` once a step is below ``tol * (1 + |u|_inf)`` (converged) and
    skip a non-finite step (singular Jacobian). Returns ``(u, converged)``.
    """

    def body(carry, _):
        u, done = carry
        du, _ = lu_solve_det(jax.jacfwd(R)(u), R(u))
        ok = jnp.all(jnp.isfinite(du))
        u_new = jnp.where(done | ~ok, u, u - du)
        small = jnp.max(jnp.abs(du)) <= tol * (1.0 + jnp.max(jnp.abs(u)))
        return (u_new, done | (ok & small)), None

    (u, done), _ = jax.lax.scan(body, (u0, jnp.asarray(False)), None, length=n_iter)
    return u, done
