"""Composition: STP and STDP stacked on one projection; per-synapse delays on ELL, procedural
and plastic (STP, STDP) projections — each against a plain-Python / numpy reference."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _stdp_reference import pair_rule, simulate_synapse, triplet_rule

import neurosim as ns
from neurosim.network._delays import deliver_delayed

DT = 0.1
N_STEPS = 160
TAU_SYN = 5.0  # ms, CUBA exponential receptor of B
U, TAU_REC, TAU_FACIL = 0.3, 20.0, 15.0
STDP = dict(tau_plus=10.0, tau_minus=12.0, a_plus=0.05, a_minus=0.06, w_min=0.0, w_max=2.0)
# float32 throughout: traces and amplitudes are O(1), exp(-gap/tau) accurate to a few ulp.
RTOL, ATOL = 2e-5, 2e-6


def _forced_steps(rng, n, low=3, gap=9):
    """Spike steps of ``n`` neurons: random, at least ``gap`` steps apart (> t_ref)."""
    out = []
    for _ in range(n):
        steps, s = [], int(rng.integers(low, low + 10))
        while s < N_STEPS - 5:
            steps.append(s)
            s += gap + int(rng.integers(0, 20))
        out.append(steps)
    return out


def _pulses(steps, n):
    values = np.zeros((N_STEPS, n), np.float32)
    for i, st in enumerate(steps):
        values[st, i] = 1e6  # one step of 1 nA * 1e3: the neuron spikes in that step
    return values


PRE_STEPS = _forced_steps(np.random.default_rng(0), 4)
POST_STEPS = _forced_steps(np.random.default_rng(1), 3)
EDGES = [(i, j) for i in range(4) for j in range(3) if (i + j) % 4 != 3]  # 9 synapses
W0 = np.linspace(0.6, 1.4, len(EDGES)).astype(np.float32)
DELAY_STEPS = np.array([0, 3, 1, 6, 2, 0, 5, 4, 2])


def _network(conn, dynamics=None, delay=0.0):
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("A", ns.neurons.LIF(4, t_ref=0.5))
    b.add_population("B", ns.neurons.LIF(3, t_ref=0.5))
    b.add_input("A", ns.inputs.ArrayCurrent(_pulses(PRE_STEPS, 4)))
    b.add_input("B", ns.inputs.ArrayCurrent(_pulses(POST_STEPS, 3)))
    b.connect(
        "A", "B", conn, synapse=ns.synapses.Exponential(TAU_SYN), delay=delay, dynamics=dynamics
    )
    return b.build()


def _csr():
    pre, post = zip(*EDGES, strict=True)
    return ns.connectivity.from_edges(pre, post, W0, 4, 3)


def _stp():
    return ns.plasticity.TsodyksMarkram(U=U, tau_rec=TAU_REC, tau_facil=TAU_FACIL)


def _markram_amplitudes(steps):
    """u_n R_n of a spike train (Markram et al. 1998 recursion, float64)."""
    amps, u, r = [], U, 1.0
    for k, s in enumerate(steps):
        if k:
            gap = (s - steps[k - 1]) * DT
            u_prev = u
            u = U + u_prev * (1 - U) * np.exp(-gap / TAU_FACIL)
            r = 1 + (r * (1 - u_prev) - 1) * np.exp(-gap / TAU_REC)
        amps.append(u * r)
    return amps


def _conductance(arrivals):
    """g_B after each step: sum of (step, post, value) arrivals, decaying with TAU_SYN."""
    g = np.zeros((N_STEPS, 3))
    k = np.arange(N_STEPS)
    for s, j, v in arrivals:
        g[s:, j] += v * np.exp(-(k[s:] - s) * DT / TAU_SYN)
    return g


def _check_spikes(res):
    for pop, steps in (("A", PRE_STEPS), ("B", POST_STEPS)):
        t, i = res.spikes(pop)
        got = sorted(zip(np.round(t / DT).astype(int).tolist(), i.tolist(), strict=True))
        want = sorted((s, n) for n, st in enumerate(steps) for s in st)
        assert got == want, pop


def _reference(delay_steps, with_stp=True, with_stdp=True, rule=None, nearest=False):
    """Per synapse: NEST-style dendritic pairing (post times shifted by d), STP amplitudes at
    emission, values arriving d steps later. Returns (g trace, final weights)."""
    rule = rule or pair_rule(
        STDP["tau_plus"] / DT, STDP["tau_minus"] / DT, STDP["a_plus"], STDP["a_minus"],
        STDP["w_min"], STDP["w_max"], 0.0, 0.0,
    )  # fmt: skip
    arrivals, w_final = [], []
    for k, (i, j) in enumerate(EDGES):
        d = int(delay_steps[k])
        amps = _markram_amplitudes(PRE_STEPS[i]) if with_stp else [1.0] * len(PRE_STEPS[i])
        if with_stdp:
            post = [s + d for s in POST_STEPS[j] if s + d < N_STEPS]
            w, before = simulate_synapse(W0[k], PRE_STEPS[i], post, rule, 0.0, 2.0, nearest)
        else:
            w, before = W0[k], [W0[k]] * len(PRE_STEPS[i])
        w_final.append(w)
        arrivals += [
            (s + d, j, wb * a)
            for s, wb, a in zip(PRE_STEPS[i], before, amps, strict=True)
            if s + d < N_STEPS
        ]
    return _conductance(arrivals), np.asarray(w_final)


@pytest.mark.parametrize("delayed", [False, True], ids=["no-delays", "per-synapse-delays"])
def test_stp_and_stdp_stacked_equal_reference(delayed):
    """Stack(TsodyksMarkram, PairSTDP) on one CSR projection, ~160 steps, vs plain Python."""
    dyn = ns.plasticity.Stack(_stp(), ns.plasticity.PairSTDP(**STDP, update="dense"))
    delays = (DELAY_STEPS * DT).astype(np.float32) if delayed else 0.0
    net = _network(_csr(), dyn, jnp.asarray(delays) if delayed else 0.0)
    rec = ["B.syn0.g", ns.Trace("A->B.u"), ns.Trace("A->B.w")]
    res = ns.simulate(net, N_STEPS * DT, DT, key=jax.random.key(0), record=rec)
    _check_spikes(res)
    g_ref, w_ref = _reference(DELAY_STEPS if delayed else np.zeros(len(EDGES), int))
    np.testing.assert_allclose(res.traces["B.syn0.g"], g_ref, rtol=RTOL, atol=ATOL)
    w = ns.plasticity.plastic_weights(net, res.final_state, "A->B")
    np.testing.assert_allclose(np.asarray(w), w_ref, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(res.traces["A->B.w"][-1][: len(EDGES)], w_ref, rtol=RTOL, atol=ATOL)
    assert np.max(np.abs(w_ref - W0)) > 0.05  # learning happened
    # u just after each neuron's last spike (recorded by its own name through the stack).
    u_last = [U + 0.0 for _ in range(4)]
    for i, steps in enumerate(PRE_STEPS):
        u = U
        for k in range(1, len(steps)):
            u = U + u * (1 - U) * np.exp(-(steps[k] - steps[k - 1]) * DT / TAU_FACIL)
        u_last[i] = u
    np.testing.assert_allclose(res.traces["A->B.u"][-1], u_last, rtol=RTOL)


def test_lone_stdp_with_per_synapse_delays_equals_reference():
    """STDP alone (no stack, event update option) across dendritic delays = reference."""
    delays = jnp.asarray((DELAY_STEPS * DT).astype(np.float32))
    stdp = ns.plasticity.PairSTDP(**STDP)
    net = _network(_csr(), stdp, delays)
    res = ns.simulate(net, N_STEPS * DT, DT, key=jax.random.key(0), record=["B.syn0.g"])
    g_ref, w_ref = _reference(DELAY_STEPS, with_stp=False)
    np.testing.assert_allclose(res.traces["B.syn0.g"], g_ref, rtol=RTOL, atol=ATOL)
    w = ns.plasticity.plastic_weights(net, res.final_state, "A->B")
    np.testing.assert_allclose(np.asarray(w), w_ref, rtol=RTOL, atol=ATOL)


def test_triplet_nearest_with_delays_in_a_stack_chunked_equal_reference():
    """Triplet STDP (nearest-spike traces) stacked *before* STP (the order does not matter),
    per-synapse delays, a chunked run."""
    taus = dict(tau_plus=10.0, tau_minus=12.0, tau_x=30.0, tau_y=40.0)
    amps = dict(a2_plus=0.02, a3_plus=0.03, a2_minus=0.04, a3_minus=0.01)
    trip = ns.plasticity.TripletSTDP(**taus, **amps, w_max=2.0, interaction="nearest")
    delays = jnp.asarray((DELAY_STEPS * DT).astype(np.float32))
    net = _network(_csr(), ns.plasticity.Stack(trip, _stp()), delays)
    key = jax.random.key(0)
    res = ns.simulate(net, N_STEPS * DT, DT, key=key, record=["B.syn0.g"], chunk_steps=37)
    rule = triplet_rule(*(t / DT for t in taus.values()), *amps.values())
    g_ref, w_ref = _reference(DELAY_STEPS, rule=rule, nearest=True)
    np.testing.assert_allclose(res.traces["B.syn0.g"], g_ref, rtol=RTOL, atol=ATOL)
    w = ns.plasticity.plastic_weights(net, res.final_state, "A->B")
    np.testing.assert_allclose(np.asarray(w), w_ref, rtol=RTOL, atol=ATOL)
    assert np.max(np.abs(w_ref - W0)) > 0.05


def test_ell_per_synapse_delays_with_stp_equal_reference():
    csr = _csr()
    ell = csr.to_ell()
    delays = (DELAY_STEPS * DT).astype(np.float32)  # CSR order, laid out on the table
    net = _network(ell, _stp(), jnp.asarray(delays))
    assert net.projections[0].synapse_delays.shape == ell.targets.shape
    res = ns.simulate(net, N_STEPS * DT, DT, key=jax.random.key(0), record=["B.syn0.g"])
    _check_spikes(res)
    g_ref, _ = _reference(DELAY_STEPS, with_stdp=False)
    np.testing.assert_allclose(res.traces["B.syn0.g"], g_ref, rtol=RTOL, atol=ATOL)


def _threefry_delays(words, rows_lanes, low, high):
    """The documented delay stream, from jax's own Threefry-2x32 (independent of ns)."""
    import jax.extend.random

    rows, lanes = rows_lanes
    lanes = np.asarray(lanes, np.uint32) | np.uint32(1 << 31)
    x = jnp.stack([jnp.asarray(rows, jnp.uint32), jnp.asarray(lanes)])
    b0 = jax.extend.random.threefry_2x32(jnp.asarray(words, jnp.uint32), x)[0]
    u = ((np.asarray(b0) >> 8).astype(np.float64) + 0.5) / 2**24
    return low + (high - low) * u


