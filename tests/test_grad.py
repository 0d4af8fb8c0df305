"""Gradients through simulations: finite differences on a smooth run; finiteness through spikes."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import neurosim as ns

DT = 0.1


def _mean_v(i_e, tau_m):
    b = ns.NetworkBuilder()
    b.add_population(
        "N", ns.neurons.LIF(3, tau_m=tau_m, i_e=i_e, e_l=-65.0, v_th=0.0, v_init=-70.0)
    )
    net = b.build()
    s0 = net.init_state(jax.random.key(0), DT)
    _, out = ns.run(net, s0, 200, DT, key=jax.random.key(1), record=["N.v"])
    return jnp.mean(out.traces["N.v"])


def test_grad_matches_finite_differences():
    with jax.enable_x64(True):
        x = (jnp.asarray(120.0), jnp.asarray(15.0))  # pA, ms: stays far below threshold
        g = jax.grad(_mean_v, argnums=(0, 1))(*x)
        f = jax.jit(_mean_v)
        for i, h in ((0, 1e-2), (1, 1e-4)):
            xp, xm = list(x), list(x)
            xp[i], xm[i] = x[i] + h, x[i] - h
            fd = (f(*xp) - f(*xm)) / (2 * h)
            # Central differences: truncation O(h^2 f''') and rounding ~1e-16/h, both << 1e-6.
            np.testing.assert_allclose(float(g[i]), float(fd), rtol=1e-6)
        assert float(g[0]) > 0 and float(g[1]) < 0


def test_gradient_through_spiking_run_is_finite_and_nonzero(small_coba):
    s0 = small_coba.init_state(jax.random.key(0), DT)

    def loss(w_exc, i_e):
        net = eqx.tree_at(lambda n: n.projections[0].conn.weights, small_coba, w_exc)
        net = eqx.tree_at(lambda n: n.populations[0].neuron.i_e, net, jnp.full((80,), i_e))
        _, out = ns.run(net, s0, 20, DT, key=jax.random.key(1))
        return jnp.sum(out.spikes["P"])

    w0 = small_coba.projections[0].conn.weights
    val, grads = jax.value_and_grad(loss, argnums=(0, 1))(w0, jnp.asarray(200.0))
    assert float(val) > 0
    for gr in grads:
        assert np.all(np.isfinite(np.asarray(gr)))
        assert float(jnp.abs(gr)) > 0
