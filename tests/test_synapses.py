"""Synaptic kinetics: exact exponential decay, merging of receptors, output rules."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns


def test_exponential_decay_is_exact():
    syn = ns.synapses.Exponential(tau=5.0)
    st = syn.add(syn.bind(3).init(None, 0.1), jnp.array([1.0, 2.0, 4.0]))

    def body(s, _):
        s = syn.decay(s, 0.1)
        return s, s["g"]

    _, g = jax.lax.scan(body, st, None, length=500)
    t = 0.1 * np.arange(1, 501)[:, None]
    expected = np.array([1.0, 2.0, 4.0]) * np.exp(-t / 5.0)
    # float32: each step multiplies by exp(-dt/tau) rounded to ~6e-8 relative.
    np.testing.assert_allclose(np.asarray(g), expected, rtol=500 * 1.2e-7)


def test_coba_and_cuba_drive():
    g = jnp.array([2.0, 0.0])
    d = ns.synapses.COBA(e_rev=-80.0).drive(g)
    np.testing.assert_allclose(
        np.asarray(d.at(jnp.array([-60.0, -60.0]))), [2.0 * (-80.0 + 60.0), 0.0]
    )
    c = ns.synapses.CUBA().drive(g)
    np.testing.assert_allclose(np.asarray(c.at(jnp.array([-60.0, 10.0]))), [2.0, 0.0])


def test_tau_must_be_positive():
    with pytest.raises(ValueError, match="tau"):
        ns.synapses.Exponential(tau=0.0)


def test_projections_with_equal_kinetics_share_a_receptor():
    b = ns.NetworkBuilder()
    b.add_population("A", ns.neurons.PoissonSource(10, rate=5.0))
    b.add_population("B", ns.neurons.PoissonSource(10, rate=5.0))
    b.add_population("C", ns.neurons.LIF(5))
    gen = ns.connectivity.FixedProbability(0.5)
    b.connect(
        "A",
        "C",
        gen,
        weight=1.0,
        synapse=ns.synapses.Exponential(5.0),
        output=ns.synapses.COBA(0.0),
    )
    b.connect(
        "B",
        "C",
        gen,
        weight=1.0,
        synapse=ns.synapses.Exponential(5.0),
        output=ns.synapses.COBA(0.0),
    )
    b.connect(
        "B",
        "C",
        gen,
        weight=1.0,
        synapse=ns.synapses.Exponential(10.0),
        output=ns.synapses.COBA(-80.0),
        name="inh",
    )
    net = b.build()
    assert len(net.populations[2].receptors) == 2
    with pytest.raises(ValueError, match="receptor"):
        b.connect("A", "C", gen, weight=1.0, synapse=ns.synapses.Exponential(7.0), receptor="syn0")