@pytest.mark.slow
def test_procedural_delays_regenerated_and_equal_stored_and_dense_reference():
    key = jax.random.key(5)
    n_pre, n_post, p = 24, 20, 0.25
    init = ns.init.Uniform(0.0, 0.7)
    gen_p = ns.connectivity.FixedProbability(p, procedural=True)
    proc = gen_p.build(key, n_pre, n_post, ns.init.Normal(1.0, 0.2))
    csr = ns.connectivity.FixedProbability(p).build(key, n_pre, n_post, ns.init.Normal(1.0, 0.2))
    d1, d2 = proc.synapse_delays(init), proc.synapse_delays(init)
    np.testing.assert_array_equal(np.asarray(d1), np.asarray(d2))
    assert d1.shape == (csr.nnz,) and csr.nnz > 50
    # The documented stream: lane k of row pre -> Threefry((k0, k1), (pre, 2**31 | k)).
    rows = np.asarray(csr.row_ids())
    lanes = np.arange(csr.nnz) - np.asarray(csr.indptr)[rows]
    ref = _threefry_delays(proc.key, (rows, lanes), 0.0, 0.7)
    np.testing.assert_allclose(np.asarray(d1), ref, rtol=1e-6, atol=1e-7)
    # Dense reference of one delivery: value of synapse (i, j) lands d_ij steps ahead.
    W = np.asarray(csr.todense())
    np.testing.assert_allclose(np.asarray(proc.todense()), W, rtol=1e-6)
    steps = np.round(np.asarray(d1, np.float32) / np.float32(DT)).astype(int)
    n_slots = int(steps.max()) + 1
    spikes = (np.arange(n_pre) % 3 == 0).astype(np.float32)
    step = 7
    expected = np.zeros((n_slots, n_post))
    for k, (i, j) in enumerate(zip(rows, np.asarray(csr.indices[: csr.nnz]), strict=True)):
        expected[(step + steps[k]) % n_slots, j] += spikes[i] * W[i, j]
    ring = jnp.zeros((n_slots, n_post))
    out = {}
    for name, conn, dl in (("proc", proc, init), ("csr", csr, d1), ("ell", csr.to_ell(), d1)):
        for backend in ("auto", "reference"):
            dl_ = conn.table_values(dl) if name == "ell" else dl
            r, now = deliver_delayed(conn, dl_, jnp.asarray(spikes), ring, step, DT, backend)
            full = np.asarray(r).copy()
            full[step % n_slots] = np.asarray(now)
            out[name, backend] = full
            np.testing.assert_allclose(full, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out["proc", "auto"], out["proc", "reference"])


