"""Every neuron model: plugs into networks (synaptic drive, delta jumps, simulate), is
differentiable, and rejects bad shapes. Model-specific checks live in their own test files."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
from neurosim.neurons import SynapticDrive

N = 3


def _models():
    nn = ns.neurons
    return {
        "LIF": nn.LIF(N),
        "TraubMiles": nn.TraubMiles(N),
        "HodgkinHuxley": nn.HodgkinHuxley(N),
        "ExpIF": nn.ExpIF(N),
        "AdEx": nn.AdEx(N),
        "QIF": nn.QIF(N),
        "ALIF": nn.ALIF(N),
        "Izhikevich": nn.Izhikevich(N),
        "MorrisLecar": nn.MorrisLecar(N),
        "FitzHughNagumo": nn.FitzHughNagumo(N),
        "HindmarshRose": nn.HindmarshRose(N),
    }


MODELS = _models()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_delta_jump_adds_to_v(name):
    # SynapticDrive.jump (mV, or model units) is added after the step's integration.
    m = MODELS[name]
    s = m.init(jax.random.key(0), 0.1)
    z = SynapticDrive.zeros(N)
    jump = SynapticDrive(z.conductance, z.current, jnp.array([0.0, 0.5, 1.0]))
    s0, _ = m.step(s, z, 0, 0.01, None)
    s1, _ = m.step(s, jump, 0, 0.01, None)
    np.testing.assert_allclose(np.asarray(s1["v"] - s0["v"]), [0.0, 0.5, 1.0], atol=1e-4)


def test_all_models_in_one_network_under_synaptic_drive():
    # A Poisson source drives every population through an excitatory conductance (models in
    # mV) or a current (dimensionless FHN/HR); inhibitory current onto all. simulate() runs
    # one compiled loop over all populations, reports no fault and every model responds.
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("src", ns.neurons.PoissonSource(40, rate=200.0))
    dimensionless = {"FitzHughNagumo", "HindmarshRose", "Izhikevich"}
    for name, m in MODELS.items():
        b.add_population(name, m)
        if name in dimensionless:
            w, out = 0.5, ns.synapses.CUBA()
        else:
            w, out = 2.0, ns.synapses.COBA(0.0)
        b.connect("src", name, ns.connectivity.FixedProbability(0.5), weight=w,
                  synapse=ns.synapses.Exponential(5.0), output=out)  # fmt: skip
        b.connect("src", name, ns.connectivity.FixedProbability(0.2), weight=0.1,
                  synapse=ns.synapses.Exponential(10.0), output=ns.synapses.CUBA())  # fmt: skip
    net = b.build()
    res = ns.simulate(net, 60.0, 0.05, key=jax.random.key(1),
                      record=[f"{k}.v" for k in MODELS])  # fmt: skip
    assert res.status == "ok"
    for name in MODELS:
        v = np.asarray(res.traces[f"{name}.v"])
        assert np.all(np.isfinite(v)), name
        assert np.ptp(v) > 1e-3, f"{name} does not respond to synaptic input"


def test_mixed_adex_lif_network_gradient():
    # AdEx excitatory + LIF inhibitory, COBA synapses, through run(): the spike count is
    # differentiable (surrogate) with respect to the excitatory weights and AdEx's b.
    import equinox as eqx

    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("E", ns.neurons.AdEx(16, i_e=700.0, v_init=ns.init.Uniform(-70.0, -45.0)))
    b.add_population("I", ns.neurons.LIF(4, v_init=ns.init.Uniform(-65.0, -50.0)))
    b.connect("E", "I", ns.connectivity.FixedProbability(0.5), weight=3.0,
              synapse=ns.synapses.Exponential(5.0), output=ns.synapses.COBA(0.0))  # fmt: skip
    b.connect("I", "E", ns.connectivity.FixedProbability(0.5), weight=5.0,
              synapse=ns.synapses.Exponential(10.0), output=ns.synapses.COBA(-80.0))  # fmt: skip
    net = b.build()
    s0 = net.init_state(jax.random.key(1), 0.1)

    def loss(w_ei, b_adex):
        n2 = eqx.tree_at(lambda n: n.projections[0].conn.weights, net, w_ei)
        n2 = eqx.tree_at(lambda n: n.populations[0].neuron.b, n2, jnp.full((16,), b_adex))
        _, out = ns.run(n2, s0, 60, 0.1, key=jax.random.key(2))
        return jnp.sum(out.spikes["I"]) + jnp.sum(out.spikes["E"])

    w0 = net.projections[0].conn.weights
    val, (g_w, g_b) = jax.value_and_grad(loss, argnums=(0, 1))(w0, jnp.asarray(80.5))
    assert float(val) > 0
    assert np.all(np.isfinite(np.asarray(g_w))) and np.isfinite(float(g_b))
    assert float(jnp.abs(g_w).sum()) > 0 and float(g_b) != 0.0


@pytest.mark.parametrize("name", sorted(MODELS))
def test_parameter_shapes_are_validated(name):
    cls = type(MODELS[name])
    with pytest.raises(ValueError, match="n must be"):
        cls(0)
    p = {"LIF": "tau_m", "TraubMiles": "g_na", "HodgkinHuxley": "g_na", "ALIF": "beta",
         "MorrisLecar": "g_ca", "FitzHughNagumo": "a", "HindmarshRose": "a",
         "Izhikevich": "a", "QIF": "k"}.get(name, "c_m")  # fmt: skip
    with pytest.raises(ValueError, match="shape"):
        cls(3, **{p: np.ones(4)})
    m = cls(3, **{p: np.array([1.0, 2.0, 3.0])})
    assert getattr(m, p).shape == (3,)
