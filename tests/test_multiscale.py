"""One engine for every scale: spiking and neural-mass populations coupled both ways, readouts.

References are plain NumPy loops of the same equations (float64), written here from the
model definitions, never from the code under test; the only inputs taken from the network
are its initial state and its sampled connectivity.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns


def _mixed_network(n, key, *, i_e=120.0):
    """ReducedWongWangEI(2) <-> LIF E/I (CUBA), delays on every coupling kind."""
    n_e = (4 * n) // 5
    b = ns.NetworkBuilder(key=key)
    lif = ns.neurons.LIF(
        n, tau_m=20.0, e_l=-60.0, v_th=-50.0, v_reset=-60.0, t_ref=0.0, g_l=10.0, i_e=i_e,
        v_init=ns.init.Uniform(-60.0, -50.0), integrator=ns.integrators.Euler(),
    )  # fmt: skip
    b.add_population("P", lif, groups={"E": n_e, "I": n - n_e})
    p = min(1.0, 16.0 / n_e)  # ~16 excitatory inputs per neuron at every size
    b.connect("E", "P", ns.connectivity.FixedProbability(p), weight=20.0,
              synapse=ns.synapses.Exponential(5.0), output=ns.synapses.CUBA(), receptor="exc",
              delay=0.5)  # fmt: skip
    b.connect("I", "P", ns.connectivity.FixedProbability(min(1.0, 4.0 / (n - n_e))),
              weight=-60.0, synapse=ns.synapses.Exponential(10.0), output=ns.synapses.CUBA(),
              receptor="inh")  # fmt: skip
    b.add_rate_population("wong", ns.rates.ReducedWongWangEI(2))
    W = np.array([[0.0, 1.0], [0.5, 0.0]])
    b.couple("wong", "wong", ns.rates.LinearCoupling(W, G=0.5, delays=3.0 * W))
    b.couple("wong", "E", ns.network.CurrentDrive(G=100.0), delay=1.0)  # 2 blocks of E
    b.couple("E", "wong", ns.network.SynapticActivity("exc", G=0.002), delay=2.0)
    return b.build(), W


def _H(x, a, b, d):
    u = a * x - b
    return u / (1.0 - np.exp(-d * 1e-3 * u))


def _ww_field(S_e, S_i, c):
    """ReducedWongWangEI with TVB's defaults (Deco et al. 2014), written from the paper."""
    I_E = 0.382 + 1.4 * 0.15 * S_e - S_i + 0.15 * c
    I_I = 0.7 * 0.382 + 0.15 * S_e - S_i
    r_e, r_i = _H(I_E, 310.0, 125.0, 160.0), _H(I_I, 615.0, 177.0, 87.0)
    return -S_e / 100.0 + (1 - S_e) * 0.641e-3 * r_e, -S_i / 10.0 + 1e-3 * r_i


