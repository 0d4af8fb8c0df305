"""Checkpointed scans give the same values and gradients with less memory; truncated BPTT."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns


def _lif_loss(w, xs, **opts):
    """A leaky, thresholded recurrence with a per-step loss accumulated in the carry."""

    def f(carry, x):
        v, acc = carry
        v = 0.9 * v + w * x
        z = ns.neurons.heaviside(v - 1.0, ns.neurons.FastSigmoid(2.0))
        v = v - z
        return (v, acc + jnp.sum((v - 0.5) ** 2)), z

    (_, acc), zs = ns.train.scan(f, (jnp.zeros(3), 0.0), xs, **opts)
    return acc + jnp.sum(zs)


@pytest.mark.parametrize(
    "opts",
    [dict(checkpoint="step"), dict(checkpoint="nested"), dict(checkpoint="nested", levels=3)],
    ids=["step", "nested2", "nested3"],
)
@pytest.mark.parametrize("length", [1, 97])
def test_checkpointing_changes_nothing_but_memory(opts, length):
    xs = jax.random.uniform(jax.random.key(0), (length, 3))
    w = jnp.array([0.3, 0.5, 0.7])
    v_ref, g_ref = jax.value_and_grad(_lif_loss)(w, xs)
    v, g = jax.jit(jax.value_and_grad(lambda w_, x_: _lif_loss(w_, x_, **opts)))(w, xs)
    np.testing.assert_allclose(float(v), float(v_ref), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(g), np.asarray(g_ref), rtol=1e-5, atol=1e-6)


def test_nested_checkpointing_needs_less_memory():
    n, steps = 32, 1000
    w = jax.random.normal(jax.random.key(0), (n, n)) * 0.1

    def loss(w, ck):
        def f(carry, t):
            v, acc = carry
            v = jnp.tanh(v @ w + jnp.sin(0.01 * t))
            return (v, acc + jnp.sum(v**2)), None

        (_, acc), _ = ns.train.scan(f, (jnp.ones(n), 0.0), jnp.arange(steps), checkpoint=ck)
        return acc

    def temp_bytes(ck):
        c = jax.jit(jax.grad(lambda w_: loss(w_, ck))).lower(w).compile()
        return c.memory_analysis().temp_size_in_bytes

    plain, nested = temp_bytes(None), temp_bytes("nested")
    # Plain BPTT keeps >= one (n,) residual per step; nested keeps ~2 sqrt(T) carries.
    assert plain >= steps * n * 4
    assert nested < plain / 5


def test_scan_validation():
    with pytest.raises(ValueError, match="checkpoint must be one of"):
        ns.train.scan(lambda c, x: (c, x), 0.0, jnp.ones(3), checkpoint="every")
    with pytest.raises(ValueError, match="needs xs or length"):
        ns.train.scan(lambda c, x: (c, x), 0.0)
    with pytest.raises(ValueError, match="levels must be >= 2"):
        ns.train.scan(lambda c, x: (c, x), 0.0, jnp.ones(3), checkpoint="nested", levels=1)


def _step_loss(w, c, x):
    c = 0.8 * c + w * x
    return c, (c - 1.0) ** 2


def test_truncated_bptt_full_window_is_bptt():
    xs = jax.random.uniform(jax.random.key(1), (30,))
    w = jnp.asarray(0.4)

    def full(w_):
        return jax.lax.scan(lambda c, x: _step_loss(w_, c, x), 0.0, xs)[1].sum()

    loss, g, _ = ns.train.truncated_bptt(_step_loss, w, 0.0, xs, window=30)
    np.testing.assert_allclose(float(loss), float(full(w)), rtol=1e-6)
    np.testing.assert_allclose(float(g), float(jax.grad(full)(w)), rtol=1e-5)


@pytest.mark.parametrize("window", [1, 4, 7])
def test_truncated_bptt_matches_closed_form(window):
    """Linear recurrence c_t = a c_{t-1} + w x_t: within a window starting at s,
    dc_t/dw = sum_{s<=k<=t} a^(t-k) x_k (the carry into the window is a constant)."""
    a, T = 0.8, 23
    xs = np.asarray(jax.random.uniform(jax.random.key(2), (T,)), np.float64)
    w = 0.4
    c, grad, loss = 0.0, 0.0, 0.0
    for s in range(0, T, window):
        dc = 0.0
        for t in range(s, min(s + window, T)):
            c = a * c + w * xs[t]
            dc = a * dc + xs[t]
            loss += (c - 1.0) ** 2
            grad += 2 * (c - 1.0) * dc
    got_loss, got_g, got_c = ns.train.truncated_bptt(
        _step_loss, jnp.asarray(w), 0.0, jnp.asarray(xs, jnp.float32), window
    )
    np.testing.assert_allclose(float(got_loss), loss, rtol=1e-5)
    np.testing.assert_allclose(float(got_g), grad, rtol=1e-5)
    np.testing.assert_allclose(float(got_c), c, rtol=1e-5)


@pytest.mark.slow
def test_truncated_bptt_trains_a_model_subset():
    net = ns.train.make_snn(jax.random.key(0), [4, 8, 2])
    x = (jax.random.uniform(jax.random.key(1), (12, 4)) < 0.3).astype(jnp.float32)

    def step_loss(m, st, xt):
        st, (_, u) = m.step(st, xt, 1.0)
        return st, jnp.sum(u**2)

    loss, g, _ = ns.train.truncated_bptt(step_loss, net, net.init_state(), x, window=4)
    assert np.isfinite(float(loss))
    assert float(jnp.abs(g.readout.linear.w).sum()) > 0
    full = jax.grad(lambda m: jnp.sum(m(x, 1.0).readout ** 2))(net)
    # Truncation only drops credit carried across window boundaries through the leaky
    # states (decay exp(-1/10) and exp(-1/20) per step), so the gradients stay aligned.
    cos = ns.train.cosine_similarity(g.readout.linear.w, full.readout.linear.w)
    assert float(cos) > 0.9
