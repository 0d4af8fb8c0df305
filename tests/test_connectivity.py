"""Connectivity generators: statistical tests per seed, then KS over seeds; determinism."""

import jax
import numpy as np
import pytest
from scipy import stats

import neurosim as ns

N_PRE, N_POST, P = 300, 200, 0.05
SEEDS = range(24)


def _rows(csr):
    indptr = np.asarray(csr.indptr)
    idx = np.asarray(csr.indices)[: csr.nnz]
    return indptr, idx


def _dense(csr):
    """Dense weights from the CSR arrays with NumPy (no per-shape compilation in loops)."""
    indptr, idx = _rows(csr)
    w = np.broadcast_to(np.asarray(csr.weights), np.asarray(csr.indices).shape)[: csr.nnz]
    out = np.zeros((csr.n_pre, csr.n_post), w.dtype)
    np.add.at(out, (np.repeat(np.arange(csr.n_pre), np.diff(indptr)), idx), w)
    return out


def _binomial_gof(counts, n, p):
    """χ² goodness of fit of ``counts`` to Binomial(n, p), merging tails to expected >= 5."""
    k = np.arange(n + 1)
    expected = stats.binom.pmf(k, n, p) * len(counts)
    observed = np.bincount(counts, minlength=n + 1)[: n + 1].astype(float)
    # merge bins from both tails until each has expected >= 5
    lo = 0
    while expected[: lo + 1].sum() < 5:
        lo += 1
    hi = n
    while expected[hi:].sum() < 5:
        hi -= 1
    e = np.concatenate([[expected[: lo + 1].sum()], expected[lo + 1 : hi], [expected[hi:].sum()]])
    o = np.concatenate([[observed[: lo + 1].sum()], observed[lo + 1 : hi], [observed[hi:].sum()]])
    return stats.chisquare(o, e * o.sum() / e.sum()).pvalue


def _column_dispersion_pvalue(col, n_rows):
    """Column counts of a Bernoulli matrix are independent Binomial(n_rows, p): the dispersion
    statistic ``sum (c - mean)^2 / (mean (1 - p_hat))`` is ~chi2(n_cols - 1). (Pearson's
    uniform chi2 ignores the factor ``1 - p`` and is miscalibrated: its p-values skew high even
    for exact Bernoulli matrices.)"""
    p_hat = col.sum() / (n_rows * len(col))
    stat = np.sum((col - col.mean()) ** 2) / (col.mean() * (1 - p_hat))
    return stats.chi2.sf(stat, len(col) - 1)


def _ks_uniform(pvals):
    return stats.kstest(pvals, "uniform").pvalue


def test_fixed_probability_statistics():
    gen = ns.connectivity.FixedProbability(P)
    p_rows, p_cols, p_pairs = [], [], []
    for seed in SEEDS:
        csr = gen.build(jax.random.key(seed), N_PRE, N_POST, 1.0)
        indptr, idx = _rows(csr)
        p_rows.append(_binomial_gof(np.diff(indptr), N_POST, P))
        col = np.bincount(idx, minlength=N_POST)
        p_cols.append(_column_dispersion_pvalue(col, N_PRE))  # targets uniform over columns
        # Neighbouring targets independent: P(j and j+1 both connected) = p^2.
        dense = _dense(csr) > 0
        both = np.sum(dense[:, :-1] & dense[:, 1:])
        trials = N_PRE * (N_POST - 1)
        p_pairs.append(stats.binomtest(int(both), trials, P * P).pvalue)
    for name, pv in (("row counts", p_rows), ("columns", p_cols)):
        assert _ks_uniform(pv) > 1e-3, f"{name}: p-values not uniform over seeds"
    # binomtest p-values are discrete; require no systematic rejection instead of uniformity.
    assert np.mean(np.array(p_pairs) < 0.01) < 0.2


def test_fixed_probability_sorted_distinct_and_deterministic():
    gen = ns.connectivity.FixedProbability(0.3)
    a = gen.build(jax.random.key(7), 50, 40, 1.0)
    b = gen.build(jax.random.key(7), 50, 40, 1.0)
    c = gen.build(jax.random.key(8), 50, 40, 1.0)
    np.testing.assert_array_equal(np.asarray(a.indices), np.asarray(b.indices))
    np.testing.assert_array_equal(np.asarray(a.indptr), np.asarray(b.indptr))
    assert not np.array_equal(np.asarray(a.todense()), np.asarray(c.todense()))
    indptr, idx = _rows(a)
    for i in range(50):
        row = idx[indptr[i] : indptr[i + 1]]
        assert np.all(np.diff(row) > 0)


def test_no_autapses_option():
    gen = ns.connectivity.FixedProbability(0.5, allow_autapses=False)
    csr = gen.build(jax.random.key(0), 40, 40, 1.0, same_population=True)
    assert np.all(np.diag(np.asarray(csr.todense())) == 0)
    full = ns.connectivity.FixedProbability(1.0, allow_autapses=False).build(
        jax.random.key(0), 10, 10, 1.0, same_population=True
    )
    assert full.nnz == 90


def test_edge_probabilities():
    assert ns.connectivity.FixedProbability(0.0).build(jax.random.key(0), 20, 30, 1.0).nnz == 0
    assert ns.connectivity.FixedProbability(1.0).build(jax.random.key(0), 20, 30, 1.0).nnz == 600


def test_fixed_in_degree_statistics():
    k = 12
    gen = ns.connectivity.FixedInDegree(k)
    pvals = []
    for seed in SEEDS:
        csr = gen.build(jax.random.key(seed), N_PRE, N_POST, 1.0)
        dense = _dense(csr)
        np.testing.assert_array_equal(dense.sum(0), k)  # exact in-degree, no multapses
        assert dense.max() == 1.0
        pvals.append(stats.chisquare(dense.sum(1)).pvalue)  # presynaptic partners uniform
    assert _ks_uniform(pvals) > 1e-3


def test_fixed_out_degree():
    csr = ns.connectivity.FixedOutDegree(5, allow_autapses=False).build(
        jax.random.key(1), 30, 30, 2.0, same_population=True
    )
    dense = np.asarray(csr.todense())
    np.testing.assert_array_equal((dense > 0).sum(1), 5)
    assert np.all(np.diag(dense) == 0)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: ns.connectivity.FixedProbability(1.5), "p must lie"),
        (lambda: ns.connectivity.FixedProbability(-0.1), "p must lie"),
        (
            lambda: ns.connectivity.FixedInDegree(50).build(jax.random.key(0), 20, 10, 1.0),
            "k=50 exceeds",
        ),
        (lambda: ns.connectivity.FixedInDegree(-1), "k must be"),
    ],
)
def test_bad_generator_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_multapses_allowed_when_asked():
    csr = ns.connectivity.FixedInDegree(50, allow_multapses=True).build(
        jax.random.key(0), 20, 10, 1.0
    )
    np.testing.assert_array_equal(np.asarray(csr.todense()).sum(0), 50)
