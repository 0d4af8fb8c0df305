"""e-prop: exact without recurrence, aligned with BPTT with it, and it trains."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import neurosim as ns

T, DT = 30, 1.0


def _mse(u, t):
    return 0.5 * jnp.sum((u - t) ** 2)


def _alif(n):
    return ns.neurons.ALIF(
        n, tau_m=10.0, e_l=-65.0, v_th=-50.0, v_reset=-65.0, t_ref=0.0, beta=3.0, tau_a=50.0,
        surrogate=ns.neurons.FastSigmoid(10 / 15, amplitude=1 / 15),
    )  # fmt: skip


def _problem(recurrent, neuron, seed=0):
    net = ns.train.make_snn(
        jax.random.key(seed), [8, 24, 3], recurrent=recurrent, neuron=neuron, weight_gain=1.5
    )
    x = (jax.random.uniform(jax.random.key(seed + 1), (T, 8)) < 0.15).astype(jnp.float32)
    y = 3.0 * jnp.sin(jnp.arange(T)[:, None] / 4.0 + jnp.arange(3))
    return net, x, y


@eqx.filter_jit
def _both(net, x, y):
    loss_e, g_e = ns.train.eprop_grad(net, x, y, DT, _mse)

    def bptt(m):
        return jnp.sum(jax.vmap(_mse)(m(x, DT).readout, y))

    loss_b, g_b = eqx.filter_value_and_grad(bptt)(net)
    return loss_e, g_e, loss_b, g_b


def _weights(g, recurrent):
    out = {"in": g.layers[0].linear.w, "out": g.readout.linear.w}
    if recurrent:
        out["rec"] = g.layers[0].recurrent.w
    return out


@pytest.mark.parametrize("neuron", [ns.train.default_neuron, _alif], ids=["LIF", "ALIF"])
def test_eprop_equals_bptt_without_recurrent_weights(neuron):
    """Without recurrence the only paths from a weight to the loss run through the neuron's
    own state and the readout, which e-prop's eligibility traces track exactly."""
    net, x, y = _problem(False, neuron)
    loss_e, g_e, loss_b, g_b = _both(net, x, y)
    np.testing.assert_allclose(float(loss_e), float(loss_b), rtol=1e-5)
    assert float(jnp.sum(net(x, DT).spikes[0])) > 10
    for k, a in _weights(g_e, False).items():
        b = _weights(g_b, False)[k]
        # float32 sums over T steps of products of O(1) terms: ~1e-6 relative per term.
        np.testing.assert_allclose(
            np.asarray(a), np.asarray(b), rtol=1e-3, atol=1e-4 * float(jnp.abs(b).max()), err_msg=k
        )  # noqa: E501


@pytest.mark.slow
@pytest.mark.parametrize("neuron", [ns.train.default_neuron, _alif], ids=["LIF", "ALIF"])
def test_eprop_aligns_with_bptt_in_a_recurrent_network(neuron):
    """Bellec et al. 2020 report e-prop/BPTT gradient alignment on short sequences; the issue
    asks for a cosine similarity >= 0.8 (benchmarks/eprop_alignment.py measures 0.96-0.99)."""
    cos = []
    for seed in range(3):
        net, x, y = _problem(True, neuron, seed)
        _, g_e, _, g_b = _both(net, x, y)
        we, wb = _weights(g_e, True), _weights(g_b, True)
        np.testing.assert_allclose(
            np.asarray(we["out"]), np.asarray(wb["out"]), rtol=1e-3, atol=1e-3
        )  # noqa: E501
        cos.append(float(ns.train.cosine_similarity((we["in"], we["rec"]), (wb["in"], wb["rec"]))))
    assert min(cos) >= 0.8, cos


@pytest.mark.slow
def test_random_feedback_keeps_readout_exact_and_changes_hidden():
    net, x, y = _problem(True, ns.train.default_neuron)
    b = ns.train.random_feedback(jax.random.key(7), 24, 3)
    _, g_sym = ns.train.eprop_grad(net, x, y, DT, _mse)
    _, g_rnd = ns.train.eprop_grad(net, x, y, DT, _mse, feedback=b)
    np.testing.assert_allclose(
        np.asarray(g_rnd.readout.linear.w), np.asarray(g_sym.readout.linear.w), rtol=1e-6
    )  # noqa: E501
    assert (
        float(ns.train.cosine_similarity(g_rnd.layers[0].linear.w, g_sym.layers[0].linear.w)) < 0.99
    )
    with pytest.raises(ValueError, match="feedback must have shape"):
        ns.train.eprop_grad(net, x, y, DT, _mse, feedback=jnp.ones((3, 24)))


def test_eprop_trains_through_the_train_step():
    net, x, y = _problem(True, ns.train.default_neuron)
    batch = (jnp.stack([x, x[::-1]]), jnp.stack([y, y]))
    spec = ns.train.trainable(
        net, lambda m: (m.layers[0].linear, m.layers[0].recurrent, m.readout.linear)
    )  # noqa: E501
    opt = optax.adam(5e-2)
    step = ns.train.make_train_step(
        None, opt, filter_spec=spec, grad_fn=ns.train.make_eprop_grad_fn(DT, _mse)
    )
    state = ns.train.init_opt_state(opt, net, spec)
    losses = []
    for i in range(15):
        net, state, loss, _ = step(net, state, batch, jax.random.key(i))
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0], losses


def test_eprop_rejects_unsupported_models():
    two_layers = ns.train.make_snn(jax.random.key(0), [4, 5, 5, 2])
    with pytest.raises(ValueError, match="one \\(recurrent\\) spiking layer"):
        ns.train.eprop_grad(two_layers, jnp.zeros((5, 4)), jnp.zeros((5, 2)), DT, _mse)
    filtered = ns.train.make_snn(jax.random.key(0), [4, 5, 2], readout_tau_syn=5.0)
    with pytest.raises(ValueError, match="without synaptic filter"):
        ns.train.eprop_grad(filtered, jnp.zeros((5, 4)), jnp.zeros((5, 2)), DT, _mse)
