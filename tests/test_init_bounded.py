"""TruncatedNormal (NEST's redraw) and Clipped: distributions against closed forms."""

import jax
import numpy as np
import pytest
from scipy import special, stats

import neurosim as ns

N = 200_000


def _phi(x):
    return np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)


def _truncnorm_moments(mu, s, lo, hi):
    """Mean and variance of N(mu, s^2) truncated to [lo, hi] (Johnson, Kotz & Balakrishnan)."""
    a, b = (lo - mu) / s, (hi - mu) / s
    z = special.ndtr(b) - special.ndtr(a)
    pa = _phi(a) if np.isfinite(a) else 0.0
    pb = _phi(b) if np.isfinite(b) else 0.0
    apa = a * pa if np.isfinite(a) else 0.0
    bpb = b * pb if np.isfinite(b) else 0.0
    mean = mu + s * (pa - pb) / z
    var = s * s * (1 + (apa - bpb) / z - ((pa - pb) / z) ** 2)
    return mean, var


@pytest.mark.parametrize(
    "mu,s,lo,hi",
    [(1.5, 0.75, 0.05, np.inf), (0.75, 0.375, 0.05, np.inf), (-2.0, 1.0, -np.inf, 0.0),
     (0.0, 1.0, -0.5, 1.5)],
)  # fmt: skip
def test_truncated_normal_moments_and_cdf(mu, s, lo, hi):
    init = ns.init.TruncatedNormal(mu, s, low=lo, high=hi)
    x = np.asarray(init.sample(jax.random.key(0), (N,)), np.float64)
    mean, var = _truncnorm_moments(mu, s, lo, hi)
    assert x.min() >= lo and x.max() <= hi
    # sample mean within 5 standard errors; variance within 5 s.e. (s.e. of s^2 ~ var*sqrt(2/N)
    # for near-normal data; the truncated tails are lighter, so this is conservative)
    assert abs(x.mean() - mean) < 5 * np.sqrt(var / N)
    assert abs(x.var() - var) < 5 * var * np.sqrt(2.0 / N)
    assert abs(float(init.mean()) - mean) < 1e-5 * max(1.0, abs(mean))
    a, b = (lo - mu) / s, (hi - mu) / s
    ref = stats.truncnorm(a, b, loc=mu, scale=s)
    assert stats.kstest(x[:20000], ref.cdf).pvalue > 1e-3
    # quantile (procedural streams) maps uniforms onto the same distribution
    u = (np.arange(1, 1000) - 0.5) / 999
    np.testing.assert_allclose(np.asarray(init.quantile(u)), ref.ppf(u), rtol=2e-4, atol=2e-4)


def test_clipped_normal_point_masses_and_mean():
    mu, s, lo = 1.5, 0.75, 0.5
    init = ns.init.Clipped(ns.init.Normal(mu, s), low=lo)
    x = np.asarray(init.sample(jax.random.key(1), (N,)), np.float64)
    p_lo = special.ndtr((lo - mu) / s)
    frac = np.mean(x == lo)
    assert abs(frac - p_lo) < 5 * np.sqrt(p_lo * (1 - p_lo) / N)
    assert x.min() == lo
    a = (lo - mu) / s
    mean = lo * p_lo + mu * (1 - p_lo) + s * _phi(a)  # E[max(X, lo)]
    assert abs(float(init.mean()) - mean) < 1e-5
    assert abs(x.mean() - mean) < 5 * x.std() / np.sqrt(N)


def test_bad_bounds():
    with pytest.raises(ValueError, match="low < high"):
        ns.init.TruncatedNormal(0.0, 1.0, low=1.0, high=0.0)
    with pytest.raises(ValueError, match="more than 6 std"):
        ns.init.TruncatedNormal(0.0, 1.0, low=10.0)
    with pytest.raises(TypeError, match="initializer"):
        ns.init.Clipped(1.0, low=0.0)


@pytest.mark.parametrize("lo,hi", [(0.0, np.inf), (-np.inf, 0.0)])
def test_truncated_normal_end_point_draws_stay_finite(monkeypatch, lo, hi):
    # jax.random.truncated_normal clamps to nextafter(lower, inf) / nextafter(upper, -inf): at an
    # infinite side that is the largest finite float, which std * z turned into +-inf (3 of the
    # 22 million L23I->L23E weights of the full-scale microcircuit)
    import jax.numpy as jnp

    def ends(key, lower, upper, shape, dtype):
        big = jnp.finfo(dtype).max
        lo_end = jnp.where(jnp.isfinite(lower), lower, -big)
        hi_end = jnp.where(jnp.isfinite(upper), upper, big)
        return jnp.where(jnp.arange(shape[0]) % 2 == 0, lo_end, hi_end).astype(dtype)

    monkeypatch.setattr(jax.random, "truncated_normal", ends)
    mu = 87.8 if lo == 0.0 else -351.2
    init = ns.init.TruncatedNormal(mu, abs(mu) * 0.1, low=lo, high=hi)
    x = np.asarray(init.sample(jax.random.key(0), (4,)))
    assert np.all(np.isfinite(x))
    assert np.all((x >= lo) & (x <= hi))
