"""Inputs: Poisson statistics, inhomogeneous rate profiles, spike-time generators, OU and
white-noise currents, ramps and sinusoids (statistical tolerances are 4-5 standard errors)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns


def _source_spikes(src, n_steps, dt, seed=0):
    @jax.jit
    def go(key):
        def body(st, k):
            st, s = src.step(st, None, k, dt, jax.random.fold_in(key, k))
            return st, s

        return jax.lax.scan(body, src.init(None, 0.1), jnp.arange(n_steps))[1]

    return np.asarray(go(jax.random.key(seed)))


def _current_values(cur, n, n_steps, dt, seed=0):
    @jax.jit
    def go(key):
        bound = cur.bind(n)
        st = bound.init(jax.random.fold_in(key, 10**6), dt)

        def body(st, k):
            st, i = bound.step(st, None, k, dt, jax.random.fold_in(key, k))
            return st, jnp.broadcast_to(i, (n,))

        return jax.lax.scan(body, st, jnp.arange(n_steps))[1]

    return np.asarray(go(jax.random.key(seed)), np.float64)


@pytest.mark.parametrize("kind", ["homogeneous", "inhomogeneous"])
def test_poisson_rate_and_fano_factor(kind):
    n, dt, n_steps, rate = 1000, 0.1, 5000, 20.0
    src = (
        ns.inputs.PoissonSource(n, rate=rate)
        if kind == "homogeneous"
        else ns.inputs.InhomogeneousPoisson(n, lambda t: rate + 0.0 * t)
    )
    s = _source_spikes(src, n_steps, dt)
    total = s.sum()
    expected = n * n_steps * rate * dt * 1e-3
    assert abs(total - expected) < 4 * np.sqrt(expected)  # Poisson count: SE = sqrt(mean)
    # Fano factor of counts in 50 ms windows (10 per neuron, 10^4 samples of mean 1):
    # Bernoulli steps give F = 1 - p; SE of the sample Fano factor ~ sqrt((2 + 1/m) / N).
    counts = s.reshape(10, n_steps // 10, n).sum(1).ravel()
    fano = counts.var(ddof=1) / counts.mean()
    p = rate * dt * 1e-3
    assert abs(fano - (1 - p)) < 4 * np.sqrt(3.0 / counts.size)


def test_inhomogeneous_poisson_follows_its_rate_profile():
    n, dt, n_steps = 2000, 0.1, 4000

    def profile(t):
        return 20.0 + 15.0 * np.sin(2 * np.pi * 5.0 * t / 1000.0)

    t_mid = (np.arange(n_steps) + 0.5) * dt
    p = profile(t_mid) * dt * 1e-3
    arr_src = ns.inputs.InhomogeneousPoisson(n, profile(np.arange(400) * 1.0 + 0.5), rate_dt=1.0)
    fn_src = ns.inputs.InhomogeneousPoisson(
        n, lambda t: 20.0 + 15.0 * jnp.sin(2 * jnp.pi * 5.0 * t / 1000.0)
    )
    for src, seed in ((fn_src, 0), (arr_src, 1)):
        s = _source_spikes(src, n_steps, dt, seed)
        obs = s.sum(1).reshape(40, -1).sum(1)  # 10 ms bins
        exp = n * p.reshape(40, -1).sum(1)
        if src is arr_src:  # the array holds 1 ms bins sampled at their centres
            p_arr = np.repeat(profile(np.arange(400) + 0.5), 10) * dt * 1e-3
            exp = n * p_arr.reshape(40, -1).sum(1)
        z = (obs - exp) / np.sqrt(exp)
        assert np.max(np.abs(z)) < 4.5  # 40 bins: P(any |z| > 4.5) ~ 3e-4
        chi2 = np.sum(z**2)
        assert 40 - 5 * np.sqrt(80) < chi2 < 40 + 5 * np.sqrt(80)
        # the modulation is there: peak bins (~35 Hz) vs trough bins (~5 Hz)
        assert obs.max() > 4 * obs.min()
    # past the end of an array rate, no spikes
    s = _source_spikes(ns.inputs.InhomogeneousPoisson(10, [1000.0, 1000.0], rate_dt=1.0), 40, 0.1)
    assert s[:20].sum() > 0 and s[20:].sum() == 0


def test_inhomogeneous_poisson_validation():
    with pytest.raises(ValueError, match="rate_dt"):
        ns.inputs.InhomogeneousPoisson(3, [1.0, 2.0])
    with pytest.raises(ValueError, match=">= 0"):
        ns.inputs.InhomogeneousPoisson(3, [1.0, -2.0], rate_dt=1.0)
    with pytest.raises(ValueError, match="shape"):
        ns.inputs.InhomogeneousPoisson(3, np.ones((4, 2)), rate_dt=1.0)


def test_spike_times_are_placed_exactly():
    dt = 0.1
    times = [[0.0, 0.3, 12.5, 99.9], [], [0.3, 50.0]]
    b = ns.NetworkBuilder()
    b.add_population("gen", ns.inputs.SpikeTimes(3, times, dt=dt))
    res = ns.simulate(b.build(), 100.0, dt, key=jax.random.key(0), record_spikes="all")
    exp = sorted((t, i) for i, ts in enumerate(times) for t in ts)
    np.testing.assert_allclose(res.spike_times, [t for t, _ in exp], atol=1e-9)
    np.testing.assert_array_equal(res.spike_indices, [i for _, i in exp])
    # off-grid times go to the nearest step
    g = ns.inputs.SpikeTimes(1, [0.26, 0.34], same_step="merge")
    assert _source_spikes(g, 5, dt)[:, 0].tolist() == [0, 0, 0, 1, 0]


def test_spike_times_validation():
    with pytest.raises(ValueError, match=">= 0"):
        ns.inputs.SpikeTimes(2, [-1.0], [0])
    with pytest.raises(ValueError, match="indices must lie"):
        ns.inputs.SpikeTimes(2, [1.0], [2])
    with pytest.raises(ValueError, match="same length"):
        ns.inputs.SpikeTimes(2, [1.0, 2.0], [0])
    with pytest.raises(ValueError, match="one array per neuron"):
        ns.inputs.SpikeTimes(2, [[1.0]])
    with pytest.raises(ValueError, match="grid"):
        ns.inputs.SpikeTimes(1, [0.25], [0], dt=0.1)
    with pytest.raises(ValueError, match="same step"):
        ns.inputs.SpikeTimes(1, [0.2, 0.2], [0, 0], dt=0.1)


def test_ou_current_stationary_statistics():
    n, dt, n_steps, mean, std, tau = 1000, 0.1, 3000, 50.0, 20.0, 5.0
    x = _current_values(ns.inputs.OUCurrent(mean, std, tau), n, n_steps, dt)
    a = np.exp(-dt / tau)
    n_eff = x.size * (1 - a) / (1 + a)  # effective independent samples of an AR(1) process
    assert abs(x.mean() - mean) < 4 * std / np.sqrt(n_eff)
    assert abs(x.var() / std**2 - 1) < 4 * np.sqrt(2 / n_eff)
    # stationary from the first step (the initial value is a stationary sample)
    assert abs(x[0].std() / std - 1) < 4 / np.sqrt(2 * n)
    # autocorrelation exp(-lag dt / tau) (exact update: exact at every lag)
    xc = x - mean
    for lag in (10, 50, 100):
        rho = np.mean(xc[lag:] * xc[:-lag]) / std**2
        assert abs(rho - np.exp(-lag * dt / tau)) < 4 * np.sqrt(2 / n_eff)
    # correlation time from the lag-1 coefficient: SE(rho1) ~ sqrt((1 - a^2) / N), and
    # d tau / tau = d rho / (rho |ln rho|)
    rho1 = np.mean(xc[1:] * xc[:-1]) / np.mean(xc * xc)
    tau_est = -dt / np.log(rho1)
    se_rel = np.sqrt((1 - a * a) / x.size) / (a * abs(np.log(a)))
    assert abs(tau_est / tau - 1) < 4 * se_rel


def test_white_noise_current_statistics():
    n, dt, n_steps, mean, sigma = 500, 0.05, 2000, 100.0, 30.0
    x = _current_values(ns.inputs.WhiteNoiseCurrent(mean, sigma), n, n_steps, dt)
    var = sigma**2 / dt  # step average of white noise with intensity sigma^2
    assert abs(x.mean() - mean) < 4 * np.sqrt(var / x.size)
    assert abs(x.var() / var - 1) < 4 * np.sqrt(2 / x.size)
    xc = x - mean
    assert abs(np.mean(xc[1:] * xc[:-1]) / var) < 4 / np.sqrt(x.size)  # independent steps


def test_noise_current_validation():
    with pytest.raises(ValueError, match="tau"):
        ns.inputs.OUCurrent(0.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="std"):
        ns.inputs.OUCurrent(0.0, -1.0, 1.0)
    with pytest.raises(ValueError, match="sigma"):
        ns.inputs.WhiteNoiseCurrent(0.0, -1.0)
    with pytest.raises(ValueError, match="one per target"):
        ns.inputs.OUCurrent(np.zeros(3), 1.0, 1.0).bind(4).init(jax.random.key(0), 0.1)


def test_ramp_and_sinusoid_values():
    dt = 0.1
    ramp = _current_values(ns.inputs.RampCurrent(1.0, 3.0, 10.0, 50.0), 1, 40, dt)[:, 0]
    t = (np.arange(40) + 0.5) * dt
    exp = np.where((t >= 1.0) & (t < 3.0), 10.0 + 40.0 * (t - 1.0) / 2.0, 0.0)
    np.testing.assert_allclose(ramp, exp, rtol=1e-6, atol=1e-5)
    held = _current_values(ns.inputs.RampCurrent(1.0, 3.0, 10.0, 50.0, hold=True), 1, 40, dt)
    assert np.all(held[30:] == 50.0)
    sin = _current_values(
        ns.inputs.SinusoidalCurrent(
            amplitude=5.0, frequency=40.0, phase=0.3, offset=2.0, start=1.0
        ),
        1,
        400,
        dt,
    )[:, 0]
    t = (np.arange(400) + 0.5) * dt
    exp = np.where(t >= 1.0, 2.0 + 5.0 * np.sin(2 * np.pi * 40.0 * t / 1000.0 + 0.3), 0.0)
    np.testing.assert_allclose(sin, exp, atol=1e-5)
    with pytest.raises(ValueError, match="stop must be > start"):
        ns.inputs.RampCurrent(3.0, 1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="frequency"):
        ns.inputs.SinusoidalCurrent(1.0, -1.0)


@pytest.mark.parametrize("conventions", ["default", "nest"])
def test_inhomogeneous_poisson_rate_is_taken_over_the_step_it_spikes_in(conventions):
    # rate 0 before t = 1 ms and 1/dt after (p = 1 per step): the first spikes are drawn in
    # the step [1.0, 1.1) ms, stamped at its start (default) or end (NEST). Under NEST
    # conventions the source used to read its stamp step, i.e. the rate one step late.
    dt = 0.1
    src = ns.inputs.InhomogeneousPoisson(3, lambda t: jnp.where(t >= 1.0, 1e4, 0.0))
    b = ns.NetworkBuilder(conventions=conventions)
    b.add_population("src", src)
    res = ns.simulate(b.build(), 2.0, dt, key=jax.random.key(0), record_spikes=("src",),
                      progress=False)  # fmt: skip
    first = float(np.min(np.asarray(res.spike_times)))
    assert first == pytest.approx(1.0 if conventions == "default" else 1.1, abs=1e-6)
    assert np.asarray(res.spike_times).size == 3 * 10
