"""Plastic projections inside networks: groups, delays, event vs dense updates, gradients."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns


def _recurrent(update, key=0):
    b = ns.NetworkBuilder(key=jax.random.key(key))
    b.add_population("drive", ns.neurons.PoissonSource(30, rate=400.0))
    b.add_population(
        "P",
        ns.neurons.LIF(50, tau_m=10.0, v_init=ns.init.Uniform(-65.0, -52.0)),
        groups={"E": 40, "I": 10},
    )
    b.connect(
        "drive",
        "P",
        ns.connectivity.FixedProbability(0.3),
        weight=3.0,
        synapse=ns.synapses.Exponential(5.0),
        output=ns.synapses.COBA(0.0),
    )
    b.connect(
        "E",
        "P",
        ns.connectivity.FixedProbability(0.2),
        weight=1.0,
        synapse=ns.synapses.Exponential(5.0),
        output=ns.synapses.COBA(0.0),
        delay=1.5,
        dynamics=ns.plasticity.TsodyksMarkram(U=0.3, tau_rec=200.0, tau_facil=50.0),
        name="E_stp",
    )
    b.connect(
        "E",
        "E",
        ns.connectivity.FixedProbability(0.2),
        weight=0.5,
        synapse=ns.synapses.Exponential(5.0),
        output=ns.synapses.COBA(0.0),
        delay=0.5,
        dynamics=ns.plasticity.TripletSTDP(
            a2_plus=0.05, a3_plus=0.05, a2_minus=0.05, a3_minus=0.01, w_max=1.0, update=update
        ),
        name="E_stdp",
    )
    b.connect(
        "I",
        "P",
        ns.connectivity.FixedProbability(0.3),
        weight=4.0,
        synapse=ns.synapses.Exponential(10.0),
        output=ns.synapses.COBA(-80.0),
    )
    return b.build()


def _simulate_recurrent(update):
    net = _recurrent(update)
    res = ns.simulate(net, 150.0, 0.1, key=jax.random.key(1))
    return res, np.asarray(ns.plasticity.plastic_weights(net, res.final_state, "E_stdp"))


def test_recurrent_network_with_groups_and_delays():
    """STP (E -> P, delay 1.5 ms) and triplet STDP (E -> E, delay 0.5 ms) on group slices of
    one population, through simulate: runs clean, E is active, weights move within bounds."""
    res, w = _simulate_recurrent("event")
    assert res.ok
    assert res.spikes("E")[0].size > 100, "E must be active for STDP to act"
    w0 = np.asarray(_recurrent("event").projections[2].conn.synapse_weights())
    assert np.abs(w - w0).max() > 0.05
    assert w.min() >= 0.0 and w.max() <= 1.0


@pytest.mark.slow
def test_recurrent_network_event_equals_dense():
    (r_e, w_e), (r_d, w_d) = _simulate_recurrent("event"), _simulate_recurrent("dense")
    np.testing.assert_array_equal(r_e.spike_indices, r_d.spike_indices)
    # same arithmetic in both paths, elementwise: equal up to float32 re-association
    np.testing.assert_allclose(w_e, w_d, rtol=1e-6, atol=1e-7)


def _driven(update):
    b = ns.NetworkBuilder(key=jax.random.key(3))
    b.add_population("src", ns.neurons.PoissonSource(8, rate=250.0))
    b.add_population("N", ns.neurons.LIF(4, tau_m=10.0, i_e=500.0, t_ref=2.0, v_init=-52.0))
    b.connect(
        "src",
        "N",
        ns.connectivity.FixedProbability(0.7),
        weight=0.5,
        synapse=ns.synapses.Exponential(2.0),
        name="plastic",
        dynamics=ns.plasticity.PairSTDP(
            a_plus=0.02, a_minus=0.015, w_max=2.0, mu_minus=1.0, update=update
        ),
    )
    b.connect(
        "src",
        "N",
        ns.connectivity.FixedProbability(0.5),
        weight=5.0,
        synapse=ns.synapses.Exponential(3.0),
        name="short",
        dynamics=ns.plasticity.TsodyksMarkram(U=0.4, tau_rec=50.0, tau_facil=20.0),
    )
    return b.build()


def _value_and_grad(update, dt=0.5, n_steps=20):
    net = _driven(update)
    s0 = net.init_state(jax.random.key(0), dt)

    def loss(net):
        st, out = ns.run(net, s0, n_steps, dt, key=jax.random.key(1))
        w = ns.plasticity.plastic_weights(net, st, "plastic")
        n_spk = (out.spikes["N"].sum(), out.spikes["src"].sum())
        return jnp.sum(w) + 1e-3 * jnp.sum(st.neurons[1]["v"]), n_spk

    vg = eqx.filter_jit(eqx.filter_value_and_grad(loss, has_aux=True))
    return net, vg


def test_gradients_through_plastic_projections():
    """grad of the final plastic weights (and voltages) through 20 steps of a network with
    event-driven STDP and STP: finite, and equal to a central difference in a_plus (float64;
    spikes stay fixed under the small perturbation)."""
    with jax.enable_x64(True):
        net, vg = _value_and_grad("event")
        (_, n_spk), g = vg(net)
        assert n_spk[0] > 4 and n_spk[1] > 4
        g_ap = float(g.projections[0].dynamics.a_plus)
        assert np.isfinite(g_ap) and g_ap != 0.0
        assert all(np.all(np.isfinite(np.asarray(x))) for x in jax.tree.leaves(g))

        def f(a_plus):  # same structure: the compiled function is reused
            net_a = eqx.tree_at(lambda n: n.projections[0].dynamics.a_plus, net, a_plus)
            return float(vg(net_a)[0][0])

        h = 1e-6
        fd = (f(jnp.float64(0.02 + h)) - f(jnp.float64(0.02 - h))) / (2 * h)
        np.testing.assert_allclose(g_ap, fd, rtol=1e-5)


@pytest.mark.slow
def test_event_and_dense_updates_have_equal_gradients():
    with jax.enable_x64(True):
        grads = []
        for update in ("event", "dense"):
            net, vg = _value_and_grad(update)
            grads.append(vg(net)[1])
        for a, b in zip(*(jax.tree.leaves(g) for g in grads), strict=True):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-9, atol=1e-12)