def test_procedural_delays_with_stp_in_network_equal_stored_equivalent():
    """Procedural connectivity + Uniform delays + STP: the same run as its stored copy."""
    key = jax.random.key(9)

    def build(procedural):
        gen = ns.connectivity.FixedProbability(0.5, procedural=procedural)
        conn = gen.build(key, 4, 3, 1.0)
        init = ns.init.Uniform(0.0, 0.6)
        delay = init if procedural else conn_p.synapse_delays(init)
        return _network(conn, _stp(), delay)

    conn_p = ns.connectivity.FixedProbability(0.5, procedural=True).build(key, 4, 3, 1.0)
    runs = [
        ns.simulate(build(pr), N_STEPS * DT, DT, key=jax.random.key(0), record=["B.syn0.g"])
        for pr in (True, False)
    ]
    assert np.max(runs[0].traces["B.syn0.g"]) > 0.1
    np.testing.assert_allclose(
        runs[0].traces["B.syn0.g"], runs[1].traces["B.syn0.g"], rtol=1e-6, atol=1e-7
    )


def test_refused_combinations_name_the_fix():
    b = ns.NetworkBuilder()
    b.add_population("P", ns.neurons.LIF(10))
    syn = ns.synapses.Exponential(5.0)
    proc = ns.connectivity.FixedProbability(0.5, procedural=True)
    with pytest.raises(ValueError, match=r"ns.init.Uniform\(low, high\)"):
        b.connect("P", "P", proc, weight=1.0, synapse=syn, delay=ns.init.Normal(1.0, 0.1))
    with pytest.raises(ValueError, match="FixedProbability without procedural"):
        b.connect("P", "P", proc, weight=1.0, synapse=syn, delay=jnp.ones(5))
    with pytest.raises(ValueError, match="finite and >= 0"):
        b.connect("P", "P", proc, weight=1.0, synapse=syn, delay=ns.init.Uniform(-1.0, 1.0))
    with pytest.raises(ValueError, match="stored CSR"):
        b.connect(
            "P", "P", proc, weight=1.0, synapse=syn, delay=ns.init.Uniform(0.0, 1.0),
            dynamics=ns.plasticity.PairSTDP(),
        )  # fmt: skip
    ell = ns.connectivity.FixedOutDegree(3, format="ell")
    with pytest.raises(ValueError, match=r"\(10, 3\) or \(30,\) in CSR order"):
        b.connect("P", "P", ell, weight=1.0, synapse=syn, delay=jnp.ones(7))
    stdp = ns.plasticity.PairSTDP()
    with pytest.raises(ValueError, match="both own the projection's plastic weights"):
        ns.plasticity.Stack(stdp, ns.plasticity.TripletSTDP())
    with pytest.raises(ValueError, match="must be projection dynamics"):
        ns.plasticity.Stack(_stp(), "stdp")
    with pytest.raises(ValueError, match="at least one member"):
        ns.plasticity.Stack()
    with pytest.raises(ValueError, match="both have a state variable 'u'"):
        ns.plasticity.Stack(_stp(), _stp()).bind(_csr()).init(jax.random.key(0), DT)


