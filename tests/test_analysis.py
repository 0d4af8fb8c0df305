"""Analysis functions on synthetic recordings with known answers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns


def _poisson_trains(rng, n, rate_hz, duration_ms):
    counts = rng.poisson(rate_hz * duration_ms * 1e-3, size=n)
    idx = np.repeat(np.arange(n), counts)
    t = rng.uniform(0.0, duration_ms, size=idx.size)
    order = np.argsort(t)
    return t[order], idx[order]


def test_fano_factor_poisson_regular_and_bursts():
    rng = np.random.default_rng(0)
    n, rate, T, win = 50, 20.0, 100_000.0, 500.0  # 200 windows of 10 expected spikes
    t, i = _poisson_trains(rng, n, rate, T)
    ff = ns.analysis.fano_factor(t, i, n, T, win)
    # Per neuron, var(F) ~ 2/(K-1) for K windows of Poisson counts; mean over n neurons.
    sd = np.sqrt(2.0 / (T / win - 1) / n)
    assert abs(ff - 1.0) < 5 * sd
    # Bursts of exactly 3 spikes at Poisson times: counts are 3 x Poisson, F = 3.
    t3, i3 = np.repeat(t, 3), np.repeat(i, 3)
    assert abs(ns.analysis.fano_factor(t3, i3, n, T, win) - 3.0) < 3 * 5 * sd
    # A regular 100 Hz train counted in windows that hold whole periods: F = 0 exactly.
    reg = np.arange(0.5, 1000.0, 10.0)
    assert ns.analysis.fano_factor(reg, np.zeros(reg.size, int), 1, 1000.0, 50.0) == 0.0
    per = ns.analysis.fano_factor(reg, np.zeros(reg.size, int), 2, 1000.0, 50.0, per_neuron=True)
    assert per[0] == 0.0 and np.isnan(per[1])  # neuron 1 is silent
    with pytest.raises(ValueError, match="at least 2 windows"):
        ns.analysis.fano_factor(reg, np.zeros(reg.size, int), 1, 1000.0, 800.0)


def test_spike_counts_bins():
    c = ns.analysis.spike_counts([0.0, 0.99, 1.0, 2.5, 3.0], [0, 0, 1, 1, 0], 2, 3.0, 1.0)
    np.testing.assert_array_equal(c, [[2, 0], [0, 1], [0, 1]])  # t = 3.0 is outside [0, 3)


def test_spike_train_spectrum_poisson_is_flat_at_the_rate():
    rng = np.random.default_rng(1)
    n, rate, T = 40, 25.0, 20_000.0
    t, i = _poisson_trains(rng, n, rate, T)
    f, p = ns.analysis.spike_train_spectrum(t, i, n, T, bin_ms=1.0, n_segments=20)
    band = f > 0
    # By Parseval the mean level is the realised rate (its own sd, rate/sqrt(n_spikes), is
    # larger than the spectral scatter). Each value is rate * chi2_2/2 (sd = rate) averaged
    # over n * 20 segments.
    realised = t.size / n / (T * 1e-3)
    assert abs(realised - rate) < 5 * rate / np.sqrt(t.size)
    sd = rate / np.sqrt(n * 20)
    assert abs(np.mean(p[band]) - realised) < 5 * sd / np.sqrt(band.sum())
    assert np.max(np.abs(p[band] - realised)) < 6 * sd
    fp, pp = ns.analysis.spike_train_spectrum(t, i, n, T, n_segments=20, average="population")
    sd_pop = rate / np.sqrt(20)  # one (summed) train: 20 segments only
    assert abs(np.mean(pp[band]) - realised) < 5 * sd_pop / np.sqrt(band.sum())


def test_spike_train_spectrum_regular_train_peaks_at_its_frequency():
    f0, T = 40.0, 2000.0
    t = np.arange(0.3, T, 1000.0 / f0)
    f, p = ns.analysis.spike_train_spectrum(t, np.zeros(t.size, int), 1, T, bin_ms=0.5)
    assert f[1:][np.argmax(p[1:])] == f0
    # Harmonics of a periodic train, nothing between them (up to rounding).
    off = (f % f0 != 0) & (f > 0)
    assert np.max(p[off]) < 1e-6 * np.max(p)
    # Synchronous trains: the population spectrum is n times the single-train one.
    n = 5
    tt, ii = np.tile(t, n), np.repeat(np.arange(n), t.size)
    _, pn = ns.analysis.spike_train_spectrum(tt, ii, n, T, bin_ms=0.5, average="neurons")
    _, pp = ns.analysis.spike_train_spectrum(tt, ii, n, T, bin_ms=0.5, average="population")
    np.testing.assert_allclose(pp[1:], n * pn[1:], rtol=1e-5, atol=1e-9)


def test_power_spectrum_sine_and_white_noise():
    dt = 0.5  # ms
    t = np.arange(8000) * dt
    f, p = ns.analysis.power_spectrum(3.0 * np.sin(2 * np.pi * 0.012 * t), dt)
    assert float(f[np.argmax(p)]) == 12.0
    # Parseval: the two-sided density integrates to the variance (4.5 for amplitude 3).
    df = float(f[1] - f[0])
    total = 2 * float(jnp.sum(p[1:-1])) * df + float(p[0] + p[-1]) * df
    np.testing.assert_allclose(total, 4.5, rtol=1e-5)
    x = np.random.default_rng(2).standard_normal((40_000, 2)) * 2.0
    f, p = ns.analysis.power_spectrum(x, dt, n_segments=100)
    expected = 4.0 * dt * 1e-3  # sigma^2 * dt (s)
    sd = expected / np.sqrt(100)  # one periodogram value per segment, chi2_2/2 scatter
    np.testing.assert_allclose(float(jnp.mean(p[1:-1])), expected, rtol=5 * sd / expected / 14)
    assert p.shape == (201, 2)
    fp = ns.analysis.peak_frequency(
        np.sin(2 * np.pi * 0.012 * t) + np.sin(2 * np.pi * 0.030 * t) * 2, dt
    )
    assert float(fp) == 30.0
    fp = ns.analysis.peak_frequency(
        np.sin(2 * np.pi * 0.012 * t) + np.sin(2 * np.pi * 0.030 * t) * 2, dt, fmax=20.0
    )
    assert float(fp) == 12.0


def test_synchrony_chi_known_mixtures():
    rng = np.random.default_rng(3)
    T, N = 20_000, 16
    s = np.sin(np.linspace(0, 200 * np.pi, T))  # var 1/2
    eta = rng.standard_normal((T, N))  # var 1
    assert abs(float(ns.analysis.synchrony_chi(np.tile(s[:, None], (1, N)))) - 1.0) < 1e-6
    # V_i = s + eta_i: chi^2 = (var s + var eta / N) / (var s + var eta)
    chi = float(ns.analysis.synchrony_chi(s[:, None] + eta))
    expected = np.sqrt((0.5 + 1.0 / N) / 1.5)
    assert abs(chi - expected) < 5 * np.sqrt(2.0 / T)  # sample-variance error ~ sqrt(2/T)
    chi0 = float(ns.analysis.synchrony_chi(eta))
    assert abs(chi0 - 1.0 / np.sqrt(N)) < 5 * np.sqrt(2.0 / T)


def test_functional_connectivity_recovers_known_correlations():
    rng = np.random.default_rng(4)
    R = np.array([[1.0, 0.8, -0.3, 0.0], [0.8, 1.0, -0.2, 0.1], [-0.3, -0.2, 1.0, 0.5],
                  [0.0, 0.1, 0.5, 1.0]])  # fmt: skip
    T = 20_000
    x = rng.standard_normal((T, 4)) @ np.linalg.cholesky(R).T
    x = x * np.array([1.0, 5.0, 0.1, 2.0]) + np.array([3.0, -1.0, 0.0, 7.0])  # scale, shift
    fc = np.asarray(ns.analysis.functional_connectivity(x))
    # sd of a sample correlation ~ (1 - rho^2) / sqrt(T) <= 1/sqrt(T)
    np.testing.assert_allclose(fc, R, atol=5 / np.sqrt(T))
    np.testing.assert_allclose(fc, np.corrcoef(x.T), atol=1e-6)  # float32
    assert float(ns.analysis.fc_similarity(fc, R)) > 0.99
    assert abs(float(ns.analysis.fc_similarity(fc, -fc)) + 1.0) < 1e-6
    # differentiable: gradient of a FC loss is finite
    g = jax.grad(lambda z: jnp.sum(ns.analysis.functional_connectivity(z)[0, 1:]))(
        jnp.asarray(x[:200])
    )
    assert np.all(np.isfinite(np.asarray(g)))


def test_kuramoto_order():
    assert abs(float(ns.analysis.kuramoto_order(np.full(7, 1.3))) - 1.0) < 1e-6
    even = 2 * np.pi * np.arange(8) / 8
    assert float(ns.analysis.kuramoto_order(even)) < 1e-6
    r = ns.analysis.kuramoto_order(np.stack([np.zeros(4), even[::2]]), axis=-1)
    np.testing.assert_allclose(np.asarray(r), [1.0, 0.0], atol=1e-6)
