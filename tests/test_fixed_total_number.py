"""FixedTotalNumber (NEST's fixed_total_number): exact count, pair statistics, options."""

import jax
import numpy as np
import pytest
from scipy import stats

import neurosim as ns
from neurosim.connectivity import _total

SEEDS = range(16)


def _counts(csr):
    """Dense (n_pre, n_post) synapse counts per pair from the CSR arrays (numpy)."""
    indptr = np.asarray(csr.indptr)
    idx = np.asarray(csr.indices)[: csr.nnz]
    out = np.zeros((csr.n_pre, csr.n_post), np.int64)
    np.add.at(out, (np.repeat(np.arange(csr.n_pre), np.diff(indptr)), idx), 1)
    return out


@pytest.mark.parametrize("multapses", [True, False])
@pytest.mark.parametrize("autapses", [True, False])
def test_exact_total_and_properties(multapses, autapses):
    gen = ns.connectivity.FixedTotalNumber(700, allow_multapses=multapses, allow_autapses=autapses)
    csr = gen.build(jax.random.key(3), 40, 40, 0.5, same_population=True)
    c = _counts(csr)
    assert csr.nnz == 700 and c.sum() == 700
    if not autapses:
        assert np.all(np.diag(c) == 0)
    if not multapses:
        assert c.max() == 1
    # rows are sorted within (CSR order), weights homogeneous
    indptr, idx = np.asarray(csr.indptr), np.asarray(csr.indices)
    for r in range(40):
        row = idx[indptr[r] : indptr[r + 1]]
        assert np.all(np.diff(row) >= 0)


def test_deterministic_and_key_dependent():
    gen = ns.connectivity.FixedTotalNumber(300)
    a = _counts(gen.build(jax.random.key(1), 30, 20, 1.0))
    b = _counts(gen.build(jax.random.key(1), 30, 20, 1.0))
    c = _counts(gen.build(jax.random.key(2), 30, 20, 1.0))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_pair_counts_are_multinomial():
    """With multapses, every synapse picks a pair uniformly: the pair counts are
    Multinomial(N, 1/M); χ² per seed (expected 6 per pair), then KS of the p-values."""
    n_pre, n_post, n_syn = 30, 25, 4500
    gen = ns.connectivity.FixedTotalNumber(n_syn)
    pvals, occupancy = [], np.zeros(40)
    for s in SEEDS:
        c = _counts(gen.build(jax.random.key(s), n_pre, n_post, 1.0)).ravel()
        pvals.append(stats.chisquare(c).pvalue)  # exact test of equal cell probabilities
        occupancy += np.bincount(c, minlength=40)[:40]
    assert stats.kstest(pvals, "uniform").pvalue > 1e-3
    # the marginal count per pair is Binomial(N, 1/M)
    m = n_pre * n_post
    k = np.arange(40)
    expected = stats.binom.pmf(k, n_syn, 1.0 / m) * m * len(SEEDS)
    keep = expected >= 5
    obs = np.append(occupancy[keep], occupancy[~keep].sum())
    exp = np.append(expected[keep], len(SEEDS) * m - expected[keep].sum())
    assert stats.chisquare(obs, exp).pvalue > 1e-3


def test_no_autapses_uniform_over_off_diagonal():
    n, n_syn = 24, 3300  # 552 candidate pairs, ~6 per pair
    gen = ns.connectivity.FixedTotalNumber(n_syn, allow_autapses=False)
    pvals = []
    off = ~np.eye(n, dtype=bool)
    for s in SEEDS:
        c = _counts(gen.build(jax.random.key(s), n, n, 1.0, same_population=True))
        assert c[~off].sum() == 0
        pvals.append(stats.chisquare(c[off]).pvalue)
    assert stats.kstest(pvals, "uniform").pvalue > 1e-3


@pytest.mark.parametrize("choice_max", [None, 16])
def test_no_multapses_uniform_subset(monkeypatch, choice_max):
    """Without multapses each allowed pair is in the sample with probability N/M: over seeds,
    pair inclusion counts are Binomial(n_seeds, N/M). ``choice_max=16`` forces the
    draw-and-redraw path used for large candidate sets."""
    if choice_max is not None:
        monkeypatch.setattr(_total, "_CHOICE_MAX", choice_max)
    n_pre, n_post, n_syn = 20, 15, 100
    gen = ns.connectivity.FixedTotalNumber(n_syn, allow_multapses=False)
    seeds = range(60)
    tot = np.zeros((n_pre, n_post), np.int64)
    for s in seeds:
        c = _counts(gen.build(jax.random.key(s), n_pre, n_post, 1.0))
        assert c.max() == 1 and c.sum() == n_syn
        tot += c
    p = n_syn / (n_pre * n_post)
    k = np.arange(len(seeds) + 1)
    expected = stats.binom.pmf(k, len(seeds), p) * tot.size
    observed = np.bincount(tot.ravel(), minlength=len(seeds) + 1).astype(float)
    keep = expected >= 5
    obs = np.append(observed[keep], observed[~keep].sum())
    exp = np.append(expected[keep], expected[~keep].sum())
    assert stats.chisquare(obs, exp).pvalue > 1e-3


def test_bad_input():
    with pytest.raises(ValueError, match="n \\(total number of synapses\\)"):
        ns.connectivity.FixedTotalNumber(-1)
    with pytest.raises(ValueError, match="without multapses"):
        ns.connectivity.FixedTotalNumber(11, allow_multapses=False).build(
            jax.random.key(0), 3, 3, 1.0
        )
    with pytest.raises(ValueError, match="no pre/post pairs"):
        ns.connectivity.FixedTotalNumber(2, allow_autapses=False).build(
            jax.random.key(0), 1, 1, 1.0, same_population=True
        )


def test_builder_with_redrawn_delays():
    """Per-synapse delays are drawn when the generator has sampled (no synapse count needed)."""
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("P", ns.neurons.LIF(30))
    low = 0.05
    name = b.connect(
        "P",
        "P",
        ns.connectivity.FixedTotalNumber(250),
        weight=ns.init.TruncatedNormal(1.0, 0.5, low=0.0),
        synapse=ns.synapses.Exponential(0.5),
        delay=ns.init.TruncatedNormal(1.5, 0.75, low=low),
    )
    net = b.build()
    proj = {p.name: p for p in net.projections}[name]
    d = np.asarray(proj.synapse_delays)
    assert d.shape == (250,) and d.min() >= low
    assert np.asarray(proj.conn.weights)[:250].min() >= 0.0
