"""Poisson counts by inversion (neurosim._random): the empirical law against the exact one."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neurosim._random import invert, poisson_counts

# Means on both sides of the inversion / jax.random.poisson switch (30), and tiny ones.
LAMS = np.array([0.003, 0.5, 2.0, 9.9, 29.9, 30.1, 45.0])
N = 200_000


def _pmf(k, lam):
    return math.exp(k * math.log(lam) - lam - math.lgamma(k + 1)) if lam > 0 else float(k == 0)


@pytest.fixture(scope="module")
def samples():
    lam = jnp.broadcast_to(jnp.asarray(LAMS, jnp.float32)[:, None], (len(LAMS), N))
    return np.asarray(jax.jit(poisson_counts)(jax.random.key(7), lam))


def test_law_matches_exact_probabilities(samples):
    """Every count with an expected frequency >= 20 within 5 binomial s.d.; chi-square too.

    Per value ``k``: observed count ~ Binomial(N, pmf(k)), s.d. ``sqrt(N p (1 - p))``. The
    chi-square over the pooled bins uses a bound of ``dof + 6 sqrt(2 dof)`` (~4 s.d. of its
    null distribution); float32 inversion errors (~1e-6 in F) are far below ``1/sqrt(N)``.
    """
    for lam, x in zip(LAMS, samples, strict=True):
        assert x.min() >= 0
        hist = np.bincount(x)
        ks = np.arange(len(hist) + 50)
        p = np.array([_pmf(int(k), float(lam)) for k in ks])
        obs = np.concatenate([hist, np.zeros(50)])
        exp = N * p
        keep = exp >= 20
        sd = np.sqrt(N * p * (1 - p))
        assert np.all(np.abs(obs - exp)[keep] <= 5 * sd[keep] + 1), (lam, obs[keep], exp[keep])
        # chi-square over the well-populated values plus one pooled tail bin
        o = np.append(obs[keep], N - obs[keep].sum())
        e = np.append(exp[keep], N - exp[keep].sum())
        m = e > 0
        chi2 = float(np.sum((o[m] - e[m]) ** 2 / e[m]))
        dof = int(m.sum()) - 1
        assert chi2 <= dof + 6 * math.sqrt(2 * max(dof, 1)), (lam, chi2, dof)


def test_mixed_means_zero_and_nan():
    lam = jnp.array([0.0, 1.0, 40.0, jnp.nan, -1.0, 5.0] * 1000, jnp.float32)
    c = np.asarray(poisson_counts(jax.random.key(1), lam)).reshape(1000, 6)
    assert np.all(c[:, 0] == 0)
    assert np.all(c[:, 3] == -1) and np.all(c[:, 4] == -1)  # invalid means are flagged
    for j, lam_j in ((1, 1.0), (2, 40.0), (5, 5.0)):
        assert abs(c[:, j].mean() - lam_j) < 5 * math.sqrt(lam_j / 1000)


def test_inversion_terminates_at_the_largest_uniform():
    """``u`` just below 1 (where float32 F may stop short of u): a far-tail count, no hang."""
    lam = jnp.array([0.1, 5.0, 30.0], jnp.float32)
    u = jnp.full((3,), 1.0 - 2.0**-25, jnp.float32)
    k = np.asarray(jax.jit(invert)(u, lam, jnp.ones(3, bool)))
    assert np.all(k >= np.asarray(lam) + 4 * np.sqrt(np.asarray(lam)))
    assert np.all(k <= np.asarray(lam) + 20 * np.sqrt(np.asarray(lam)) + 20)


def test_float64_means_and_shape_argument():
    c = poisson_counts(jax.random.key(2), 3.0, (4, 5))
    assert c.shape == (4, 5) and c.dtype == jnp.int32
