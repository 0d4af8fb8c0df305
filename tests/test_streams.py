"""The row streams that define Bernoulli connectivity: exact reproducibility and statistics.

An independent NumPy implementation of the documented definition (Threefry-2x32-20, integer
fixed-point -log2, one float32 multiplication) must give the same rows bit for bit as the JAX
kernels: that is what lets a future C++/GPU kernel see the same matrix.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import neurosim as ns
from neurosim import _streams as S


def _np_threefry(k0, k1, x0, x1):
    """Threefry-2x32-20 written from the Random123 specification, NumPy uint32."""
    rot = ((13, 15, 26, 6), (17, 29, 16, 24))
    k0, k1 = np.uint32(k0), np.uint32(k1)
    ks = (k0, k1, np.uint32(k0 ^ k1 ^ np.uint32(0x1BD11BDA)))
    x0 = np.asarray(x0, np.uint32) + ks[0]
    x1 = np.asarray(x1, np.uint32) + ks[1]
    for i in range(5):
        for r in rot[i % 2]:
            x0 = x0 + x1
            x1 = (x1 << np.uint32(r)) | (x1 >> np.uint32(32 - r))
            x1 = x1 ^ x0
        x0 = x0 + ks[(i + 1) % 3]
        x1 = x1 + ks[(i + 2) % 3] + np.uint32(i + 1)
    return x0, x1


def _np_gaps(b0, scale, max_gap):
    table = np.round(2.0**26 * np.log2(1 + np.arange(4097) / 4096)).astype(np.uint32)
    r = np.asarray(b0, np.uint32) | np.uint32(1)
    z = (32 - np.frexp(r.astype(np.float64))[1]).astype(np.uint32)  # count leading zeros
    f = (r << z) << np.uint32(1)
    i = f >> np.uint32(20)
    t = (f >> np.uint32(4)) & np.uint32(0xFFFF)
    lg = table[i] + (((table[i + 1] - table[i]) * t) >> np.uint32(16))
    fixed = ((z + np.uint32(1)) << np.uint32(26)) - lg
    g = np.floor(fixed.astype(np.float32) * np.float32(scale))
    return np.minimum(g, np.float32(max_gap - 1)).astype(np.int64) + 1


def _np_row(words, pre, p, n_cand, skip_self=False):
    """Targets of row ``pre`` by the documented definition (NumPy, int64 sums)."""
    pos, lane0, last = [], 0, -1
    while last < n_cand:
        b0, _ = _np_threefry(words[0], words[1], np.full(64, pre), lane0 + np.arange(64))
        p_ = last + np.cumsum(_np_gaps(b0, S.gap_scale(p), n_cand + 1))
        pos.extend(p_[p_ < n_cand])
        last, lane0 = p_[-1], lane0 + 64
    pos = np.asarray(pos, np.int64)
    return np.where(pos >= pre, pos + 1, pos) if skip_self else pos


def test_threefry_known_answer_and_jax():
    # Random123 known-answer vector (also in JAX's own tests).
    a, b = S.threefry2x32(0x13198A2E, 0x03707344, 0x243F6A88, 0x85A308D3)
    assert (int(a), int(b)) == (0xC4923A9C, 0x483DF7A0)
    rng = np.random.default_rng(0)
    k = rng.integers(0, 2**32, 2, dtype=np.uint64).astype(np.uint32)
    x = rng.integers(0, 2**32, (2, 1000), dtype=np.uint64).astype(np.uint32)
    ours = S.threefry2x32(k[0], k[1], x[0], x[1])
    theirs = jax.extend.random.threefry_2x32(jnp.asarray(k), jnp.asarray(x))
    ref = _np_threefry(k[0], k[1], x[0], x[1])
    for o, t, r in zip(ours, theirs, ref, strict=True):
        np.testing.assert_array_equal(np.asarray(o), np.asarray(t))
        np.testing.assert_array_equal(np.asarray(o), r)


@pytest.mark.parametrize("p", [1e-4, 0.05, 0.5, 0.999, 1.0])
def test_gaps_bitwise_equal_to_numpy_definition(p):
    bits = np.random.default_rng(1).integers(0, 2**32, 20000, dtype=np.uint64).astype(np.uint32)
    bits[:4] = [0, 1, 2**31, 2**32 - 1]  # extremes of the fixed-point log
    ours = np.asarray(S.geometric_gaps(jnp.asarray(bits), S.gap_scale(p), 10**6))
    np.testing.assert_array_equal(ours, _np_gaps(bits, S.gap_scale(p), 10**6))


@pytest.mark.parametrize("p, n, skip_self", [(0.05, 300, False), (0.3, 40, True), (1.0, 17, False)])
def test_stored_rows_equal_numpy_definition(p, n, skip_self):
    key = jax.random.key(5)
    csr = ns.connectivity.FixedProbability(p, allow_autapses=not skip_self).build(
        key, n, n, 1.0, same_population=skip_self
    )
    words = np.asarray(S.stream_key(key))
    indptr, idx = np.asarray(csr.indptr), np.asarray(csr.indices)
    n_cand = n - 1 if skip_self else n
    for pre in range(0, n, max(1, n // 25)):
        np.testing.assert_array_equal(
            idx[indptr[pre] : indptr[pre + 1]], _np_row(words, pre, p, n_cand, skip_self)
        )


def test_fixed_point_log_accuracy():
    """With scale 2^-26 the gap is floor(-log2 v) + 1, except within the error of L.

    Error budget of ``L * 2^-26``: table rounding and interpolation (< 2 units of 2^-26) and
    the float32 conversion of L (relative 2^-24).
    """
    b0 = np.random.default_rng(2).integers(0, 2**32, 10**5, dtype=np.uint64).astype(np.uint32)
    exact = -np.log2((b0 | 1) / 2**32)
    gaps = np.asarray(S.geometric_gaps(jnp.asarray(b0), np.float32(2.0**-26), 10**6))
    tol = 2 * 2.0**-26 + exact * 2.0**-24
    clear = np.abs(exact - np.round(exact)) > tol
    assert clear.mean() > 0.99
    np.testing.assert_array_equal((gaps - 1)[clear], np.floor(exact[clear]).astype(int))


def test_gap_scale_matches_float64_formula():
    for p in (1e-7, 2e-5, 0.02, 0.5, 0.9):
        ref = 1.0 / (2.0**26 * -np.log2(1 - p))
        assert abs(float(S.gap_scale(p)) - ref) <= 1e-7 * ref  # one float32 rounding
    assert S.gap_scale(1.0) == 0.0
    with pytest.raises(ValueError, match="p must lie"):
        S.gap_scale(0.0)


@pytest.mark.parametrize("p", [0.3, 0.01])
def test_gap_distribution_is_geometric(p):
    """χ² of gaps against Geometric(p) per seed; the p-values are uniform over seeds (KS)."""
    pvals = []
    for seed in range(16):
        bits = jax.random.bits(jax.random.key(seed), (20000,), jnp.uint32)
        gaps = np.asarray(S.geometric_gaps(bits, S.gap_scale(p), 10**7))
        k_max = int(np.ceil(np.log(5 / 20000) / np.log1p(-p)))  # expected count >= 5
        obs = np.bincount(np.minimum(gaps, k_max), minlength=k_max + 1)[1:]
        pmf = stats.geom.pmf(np.arange(1, k_max), p)
        exp = np.append(pmf, 1 - pmf.sum()) * len(gaps)
        pvals.append(stats.chisquare(obs, exp).pvalue)
    assert stats.kstest(pvals, "uniform").pvalue > 1e-3


def test_small_p_mean_gap():
    """Large gaps (p = 2e-5, the 4M-neuron COBA) have mean 1/p within 5 standard errors."""
    p = 2e-5
    bits = jax.random.bits(jax.random.key(0), (400000,), jnp.uint32)
    gaps = np.asarray(S.geometric_gaps(bits, S.gap_scale(p), 10**9), np.float64)
    se = np.sqrt(1 - p) / p / np.sqrt(gaps.size)
    assert abs(gaps.mean() - 1 / p) < 5 * se
