"""Receptor presets, the Jahr–Stevens Mg block, and kinetics/output pairing in the builder."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns


def test_mg_block_matches_jahr_stevens_formula():
    v = np.linspace(-100.0, 40.0, 141)
    for mg in (0.5, 1.0, 2.0):
        expected = 1.0 / (1.0 + mg / 3.57 * np.exp(-0.062 * v))
        got = np.asarray(ns.synapses.mg_block(jnp.asarray(v), mg))
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(np.asarray(ns.synapses.mg_block(jnp.asarray(v), 0.0)), 1.0)
    # No overflow or NaN far from physiology, and a finite derivative there.
    assert float(ns.synapses.mg_block(-5000.0)) == 0.0
    assert np.isfinite(float(jax.grad(ns.synapses.mg_block)(-5000.0)))


def test_mg_block_output_scales_conductance_at_given_potential():
    out = ns.synapses.MgBlock(e_rev=0.0, mg=1.0)
    g, v = jnp.array([2.0, 2.0]), jnp.array([-70.0, -20.0])
    d = out.drive(g, v)
    b = 1.0 / (1.0 + np.exp(-0.062 * np.array([-70.0, -20.0])) / 3.57)
    np.testing.assert_allclose(np.asarray(d.conductance), 2.0 * b, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(d.at(v)), 2.0 * b * (0.0 - np.asarray(v)), rtol=1e-6)
    with pytest.raises(ValueError, match="membrane potential"):
        out.drive(g)


def test_presets_carry_the_cited_parameters():
    ampa, gaba_a, gaba_b, nmda = (
        ns.synapses.AMPA(),
        ns.synapses.GABA_A(),
        ns.synapses.GABA_B(),
        ns.synapses.NMDA(),
    )
    # Brunel & Wang (2001): AMPA 2 ms / 0 mV, GABA_A 5 ms / -70 mV, NMDA 2/100 ms, 1 mM Mg.
    assert isinstance(ampa.kinetics, ns.synapses.Exponential) and float(ampa.kinetics.tau) == 2.0
    assert float(ampa.output.e_rev) == 0.0 and ampa.name == "AMPA"
    assert float(gaba_a.kinetics.tau) == 5.0 and float(gaba_a.output.e_rev) == -70.0
    assert isinstance(nmda.output, ns.synapses.MgBlock) and float(nmda.output.mg) == 1.0
    assert (float(nmda.kinetics.tau_rise), float(nmda.kinetics.tau_decay)) == (2.0, 100.0)
    # Hill & Tononi (2005): GABA_B rise 60 ms, decay 200 ms, -90 mV.
    assert (float(gaba_b.kinetics.tau_rise), float(gaba_b.kinetics.tau_decay)) == (60.0, 200.0)
    assert float(gaba_b.output.e_rev) == -90.0
    ampa2 = ns.synapses.AMPA(tau_rise=0.5, tau_decay=2.4)
    assert isinstance(ampa2.kinetics, ns.synapses.DualExponential)


def _builder():
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("S", ns.neurons.PoissonSource(20, rate=10.0))
    b.add_population("E", ns.neurons.LIF(10))
    return b


def test_presets_name_and_merge_receptors():
    b = _builder()
    gen = ns.connectivity.FixedProbability(0.3)
    b.connect("S", "E", gen, weight=1.0, synapse=ns.synapses.AMPA())
    b.connect("E", "E", gen, weight=1.0, synapse=ns.synapses.AMPA())  # merged
    b.connect("E", "E", gen, weight=0.5, synapse=ns.synapses.NMDA())
    b.connect("S", "E", gen, weight=0.5, synapse=ns.synapses.NMDA(mg=2.0))  # other params
    b.connect("S", "E", gen, weight=0.5, synapse=ns.synapses.Delta())
    net = b.build()
    names = [r.name for r in net.populations[1].receptors]
    assert names == ["AMPA", "NMDA", "syn2", "syn3"]
    assert isinstance(net.populations[1].receptors[3].output, ns.synapses.VoltageJump)
    s0 = net.init_state(jax.random.key(1), 0.1)
    _, out = ns.run(net, s0, 5, 0.1, key=jax.random.key(2), record=["E.NMDA.g", "E.AMPA.g"])
    assert out.traces["E.NMDA.g"].shape == (5, 10)


class _NoVoltage(ns.neurons.AbstractNeuron):
    n: int = 3

    def init(self, key, dt):
        return {"u": jnp.zeros((self.n,))}

    def step(self, state, drive, i, dt, key):
        return state, jnp.zeros((self.n,))


def test_incompatible_pairings_raise():
    b = _builder()
    b.add_population("U", _NoVoltage())
    gen = ns.connectivity.FixedProbability(0.3)
    cases = [
        (dict(synapse=ns.synapses.Delta(), output=ns.synapses.COBA(0.0)), "VoltageJump"),
        (dict(synapse=ns.synapses.Exponential(5.0), output=ns.synapses.VoltageJump()), "Delta"),
        (dict(synapse=ns.synapses.AMPA(), output=ns.synapses.CUBA()), "preset"),
        (dict(synapse=5.0), "kinetics object"),
        (dict(synapse=ns.synapses.Exponential(5.0), output="coba"), "output rule"),
    ]
    for kw, match in cases:
        with pytest.raises(ValueError, match=match):
            b.connect("S", "E", gen, weight=1.0, **kw)
    with pytest.raises(ValueError, match="'v'"):
        b.connect("S", "U", gen, weight=1.0, synapse=ns.synapses.NMDA())


def test_gradient_through_mg_block_matches_finite_difference():
    """d v / d [Mg] through run(): B(v) is evaluated on the traced potential, so it is smooth."""

    def final_v(mg):
        b = ns.NetworkBuilder(key=jax.random.key(0))
        b.add_population("pre", ns.neurons.LIF(1, v_init=0.0, t_ref=1e4))
        b.add_population("post", ns.neurons.LIF(2, v_th=0.0, v_init=-40.0, i_e=250.0))
        b.connect(
            "pre", "post", ns.connectivity.from_dense([[20.0, 20.0]]), synapse=ns.synapses.NMDA()
        )
        net = b.build()
        net = eqx.tree_at(lambda m: m.populations[1].receptors[0].output.mg, net, mg)
        st, _ = ns.run(net, net.init_state(jax.random.key(1), 0.1), 20, 0.1, key=jax.random.key(2))
        return st.neurons[1]["v"].sum()

    with jax.enable_x64(True):
        mg = jnp.asarray(1.0)
        grad = float(jax.grad(final_v)(mg))
        fd = float((final_v(mg + 1e-5) - final_v(mg - 1e-5)) / 2e-5)
    assert grad < 0  # more Mg, more block, less depolarisation
    np.testing.assert_allclose(grad, fd, rtol=1e-5)
