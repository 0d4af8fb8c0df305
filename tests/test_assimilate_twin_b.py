"""Twin (b): ScaledConductance, dtb_network's receptor presets, SpikingTwin, the experiment."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns

warnings.filterwarnings("ignore", category=ns.network.DelayRoundingWarning)


def _con(R=3):
    W = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.2], [0.5, 0.2, 0.0]])[:R, :R]
    return ns.connectome.Connectome(W, centres=np.arange(R)[:, None] * np.array([[20.0, 0, 0]]))


def _twin(R=3, n=40, estimate=("AMPA",)):
    return ns.assimilate.SpikingTwin(_con(R), n, 100.0, estimate, k_e=8, k_i=2, k_ext=4)


@pytest.mark.parametrize("inner", [ns.synapses.COBA(-70.0), ns.synapses.MgBlock(0.0, mg=1.0)])
def test_scaled_conductance_is_gain_times_inner(inner):
    g = jnp.array([0.5, 1.0, 2.0])
    v = jnp.array([-65.0, -55.0, -40.0])
    gain = jnp.array([0.0, 1.5, 3.0])
    d = ns.synapses.ScaledConductance(inner, gain).drive(g, v)
    ref = inner.drive(g, v if inner.needs_voltage else None)
    np.testing.assert_allclose(d.conductance, gain * ref.conductance, rtol=1e-6)
    np.testing.assert_allclose(d.current, gain * ref.current, rtol=1e-6)


def test_scaled_conductance_refuses_bad_input():
    with pytest.raises(ValueError, match="inner must be a conductance output"):
        ns.synapses.ScaledConductance(ns.synapses.CUBA(), jnp.ones(2))
    with pytest.raises(ValueError, match="gain"):
        ns.synapses.ScaledConductance(ns.synapses.COBA(0.0), jnp.array([1.0, -1.0]))


def test_dtb_network_four_receptors_weights_and_names():
    rec = {"E": ((ns.synapses.AMPA(), 2.0), (ns.synapses.NMDA(), 0.5)),
           "I": ((ns.synapses.GABA_A(), 1.0), (ns.synapses.GABA_B(), 0.1))}  # fmt: skip
    kw = dict(neurons_per_region=40, k_e=8, k_i=2, k_ext=4, w_e=0.2, w_i=6.0)
    four = ns.connectome.dtb_network(_con(), receptors=rec, **kw)
    base = ns.connectome.dtb_network(_con(), **kw)
    names = {p.name: p for p in four.network.projections}
    assert set(names) == {f"{a}_{r}" for a, r in [("local_E", "AMPA"), ("local_E", "NMDA"),
        ("long_range", "AMPA"), ("long_range", "NMDA"), ("local_I", "GABA_A"),
        ("local_I", "GABA_B")]}  # fmt: skip
    old = {p.name: p for p in base.network.projections}
    # same wiring, weights scaled (the wiring draws do not depend on the receptors)
    for new, ref, s in [("local_E_NMDA", "local_E", 0.5), ("long_range_AMPA", "long_range", 2.0),
                        ("local_I_GABA_B", "local_I", 0.1)]:  # fmt: skip
        a, b = names[new].conn, old[ref].conn
        np.testing.assert_array_equal(np.asarray(a.indices), np.asarray(b.indices))
        np.testing.assert_allclose(np.asarray(a.weights), s * np.asarray(b.weights), rtol=1e-6)
    with pytest.raises(ValueError, match="receptors"):
        ns.connectome.dtb_network(_con(), receptors={"E": ()}, **kw)


@pytest.mark.slow  # ~25 s on the loaded 2-core VM (Gamma sampler and network compile)
def test_member_gains_are_hyper_times_gamma_with_gamma_mean_one():
    tw = _twin(n=600)
    h = jnp.array([[0.7, 1.0, 1.3]])
    m = tw.init_member(jax.random.key(0), h, jax.random.key(1))
    gam = np.asarray(m["gamma"])  # (4 receptors, 1800 neurons), Gamma(5, 1/5)
    n = gam.size
    assert abs(gam.mean() - 1.0) < 4 * np.sqrt(0.2 / n)
    assert abs(gam.var() - 0.2) < 0.03  # var of Gamma(5, 1/5) = 5 / 25
    net = tw.network(m)
    recs = net.populations[0].receptors
    k_ampa = [r.name for r in recs].index("AMPA")
    k_gb = [r.name for r in recs].index("GABA_B")
    region = np.asarray(tw.layout.region_of)
    j_ampa = ns.assimilate.RECEPTORS.index("AMPA")
    j_gb = ns.assimilate.RECEPTORS.index("GABA_B")
    np.testing.assert_allclose(np.asarray(recs[k_ampa].output.gain),
                               np.asarray(h[0])[region] * gam[j_ampa], rtol=1e-5)  # fmt: skip
    # a receptor that is not estimated keeps hyperparameter 1: gain = its gamma factor
    np.testing.assert_allclose(np.asarray(recs[k_gb].output.gain), gam[j_gb], rtol=1e-6)


@pytest.mark.slow  # ~25 s on the loaded 2-core VM (Gamma sampler and network compile)
def test_analysis_updates_parameters_and_haemodynamics_only():
    tw = _twin()
    m = tw.init_member(jax.random.key(0), jnp.ones((1, 3)), jax.random.key(1))
    m = {**m, "bold": ns.bold.steady_state(tw.bw, jnp.full(3, 5.0))[0]}  # BOLD away from rest
    x = tw.get(m)
    assert x.shape == (3 + 4 * 3,)
    x2 = x + 0.01 * (1 + jnp.arange(x.size))
    m2 = tw.put(m, x2)
    np.testing.assert_allclose(tw.get(m2), x2, rtol=1e-6)  # every slot written back
    same = jax.tree.map(lambda a, b: bool(jnp.array_equal(a, b)), m["net"], m2["net"])
    assert all(jax.tree.leaves(same))  # the neural state is untouched
    assert bool(jnp.array_equal(m["gamma"], m2["gamma"]))  # the per-neuron factors too
    loc_xy, loc_yy = tw.localisation()
    np.testing.assert_array_equal(np.asarray(loc_xy)[:3], np.eye(3))  # own region only


@pytest.mark.slow  # ~25 s on the loaded 2-core VM (Gamma sampler and network compile)
def test_higher_ampa_hyperparameter_raises_bold():
    """The observation is informative: a larger AMPA multiplier gives more spikes and BOLD."""
    tw = _twin(R=2, n=100)

    def run(h):
        m = tw.init_member(jax.random.key(0), jnp.full((1, 2), h), jax.random.key(1))
        m = tw.settle(m, jax.random.key(2), ms=300.0)
        return tw.simulate(m, jax.random.key(3))[1]

    lo, hi = np.asarray(jax.jit(jax.vmap(run))(jnp.array([0.6, 1.4])))
    assert np.all(hi > lo)


def test_config_errors_name_the_field():
    with pytest.raises(ValueError, match="spread"):
        ns.assimilate.SpikingTwinConfig(spread=0.6).check()
    with pytest.raises(ValueError, match="estimate"):
        ns.assimilate.SpikingTwinConfig(estimate=("GABA_C",)).check()
    with pytest.raises(ValueError, match="tr must"):
        ns.assimilate.SpikingTwinConfig(tr=805.0).check()
    with pytest.raises(ValueError, match="estimate must be distinct"):
        _twin(estimate=("AMPA", "AMPA"))