def _reference(net, W, s0, n_steps, dt):
    """The mixed network as a plain loop: Euler LIF (CUBA exponential synapses), Heun nodes."""
    n = net.populations[0].n
    n_e = net.populations[0].groups[0][2]
    W_ee = np.asarray(net.projections[0].conn.todense())  # (n_e, n)
    W_ie = np.asarray(net.projections[1].conn.todense())  # (n - n_e, n)
    v = np.asarray(s0.neurons[0]["v"], np.float64).copy()
    g_exc = np.zeros(n)
    g_inh = np.zeros(n)
    S_e = np.asarray(s0.nodes[0]["S_e"], np.float64).copy()
    S_i = np.asarray(s0.nodes[0]["S_i"], np.float64).copy()
    d_ee, d_rs, d_sr = round(0.5 / dt), round(1.0 / dt), round(2.0 / dt)
    D = np.round(3.0 * W / dt).astype(int)
    past_S = {0: S_e.copy()}  # S_e at each step boundary (a constant past before 0)
    sig = {0: np.zeros(2)}  # synapses start at rest
    spikes_hist = {}

    def S_at(k):
        return past_S[max(k, 0)]

    def sig_at(k):
        return sig[max(k, 0)]

    def node_input(k):
        delayed = np.array([[S_at(k - D[i, j])[j] for j in range(2)] for i in range(2)])
        return 0.5 * np.sum(W * delayed, axis=1) + 0.002 * sig_at(k - d_sr)

    c = node_input(0)
    raster, trace = [], []
    for i in range(n_steps):
        # rate -> spiking: node output of step i - d_rs into the two blocks of E
        i_ext = np.zeros(n)
        i_ext[:n_e] = np.repeat(100.0 * S_at(i - d_rs), n_e // 2)
        i_syn = g_exc + g_inh
        v = v + dt * ((-60.0 - v) + (i_syn + 120.0 + i_ext) / 10.0) / 20.0
        spk = v >= -50.0
        v = np.where(spk, -60.0, v)
        spikes_hist[i] = spk
        raster.append(spk.copy())
        pre = spikes_hist.get(i - d_ee, np.zeros(n, bool))
        g_exc = g_exc * np.exp(-dt / 5.0) + pre[:n_e].astype(float) @ W_ee
        g_inh = g_inh * np.exp(-dt / 10.0) + spk[n_e:].astype(float) @ W_ie
        # rate nodes: Heun with c held, clipped to [0, 1]
        k1 = _ww_field(S_e, S_i, c)
        k2 = _ww_field(S_e + dt * k1[0], S_i + dt * k1[1], c)
        S_e = np.clip(S_e + 0.5 * dt * (k1[0] + k2[0]), 0.0, 1.0)
        S_i = np.clip(S_i + 0.5 * dt * (k1[1] + k2[1]), 0.0, 1.0)
        past_S[i + 1] = S_e.copy()
        sig[i + 1] = g_exc[:n_e].reshape(2, -1).mean(1)
        c = node_input(i + 1)
        trace.append(S_e.copy())
    return np.array(raster), np.array(trace)


@pytest.mark.parametrize(
    "n, n_steps",
    [(40, 200), pytest.param(1000, 2000, marks=pytest.mark.slow)],
)
def test_mixed_network_equals_hand_written_loop(n, n_steps):
    """Wong–Wang nodes <-> 1,000 LIF neurons with delays == the plain loop (float64).

    Both sides evaluate the same float64 expressions, up to the order of additions (~1e-15
    relative per step); spikes are compared exactly (a flip would need a membrane potential
    within ~1e-12 mV of threshold) and the node trace to rtol 1e-9 (error growth over 2,000
    steps of a contracting node map stays far below it).
    """
    dt = 0.1
    with jax.enable_x64(True):
        net, W = _mixed_network(n, jax.random.key(3))
        s0 = net.init_state(jax.random.key(4), dt)
        res = ns.simulate(
            net, n_steps * dt, dt, key=jax.random.key(5), state=s0, record=["wong.S_e"],
            chunk_steps=n_steps // 2 + 3,
        )  # fmt: skip
        raster, trace = _reference(net, W, s0, n_steps, dt)
    ref_steps, ref_idx = np.nonzero(raster)
    assert ref_steps.size > n_steps * n * 1e-3  # the neurons do spike (> 10 Hz)
    np.testing.assert_array_equal(res.spike_indices, ref_idx)
    np.testing.assert_allclose(res.spike_times, ref_steps * dt, rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.traces["wong.S_e"], trace, rtol=1e-9, atol=1e-12)
    # the coupling matters: S_e leaves the uncoupled fixed point 0.1648 differently per node
    assert abs(trace[-1, 0] - trace[-1, 1]) > 1e-4


def _grad_network(alpha, G, key):
    b = ns.NetworkBuilder(key=key)
    b.add_population("src", ns.neurons.PoissonSource(24, rate=200.0))
    lif = ns.neurons.LIF(16, v_th=1e6, t_ref=0.0)  # subthreshold: never spikes
    b.add_population("P", lif, groups={"A": 8, "B": 8})
    b.connect("src", "P", ns.connectivity.FixedProbability(0.5), weight=alpha,
              synapse=ns.synapses.Exponential(5.0), output=ns.synapses.CUBA(),
              receptor="exc")  # fmt: skip
    b.add_rate_population("wong", ns.rates.ReducedWongWangEI(2))
    b.couple("wong", "wong", ns.rates.LinearCoupling(np.array([[0.0, 1.0], [1.0, 0.0]]), G=0.3))
    b.couple("wong", "P", ns.network.CurrentDrive(G=50.0), delay=1.0)
    b.couple("P", "wong", ns.network.SynapticActivity("exc", G=G), delay=1.0)
    return b.build()


def test_gradients_through_both_couplings_match_finite_differences():
    """d loss(node trace) / d(projection weight scale, spiking->rate strength G), float64.

    Smooth by construction: the presynaptic spikes come from Poisson sources fixed by the key
    (they do not depend on the parameters), the spiking -> rate signal is synaptic activity
    (linear in the weights), and the driven LIF population is subthreshold, so no spike of a
    parameter-dependent neuron enters the loss; central differences then have truncation
    O(h^2) and rounding ~1e-16/h, both << the rtol of 1e-6.
    """
    dt, n_steps = 0.5, 20
    with jax.enable_x64(True):
        net = _grad_network(2.0, 0.02, jax.random.key(0))
        s0 = net.init_state(jax.random.key(1), dt)
        plan = net.plan(dt)
        w0 = net.projections[0].conn.weights

        def loss(alpha, G):
            n2 = eqx.tree_at(lambda m: m.projections[0].conn.weights, net, w0 * alpha)
            n2 = eqx.tree_at(lambda m: m.cross[1].coupling.G, n2, G)
            _, out = ns.run(n2, s0, n_steps, dt, key=jax.random.key(2), plan=plan,
                            record=["wong.S_e", "wong.r_e"])  # fmt: skip
            return jnp.mean(out.traces["wong.S_e"] ** 2) + 1e-3 * jnp.mean(out.traces["wong.r_e"])

        x = (jnp.asarray(1.0), jnp.asarray(0.02))
        vg = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))
        _, g = vg(*x)
        for i, h in ((0, 1e-5), (1, 1e-7)):
            xp, xm = list(x), list(x)
            xp[i], xm[i] = x[i] + h, x[i] - h
            fd = (vg(*xp)[0] - vg(*xm)[0]) / (2 * h)
            np.testing.assert_allclose(float(g[i]), float(fd), rtol=1e-6)
            assert abs(float(g[i])) > 0


