"""Losses, regularisers and encoders against closed forms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns

# The (..., T, n) layout of ns.train: time second to last, summed over neurons, batch mean.
TRAIN_LAYOUT = dict(time_axis=-2, neuron_axis=-1, batch_mean=True)


def test_count_and_membrane_cross_entropy_are_softmax_ce():
    z = jnp.zeros((2, 10, 3)).at[0, :4, 1].set(1.0).at[1, :2, 2].set(1.0)
    labels = jnp.array([1, 0])
    counts = np.array([[0, 4, 0], [0, 0, 2]], float)
    ce = np.mean([np.log(np.exp(c).sum()) - c[y] for c, y in zip(counts, [1, 0], strict=True)])
    np.testing.assert_allclose(float(ns.train.rate_cross_entropy(z, labels)), ce, rtol=1e-5)
    v = jax.random.normal(jax.random.key(0), (2, 10, 3))
    mx = np.asarray(v).max(1)
    ce = np.mean([np.log(np.exp(m).sum()) - m[y] for m, y in zip(mx, [1, 0], strict=True)])
    np.testing.assert_allclose(float(ns.train.max_membrane_cross_entropy(v, labels)), ce, rtol=1e-5)
    last = np.asarray(v)[:, -1]
    ce = np.mean([np.log(np.exp(m).sum()) - m[y] for m, y in zip(last, [1, 0], strict=True)])
    got = ns.train.membrane_cross_entropy(v, labels, "last")
    np.testing.assert_allclose(float(got), ce, rtol=1e-5)
    with pytest.raises(ValueError, match="reduce must be"):
        ns.train.membrane_cross_entropy(v, labels, "median")


def test_first_spike_times_and_their_gradient():
    z = jnp.zeros((6, 3)).at[2, 0].set(1.0).at[4, 0].set(1.0).at[0, 1].set(1.0)
    t = ns.train.first_spike_times(z, dt=0.5)
    np.testing.assert_allclose(np.asarray(t), [1.5, 0.5, 3.0])  # (step + 1) dt; none -> T dt
    # Raising z before the first spike makes it earlier; raising it after changes nothing.
    g = jax.jacfwd(lambda s: ns.train.first_spike_times(s, 0.5)[0])(z)[:, 0]
    assert float(g[1]) < 0 and float(g[3]) == 0.0 and float(g[5]) == 0.0
    loss = ns.train.first_spike_loss(z[None], jnp.array([0]), dt=0.5, tau0=1.0, alpha=0.1)
    t = np.array([1.5, 0.5, 3.0])
    ce = np.log(np.exp(-t).sum()) + t[0]
    np.testing.assert_allclose(float(loss), ce + 0.1 * (np.exp(1.5 / 10.0) - 1), rtol=1e-5)


@pytest.mark.parametrize("delta_ms", [1.0, 5.0, 30.0])
def test_van_rossum_distance_of_two_single_spikes(delta_ms):
    """Continuous closed form: D^2 = 1 - exp(-delta/tau) (van Rossum 2001)."""
    dt, tau, n = 0.05, 10.0, 4000
    a = jnp.zeros((n, 1)).at[100, 0].set(1.0)
    b = jnp.zeros((n, 1)).at[100 + int(round(delta_ms / dt)), 0].set(1.0)
    d2 = ns.train.van_rossum_distance(a, b, tau, dt, **TRAIN_LAYOUT)
    # The step-sampled integral differs from the continuous one by O(dt / tau).
    np.testing.assert_allclose(float(d2), 1 - np.exp(-delta_ms / tau), atol=2 * dt / tau)
    assert float(ns.train.van_rossum_distance(a, a, tau, dt, **TRAIN_LAYOUT)) == 0.0


def test_voltage_mse_rate_loss_and_bounds():
    v = jnp.array([[1.0, 2.0], [3.0, 5.0]])
    np.testing.assert_allclose(float(ns.train.voltage_mse(v, jnp.zeros_like(v))), 39 / 4)
    mask = jnp.array([[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(float(ns.train.voltage_mse(v, 0 * v, mask)), 26 / 2)
    z = jnp.zeros((100, 3)).at[::10, 0].set(1.0).at[::2, 1].set(1.0)  # 100 Hz, 500 Hz, 0 Hz
    np.testing.assert_allclose(
        float(ns.train.rate_loss(z, jnp.array([100.0, 500.0, 0.0]), dt=1.0)), 0.0, atol=1e-6
    )
    rb = ns.train.rate_bounds(z, 1.0, low_hz=50.0, high_hz=200.0)
    np.testing.assert_allclose(float(rb), (300.0**2 + 50.0**2) / 3, rtol=1e-5)
    np.testing.assert_allclose(float(ns.train.l1_activity(z)), (10 + 50) / 3, rtol=1e-6)


def test_summary_statistics_poisson_and_synchronous():
    key = jax.random.key(0)
    z = (jax.random.uniform(key, (4000, 50)) < 0.02).astype(jnp.float32)  # 20 Hz at dt 1 ms
    s = ns.train.summary_statistics(z, dt=1.0, window=20)
    np.testing.assert_allclose(float(s["rate_hz"]), 20.0, rtol=0.05)
    # Bernoulli counts in 20 steps: Fano = 1 - p = 0.98; sampling error ~ sqrt(2/199/50).
    np.testing.assert_allclose(float(s["fano"]), 0.98, atol=0.05)
    assert float(s["synchrony"]) < 0.1
    sync = jnp.tile(z[:, :1], (1, 50))
    assert float(ns.train.summary_statistics(sync, 1.0, 20)["synchrony"]) == pytest.approx(1.0)
    loss = ns.train.summary_loss(s, {"rate_hz": 10.0}, {"rate_hz": 2.0})
    np.testing.assert_allclose(float(loss), ((float(s["rate_hz"]) - 10) / 2) ** 2, rtol=1e-5)
    with pytest.raises(ValueError, match="unknown statistic"):
        ns.train.summary_loss(s, {"cv": 1.0})


def test_rate_encoders_statistics():
    x = jnp.array([0.0, 0.25, 1.0])
    s = ns.train.rate_bernoulli(jax.random.key(0), jnp.tile(x, (200, 1)), 100, 1.0, 200.0)
    assert s.shape == (200, 100, 3)
    p = np.asarray(x) * 0.2
    m = np.asarray(s).mean((0, 1))
    assert np.all(np.abs(m - p) <= 5 * np.sqrt(p * (1 - p) / 20000) + 1e-9), (m, p)
    with pytest.raises(ValueError, match="spikes per step > 1"):
        ns.train.rate_bernoulli(jax.random.key(0), x, 10, 1.0, 2000.0)
    c = ns.train.rate_poisson(jax.random.key(1), jnp.full((3,), 500.0), 20000, 1.0, clip=False)
    np.testing.assert_allclose(np.asarray(c).mean(0), 0.5, atol=5 * np.sqrt(0.5 / 20000))
    assert float(c.max()) > 1
    assert (
        float(ns.train.rate_poisson(jax.random.key(1), jnp.full((3,), 500.0), 50, 1.0).max()) == 1
    )


def test_latency_and_delta_encoders():
    s = ns.train.latency(jnp.array([0.0, 0.5, 1.0]), 11, 1.0, t_max=10.0)
    np.testing.assert_array_equal(np.argmax(np.asarray(s), 0), [10, 5, 0])
    assert float(s.sum()) == 3
    s = ns.train.latency(jnp.array([0.0, 1.0]), 11, 1.0, t_max=10.0, early_high=False)
    np.testing.assert_array_equal(np.argmax(np.asarray(s), 0), [0, 10])
    ramp = jnp.stack([jnp.linspace(0, 1, 101), jnp.linspace(1, 0, 101)], -1)  # (T, 2)
    d = np.asarray(ns.train.delta(ramp, 0.1))
    assert d.shape == (101, 4)
    # A ramp by 1.0 with threshold 0.1: 10 events, up to rounding of the 0.01 increments.
    assert d[:, 0].sum() in (9, 10) and d[:, 3].sum() in (9, 10)
    assert d[:, 1].sum() == 0 and d[:, 2].sum() == 0
