"""The one transform module and the one van Rossum distance shared by ns.train and ns.fit."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns


def _van_rossum_loop(a, b, tau, dt):
    """Plain-Python van Rossum D^2 of two 1-d binned trains (the definition on the grid)."""
    q, f, total = np.exp(-dt / tau), 0.0, 0.0
    for x in np.asarray(a, float) - np.asarray(b, float):
        f = q * f + x
        total += f * f
    return total * dt / tau


def test_one_van_rossum_function_for_train_and_fit():
    assert ns.train.van_rossum_distance is ns.analysis.van_rossum_distance
    assert ns.fit.van_rossum_distance is ns.analysis.van_rossum_distance
    assert ns.fit.exponential_filter is ns.analysis.exponential_filter


def test_van_rossum_layouts_against_a_loop():
    dt, tau = 0.5, 4.0
    k1, k2 = jax.random.split(jax.random.key(0))
    a = (jax.random.uniform(k1, (3, 40, 5)) < 0.1).astype(jnp.float32)  # (batch, T, n)
    b = (jax.random.uniform(k2, (3, 40, 5)) < 0.1).astype(jnp.float32)
    per = np.array([[_van_rossum_loop(a[i, :, j], b[i, :, j], tau, dt) for j in range(5)]
                    for i in range(3)])  # fmt: skip
    # fit layout: time first, one distance per train.
    fit = ns.fit.van_rossum_distance(jnp.moveaxis(a, 1, 0), jnp.moveaxis(b, 1, 0), tau, dt,
                                     time_axis=0)  # fmt: skip
    np.testing.assert_allclose(np.asarray(fit), per, rtol=1e-5)
    # train layout: (..., T, n), summed over neurons, mean over the batch.
    train = ns.train.van_rossum_distance(a, b, tau, dt, time_axis=-2, neuron_axis=-1,
                                         batch_mean=True)  # fmt: skip
    np.testing.assert_allclose(float(train), per.sum(axis=1).mean(), rtol=1e-5)
    d = ns.train.van_rossum_distance(a, b, tau, dt, time_axis=-2, neuron_axis=-1,
                                     batch_mean=True, squared=False)  # fmt: skip
    np.testing.assert_allclose(float(d), np.sqrt(per.sum(axis=1)).mean(), rtol=1e-5)


def test_van_rossum_axis_errors():
    x = jnp.zeros((10, 2))
    with pytest.raises(TypeError, match="time_axis"):
        ns.analysis.van_rossum_distance(x, x, 1.0, 1.0)  # layout must be explicit
    with pytest.raises(ValueError, match="time_axis"):
        ns.analysis.van_rossum_distance(x, x, 1.0, 1.0, time_axis=2)
    with pytest.raises(ValueError, match="must differ"):
        ns.analysis.van_rossum_distance(x, x, 1.0, 1.0, time_axis=0, neuron_axis=-2)


def test_two_positive_maps_are_distinct_named_classes():
    assert ns.fit.Positive is ns.fit.ExpPositive
    assert ns.train.SoftplusPositive is ns.fit.SoftplusPositive
    u = jnp.array([-3.0, 0.0, 2.5])
    np.testing.assert_allclose(
        np.asarray(ns.fit.ExpPositive(2.0).to_physical(u)), 2.0 * np.exp(u), rtol=1e-6
    )
    np.testing.assert_allclose(
        np.asarray(ns.fit.SoftplusPositive(1.0).to_physical(u)),
        1.0 + np.log1p(np.exp(np.asarray(u))),
        rtol=1e-6,
    )
    # train.Positive and train.Bounded compute their values with the shared maps.
    p = ns.train.Positive(jnp.array([0.5, 20.0]), lower=0.1)
    assert isinstance(p.transform(), ns.fit.SoftplusPositive)
    np.testing.assert_allclose(
        np.asarray(p.value), np.asarray(ns.fit.SoftplusPositive(0.1).to_physical(p.raw))
    )
    b = ns.train.Bounded(-50.0, low=-60.0, high=-40.0)
    assert isinstance(b.transform(), ns.fit.Bounded)
    np.testing.assert_allclose(float(b.raw), 0.0, atol=1e-6)  # midpoint -> sigmoid^-1(1/2)
    for t, x in ((ns.fit.ExpPositive(3.0), 7.0), (ns.fit.SoftplusPositive(-2.0), 0.5)):
        assert float(t.to_physical(t.to_unconstrained(x))) == pytest.approx(x, rel=1e-6)
    with pytest.raises(ValueError, match="scale must be > 0"):
        ns.fit.ExpPositive(-1.0)
    with pytest.raises(ValueError, match="must be > lower"):
        ns.fit.SoftplusPositive(1.0).to_unconstrained(0.5)
    with pytest.raises(ValueError, match="strictly inside"):
        ns.fit.Bounded(0.0, 1.0).to_unconstrained(1.0)
