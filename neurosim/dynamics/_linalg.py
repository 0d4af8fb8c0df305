"""Small dense linear algebra that compiles fast: LU with partial pivoting in a ``fori_loop``.

XLA's LAPACK-backed ``jnp.linalg.solve`` takes seconds to compile on CPU; the systems analysed
here are small, and one elimination loop serves every size without unrolling.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["lu_solve_det"]


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