def test_one_run_equals_chunks_for_a_mixed_network():
    """Splitting a mixed run (simulate chunks, or run + run) does not change it."""
    net, _ = _mixed_network(40, jax.random.key(7))
    key = jax.random.key(8)
    rec = [ns.Trace("wong.S_e", every=4), ns.Trace("P.v", [0, 5], every=4)]
    one = ns.simulate(net, 30.0, 0.1, key=key, record=rec)
    many = ns.simulate(net, 30.0, 0.1, key=key, record=rec, chunk_steps=36)
    np.testing.assert_array_equal(one.spike_indices, many.spike_indices)
    np.testing.assert_array_equal(one.traces["wong.S_e"], many.traces["wong.S_e"])
    np.testing.assert_array_equal(one.trace_times["P.v"], many.trace_times["P.v"])
    assert one.n_spikes > 0
    kw = dict(key=key, record=rec, chunk_steps=36)  # the executable of `many`
    first = ns.simulate(net, 18.0, 0.1, **kw)
    second = ns.simulate(net, 12.0, 0.1, state=first.final_state, **kw)
    joined = np.concatenate([first.traces["wong.S_e"], second.traces["wong.S_e"]])
    np.testing.assert_allclose(joined, one.traces["wong.S_e"], rtol=1e-6, atol=1e-7)
    times = np.concatenate([first.trace_times["wong.S_e"], second.trace_times["wong.S_e"]])
    np.testing.assert_allclose(times, one.trace_times["wong.S_e"])


def test_population_rate_and_lfp_readouts_against_numpy():
    """Readouts equal their definitions applied to the recorded spikes and receptors."""
    dt, n_steps, tau = 0.1, 150, 5.0
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("src", ns.neurons.PoissonSource(20, rate=300.0))
    b.add_population("P", ns.neurons.LIF(8, i_e=0.0))
    b.connect("src", "P", ns.connectivity.FixedProbability(0.5), weight=2.0,
              synapse=ns.synapses.Exponential(5.0), output=ns.synapses.COBA(0.0),
              receptor="AMPA")  # fmt: skip
    b.connect("src", "P", ns.connectivity.FixedProbability(0.5), weight=1.0,
              synapse=ns.synapses.Exponential(10.0), output=ns.synapses.COBA(-80.0),
              receptor="GABA")  # fmt: skip
    b.add_readout("rate", ns.network.PopulationRate(tau=tau), source="src", regions=2)
    b.add_readout("lfp", ns.network.SynapticLFP(("AMPA", "GABA")), source="P")
    # the same filtered rate as a spiking -> rate coupling, 2 steps late, into a node input
    b.add_rate_population("wong", ns.rates.ReducedWongWangEI(2))
    b.couple("src", "wong", ns.network.PopulationActivity(G=0.01, tau=tau), delay=0.2)
    net = b.build()
    record = ["rate", "lfp", "P.v", "P.AMPA.g", "P.GABA.g", "wong.input"]
    res = ns.simulate(
        net, n_steps * dt, dt, key=jax.random.key(1), record=record, record_spikes="all"
    )
    steps, idx = np.round(res.spike_times / dt).astype(int), res.spike_indices
    src = np.zeros((n_steps, 20))
    m = idx < 20  # the source's neurons come first
    src[steps[m], idx[m]] = 1.0
    frac = src.reshape(n_steps, 2, 10).mean(2)
    a = np.exp(-dt / tau)
    r, want = np.zeros(2), []
    for k in range(n_steps):
        r = a * r + (1 - a) * frac[k] / (dt * 1e-3)
        want.append(r)
    # float32 filter: relative rounding ~1e-7 per step, summed over 150 steps << 1e-4
    np.testing.assert_allclose(res.traces["rate"], np.array(want), rtol=1e-4, atol=1e-3)
    # input after step k: c(k + 1) = G r(k + 1 - 2), r(m) the filter after step m - 1
    delayed = np.concatenate([np.zeros((2, 2)), np.array(want)[:-2]])
    np.testing.assert_allclose(res.traces["wong.input"], 0.01 * delayed, rtol=1e-4, atol=1e-5)
    v, ga, gg = res.traces["P.v"], res.traces["P.AMPA.g"], res.traces["P.GABA.g"]
    lfp = np.sum(np.abs(ga * (0.0 - v)) + np.abs(gg * (-80.0 - v)), axis=1)
    np.testing.assert_allclose(res.traces["lfp"][:, 0], lfp, rtol=1e-5)
    assert lfp.max() > 0