@pytest.mark.slow
def test_delayed_delivery_gradients_event_equal_reference_on_ell_and_procedural():
    """The JVP goes through every synapse: event and reference paths agree under grad, for the
    spikes (surrogate gradients of silent neurons) and the procedural weight initializer."""
    key = jax.random.key(3)
    proc = ns.connectivity.FixedProbability(0.3, procedural=True).build(
        key, 16, 12, ns.init.Normal(1.0, 0.2)
    )
    init = ns.init.Uniform(0.0, 0.5)
    csr = ns.connectivity.FixedProbability(0.3).build(key, 16, 12, ns.init.Normal(1.0, 0.2))
    ell = csr.to_ell()
    d_ell = ell.table_values(proc.synapse_delays(init))
    ring = jnp.zeros((6, 12))
    s = (jax.random.uniform(jax.random.key(2), (16,)) < 0.3).astype(jnp.float32)
    c = jax.random.normal(jax.random.key(4), (6, 12))

    def loss(s, conn, delays, backend):
        r, now = deliver_delayed(conn, delays, s, ring, 4, DT, backend)
        return jnp.sum(jnp.tanh(r) * c) + jnp.sum(now)

    grads = {}
    for name, conn, dl in (("proc", proc, init), ("ell", ell, d_ell)):
        for backend in ("auto", "reference"):
            grads[name, backend] = np.asarray(jax.grad(loss)(s, conn, dl, backend))
        np.testing.assert_allclose(grads[name, "auto"], grads[name, "reference"], rtol=1e-5)
    np.testing.assert_allclose(grads["proc", "auto"], grads["ell", "auto"], rtol=1e-5, atol=1e-6)
    assert np.any(grads["proc", "auto"][np.asarray(s) == 0] != 0)

    def loss_loc(loc, backend):
        conn = proc.with_weights(ns.init.Normal(loc, 0.2))
        return loss(s, conn, init, backend)

    g_e, g_r = (float(jax.grad(loss_loc)(1.0, b)) for b in ("auto", "reference"))
    eps = 1e-2
    fd = (loss_loc(1.0 + eps, "reference") - loss_loc(1.0 - eps, "reference")) / (2 * eps)
    np.testing.assert_allclose(g_e, g_r, rtol=1e-5)
    np.testing.assert_allclose(g_e, float(fd), rtol=2e-3)  # central difference, float32
