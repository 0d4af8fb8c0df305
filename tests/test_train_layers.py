"""Training layers: same code as the neuron models, all-steps input product, batching."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns

DT = 1.0


@pytest.fixture(scope="module")
def net():
    return ns.train.make_snn(jax.random.key(0), [6, 12, 9, 3], recurrent=True, bias=True)


@pytest.fixture(scope="module")
def xs():
    return (jax.random.uniform(jax.random.key(1), (30, 6)) < 0.3).astype(jnp.float32)


def test_layerwise_run_equals_stepwise_run(net, xs):
    out = eqx.filter_jit(lambda m, x: m(x, DT))(net, xs)

    @eqx.filter_jit
    def stepwise(m, x):
        def body(s, xt):
            s, (z, u) = m.step(s, xt, DT)
            return s, (z, u)

        return jax.lax.scan(body, m.init_state(), x)[1]

    zs, u = stepwise(net, xs)
    for a, b in zip(out.spikes, zs, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_allclose(np.asarray(out.readout), np.asarray(u), rtol=1e-5, atol=1e-4)
    assert float(jnp.sum(out.spikes[0])) > 0  # active, so the comparison means something


def test_layer_is_the_neuron_model_step():
    """A SpikingLayer = exponential current (closed form) fed to LIF.step, nothing else."""
    lif = ns.neurons.LIF(4, tau_m=10.0, e_l=-65.0, v_th=-50.0, v_reset=-65.0, t_ref=3.0)
    layer = ns.train.SpikingLayer(5, lif, key=jax.random.key(2), tau_syn=5.0, weight_gain=3.0)
    xs = (jax.random.uniform(jax.random.key(3), (40, 5)) < 0.4).astype(jnp.float32)
    _, z, v = layer(xs, DT)
    w = np.asarray(layer.linear.weight, np.float64)
    st = lif.init(jax.random.key(0), DT)
    i_syn = np.zeros(4)
    for t in range(40):
        i_syn = i_syn * np.exp(-DT / 5.0) + np.asarray(xs[t]) @ w
        drive = ns.neurons.SynapticDrive(0.0, jnp.asarray(i_syn, jnp.float32))
        st, zt = lif.step(st, drive, 0, DT, None)
        np.testing.assert_array_equal(np.asarray(zt), np.asarray(z[t]))
        np.testing.assert_allclose(np.asarray(st["v"]), np.asarray(v[t]), atol=1e-3)
    assert float(jnp.sum(z)) > 0


def test_vmap_batch_equals_loop(net, xs):
    batch = jnp.stack([xs, xs[::-1], jnp.roll(xs, 3, axis=0)])
    run = eqx.filter_jit(lambda m, x: m(x, DT).readout)
    out = eqx.filter_jit(jax.vmap(run, in_axes=(None, 0)))(net, batch)
    for i in range(3):
        np.testing.assert_allclose(
            np.asarray(out[i]), np.asarray(run(net, batch[i])), rtol=1e-5, atol=1e-4
        )


@pytest.mark.parametrize("tau_m,tau_syn", [(10.0, 5.0), (20.0, 2.0), (10.0, None)])
def test_psp_peak_matches_simulation(tau_m, tau_syn):
    """One input spike of w pA into a non-firing LIF: peak deflection = psp_peak w / g_l."""
    dt = 0.01 if tau_syn is not None else 1.0
    lif = ns.neurons.LIF(1, tau_m=tau_m, e_l=-65.0, v_th=0.0, v_reset=-65.0, g_l=10.0, t_ref=0.0)
    layer = ns.train.SpikingLayer(1, lif, key=jax.random.key(0), tau_syn=tau_syn, weight_std=100.0)
    n = int(5 * tau_m / dt)
    xs = jnp.zeros((n, 1)).at[0, 0].set(1.0)
    _, _, v = layer(xs, dt)
    w = float(layer.linear.weight[0, 0])
    expected = ns.train.psp_peak(tau_m, tau_syn, dt) * w / 10.0
    # Exact integration of v; with a current sampled per step the synaptic input is a step
    # approximation of the exponential: error O(dt / tau_syn) relative.
    rtol = 1e-4 if tau_syn is None else 2 * dt / tau_syn
    np.testing.assert_allclose(float(jnp.max(jnp.abs(v + 65.0))), abs(expected), rtol=rtol)


def test_gradients_reach_every_weight(net, xs):
    g = eqx.filter_jit(eqx.filter_grad(lambda m: jnp.sum(jnp.max(m(xs, DT).readout, 0))))(net)
    for arr in (g.layers[0].linear.w, g.layers[0].recurrent.w, g.layers[1].linear.w,
                g.readout.linear.w, g.layers[0].linear.b):  # fmt: skip
        assert np.all(np.isfinite(np.asarray(arr)))
        assert float(jnp.abs(arr).sum()) > 0


def test_construction_errors():
    with pytest.raises(ValueError, match="needs at least an input and an output"):
        ns.train.make_snn(jax.random.key(0), [3])
    with pytest.raises(ValueError, match="tau_syn must be > 0"):
        ns.train.SpikingLayer(3, ns.train.default_neuron(2), key=jax.random.key(0), tau_syn=0.0)
    with pytest.raises(ValueError, match="neuron must be a neurosim neuron"):
        ns.train.SpikingLayer(3, object(), key=jax.random.key(0))
    with pytest.raises(ValueError, match="pass weight_std"):
        ns.train.SpikingLayer(3, ns.neurons.TraubMiles(2), key=jax.random.key(0))