def test_bold_like_component_chains_after_a_readout_and_a_node():
    """Any init/step component takes a readout's or a node's value as its drive."""

    class Leaky(eqx.Module):  # dx/dt = (u - x) / tau, exact over a step
        tau: float = 50.0
        n: int | None = None

        def bind(self, n):
            return Leaky(self.tau, n)

        def init(self, key, dt):
            return {"x": jnp.zeros((self.n,))}

        def step(self, state, drive, i, dt, key):
            a = jnp.exp(-dt / self.tau)
            x = a * state["x"] + (1 - a) * drive
            return {"x": x}, x

    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("src", ns.neurons.PoissonSource(30, rate=40.0))
    b.add_rate_population("wong", ns.rates.ReducedWongWangEI(3))
    b.add_readout("rate", ns.network.PopulationRate(tau=10.0), source="src", regions=3)
    b.add_readout("slow", Leaky(), source="rate")
    b.add_readout("slow_node", Leaky(), source="wong", variable="r_e")
    net = b.build()
    res = ns.simulate(net, 20.0, 0.1, key=jax.random.key(1),
                      record=["rate", "slow", "slow.x", "slow_node", "wong.r_e"])  # fmt: skip
    a = np.exp(-0.1 / 50.0)
    for src, out in (("rate", "slow"), ("wong.r_e", "slow_node")):
        x, want = np.zeros(3), []
        for u in res.traces[src]:
            x = a * x + (1 - a) * u
            want.append(x)
        np.testing.assert_allclose(res.traces[out], np.array(want), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(res.traces["slow"], res.traces["slow.x"])


def test_rate_drive_sets_the_rate_of_a_poisson_source():
    """RateDrive: source neurons fire at G * r_E(t - d) Hz; the count is within 5 sigma of
    the Bernoulli expectation sum_i n p_i, p_i = G r_E(i - d) dt 1e-3 (variance sum n p(1-p))."""
    dt, n_steps, n, G, d = 0.1, 1000, 200, 20.0, 10
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("src", ns.neurons.PoissonSource(n, rate=0.0))
    b.add_rate_population("wong", ns.rates.ReducedWongWangEI(1))
    b.couple("wong", "src", ns.network.RateDrive(G=G, variable="r_e"), delay=d * dt)
    net = b.build()
    s0 = net.init_state(jax.random.key(1), dt)
    res = ns.simulate(
        net, n_steps * dt, dt, key=jax.random.key(2), state=s0, record=["wong.r_e"],
        record_spikes="src",
    )  # fmt: skip
    r0 = float(net.rate_populations[0].model.observables(s0.nodes[0], s0.node_input[0])["r_e"][0])
    r = np.concatenate([[r0], res.traces["wong.r_e"][:, 0]])  # r_E at step boundaries 0..n
    p = G * r[np.maximum(np.arange(n_steps) - d, 0)] * dt * 1e-3
    mean, var = n * p.sum(), n * (p * (1 - p)).sum()
    assert abs(res.n_spikes - mean) < 5 * np.sqrt(var)
    assert mean > 100  # the node's rate really drives the source (r_E ~ 1-3 Hz)


def test_pure_rate_network_through_ns_simulate_equals_rates_wrapper():
    m = ns.rates.ReducedWongWangEI(3)
    cpl = ns.rates.LinearCoupling(np.ones((3, 3)) - np.eye(3), G=0.4, delays=2.0 * np.ones((3, 3)))
    b = ns.NetworkBuilder()
    b.add_rate_population("nodes", m)
    b.couple("nodes", "nodes", cpl)
    net = b.build()
    res = ns.simulate(net, 10.0, 0.1, key=jax.random.key(0), record=["nodes.S_e"])
    ref = ns.rates.simulate(m, cpl, 10.0, 0.1, key=jax.random.key(0), record=["S_e"])
    np.testing.assert_array_equal(res.traces["nodes.S_e"], ref.traces["nodes.S_e"])
    assert res.n_spikes == 0 and res.final_state.neurons == ()


def test_bad_couplings_and_readouts_are_refused_at_construction():
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("src", ns.neurons.PoissonSource(10, rate=5.0))
    b.add_population("P", ns.neurons.LIF(12), groups={"A": 6, "B": 6})
    b.connect("src", "P", ns.connectivity.FixedProbability(0.5), weight=1.0,
              synapse=ns.synapses.Exponential(5.0), receptor="exc")  # fmt: skip
    b.add_rate_population("wong", ns.rates.ReducedWongWangEI(2))
    b.add_rate_population("osc", ns.rates.StuartLandau(2))
    W = np.ones((2, 2))
    with pytest.raises(ValueError, match="pre == post"):
        b.couple("wong", "osc", ns.rates.LinearCoupling(W))
    with pytest.raises(ValueError, match="model has 2 nodes"):
        b.couple("wong", "wong", ns.rates.LinearCoupling(np.ones((3, 3))))
    with pytest.raises(ValueError, match="per edge"):
        b.couple("wong", "wong", ns.rates.LinearCoupling(W), delay=2.0)
    with pytest.raises(ValueError, match="couples rate -> spiking"):
        b.couple("P", "wong", ns.network.CurrentDrive(G=1.0))
    with pytest.raises(ValueError, match="no receptor 'AMPA'.*\\['exc'\\]"):
        b.couple("P", "wong", ns.network.SynapticActivity("AMPA"))
    with pytest.raises(ValueError, match="3 regions but 2 nodes"):
        b.couple("P", "wong", ns.network.PopulationActivity(), regions=3)
    with pytest.raises(ValueError, match="cannot be split into 5"):
        b.couple("A", "wong", ns.network.PopulationActivity(), regions=5, nodes=[0] * 5)
    with pytest.raises(ValueError, match="delay must be finite and >= 0 ms"):
        b.couple("wong", "P", ns.network.CurrentDrive(), delay=-1.0)
    with pytest.raises(ValueError, match="no state variable or observable 'rate'"):
        b.couple("wong", "P", ns.network.CurrentDrive(variable="rate"))
    with pytest.raises(ValueError, match="spike source"):
        b.couple("wong", "src", ns.network.CurrentDrive())
    with pytest.raises(ValueError, match="PoissonSource"):
        b.couple("wong", "P", ns.network.RateDrive())
    with pytest.raises(ValueError, match="one input per node"):
        b.couple("P", "osc", ns.network.PopulationActivity())
    with pytest.raises(ValueError, match="shape \\(2, 2\\)"):
        b.couple("osc", "P", ns.network.CurrentDrive())
    with pytest.raises(ValueError, match="not a population"):
        b.couple("Q", "wong", ns.network.PopulationActivity())
    with pytest.raises(ValueError, match="nodes must lie in"):
        b.couple("P", "wong", ns.network.PopulationActivity(), regions=["A", "B"], nodes=[0, 2])
    with pytest.raises(ValueError, match="tau must be > 0"):
        ns.network.PopulationActivity(tau=0.0)
    with pytest.raises(ValueError, match="G must be a scalar"):
        ns.network.CurrentDrive(G=np.ones(2))
    with pytest.raises(ValueError, match="no receptor\\(s\\) \\['GABA'\\]"):
        b.add_readout("lfp", ns.network.SynapticLFP(("exc", "GABA")), source="P")
    with pytest.raises(ValueError, match="source 'wong' is a rate population"):
        b.add_readout("r", ns.network.PopulationRate(), source="wong")
    with pytest.raises(ValueError, match="not bound"):
        ns.network.PopulationRate().init(jax.random.key(0), 0.1)
    # what is accepted: groups as regions, a node map, both directions with delays
    b.couple("P", "wong", ns.network.PopulationActivity(G=0.1), regions=["B", "A"], delay=1.0)
    b.couple("wong", "A", ns.network.CurrentDrive(G=5.0), regions=1, nodes=[1])
    net = b.build()
    assert net.cross[0].regions.ids == (1,) * 6 + (0,) * 6
    assert "population rate (tau 10 ms), 2 regions, delay 1 ms" in net.summary()
