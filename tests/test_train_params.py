"""Parameter subsets, range transforms and the compiled train step / fit loop."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import neurosim as ns

DT = 1.0


def test_transforms_round_trip_and_stay_in_range():
    p = ns.train.Positive(jnp.array([0.5, 20.0, 300.0]), lower=0.1)
    np.testing.assert_allclose(np.asarray(p.value), [0.5, 20.0, 300.0], rtol=1e-5)
    b = ns.train.Bounded(jnp.array([-59.0, -50.0]), low=-60.0, high=-40.0)
    np.testing.assert_allclose(np.asarray(b.value), [-59.0, -50.0], rtol=1e-5)
    # Whatever an optimiser does to raw, the value stays in range.
    for raw in (-1e4, -30.0, 0.0, 30.0, 1e4):
        assert float(eqx.tree_at(lambda q: q.raw, p, jnp.full(3, raw)).value.min()) >= 0.1
        v = eqx.tree_at(lambda q: q.raw, b, jnp.full(2, raw)).value
        assert -60.0 <= float(v.min()) and float(v.max()) <= -40.0
    with pytest.raises(ValueError, match="strictly inside"):
        ns.train.Bounded(-70.0, -60.0, -40.0)
    with pytest.raises(ValueError, match="must be > lower"):
        ns.train.Positive(0.0)


def test_constrain_unwrap_and_trainable_subset():
    net = ns.train.make_snn(jax.random.key(0), [4, 6, 2])
    net = ns.train.constrain(net, lambda m: m.layers[0].neuron.tau_m, low=1.0, high=100.0)
    assert isinstance(net.layers[0].neuron.tau_m, ns.train.Bounded)
    plain = ns.train.unwrap(net)
    np.testing.assert_allclose(np.asarray(plain.layers[0].neuron.tau_m), 10.0, rtol=1e-5)
    assert ns.train.unwrap(plain) is not None  # idempotent on unconstrained trees
    spec = ns.train.trainable(net, lambda m: (m.layers[0].linear, m.layers[0].neuron.tau_m))
    params, _ = eqx.partition(net, spec)
    leaves = jax.tree.leaves(params)
    assert len(leaves) == 2  # w and the raw tau_m; nothing else
    assert ns.train.trainable(net) is not None


def _task():
    key = jax.random.key(3)
    x = (jax.random.uniform(key, (16, 20, 4)) < 0.2).astype(jnp.float32)
    y = (jnp.sum(x[:, :, 0], 1) > jnp.sum(x[:, :, 1], 1)).astype(jnp.int32)
    return x, y


def _loss(m, batch, key):
    x, y = batch
    u = jax.vmap(lambda xi: m(xi, DT).readout)(x)
    return ns.train.max_membrane_cross_entropy(u, y)


def test_train_step_updates_only_the_subset_and_respects_bounds():
    net = ns.train.make_snn(jax.random.key(0), [4, 8, 2])
    net = ns.train.constrain(net, lambda m: m.layers[0].neuron.tau_m, low=5.0, high=30.0)
    spec = ns.train.trainable(net, lambda m: (m.layers[0].neuron.tau_m, m.readout.linear))
    opt = optax.sgd(1e4)  # absurd steps: the bound must still hold
    step = ns.train.make_train_step(_loss, opt, filter_spec=spec)
    state = ns.train.init_opt_state(opt, net, spec)
    new, state, loss, _ = step(net, state, _task(), jax.random.key(0))
    np.testing.assert_array_equal(
        np.asarray(new.layers[0].linear.w), np.asarray(net.layers[0].linear.w)
    )  # noqa: E501
    assert not np.allclose(np.asarray(new.readout.linear.w), np.asarray(net.readout.linear.w))
    tau = np.asarray(ns.train.unwrap(new).layers[0].neuron.tau_m)
    assert np.all((tau >= 5.0) & (tau <= 30.0))
    assert not np.allclose(tau, 10.0)


@pytest.mark.slow
def test_fit_reduces_the_loss_and_reports_history():
    net = ns.train.make_snn(jax.random.key(0), [4, 16, 2], weight_gain=2.0)
    spec = ns.train.trainable(net, lambda m: (m.layers[0].linear, m.readout.linear))
    x, y = _task()
    logs = []
    train_loss = eqx.filter_jit(lambda m: _loss(m, (x, y), None))
    net, hist = ns.train.fit(
        net, _loss, optax.adam(2e-2), (x, y), epochs=12, batch_size=8, key=jax.random.key(1),
        filter_spec=spec, eval_fn=lambda m: {"train_loss": train_loss(m)}, log=logs.append,
    )  # fmt: skip
    assert [h["epoch"] for h in hist] == list(range(1, 13)) and logs == hist
    assert hist[-1]["train_loss"] < 0.7 * hist[0]["train_loss"]
    with pytest.raises(ValueError, match="larger than the 16 training samples"):
        ns.train.fit(
            net, _loss, optax.adam(1e-3), (x, y), epochs=1, batch_size=32, key=jax.random.key(0)
        )  # noqa: E501


def test_predict_batched_pads_and_crops():
    x = jnp.arange(10.0)[:, None]
    out = ns.train.predict_batched(lambda b: 2 * b[:, 0], x, batch_size=4)
    np.testing.assert_array_equal(np.asarray(out), 2 * np.arange(10.0))


def test_train_step_validation():
    with pytest.raises(ValueError, match="exactly one of loss_fn and grad_fn"):
        ns.train.make_train_step(None, optax.adam(1e-3))
