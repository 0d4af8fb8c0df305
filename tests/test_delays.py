"""Per-synapse delays: exact arrival schedule, equivalence with homogeneous delays, chunking,
gradients, rounding and validation."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns

DT = 0.1
SPIKE_STEPS = (10, 13)  # forced spikes of A[0] and A[1]
# Synapses (pre, post, delay ms): weights are distinct powers of two, so each arrival is
# identifiable in the postsynaptic conductance.
EDGES = [(0, 0, 0.0), (0, 1, 0.3), (0, 2, 1.0), (1, 0, 0.04), (1, 1, 0.26), (1, 2, 0.74)]


def _steps(delay_ms):
    """The documented rounding: round_half_even(float32(delay) / float32(dt))."""
    return int(np.round(np.float32(delay_ms) / np.float32(DT)))


def _source_network(delay, weights=None, conn=None):
    """A (2 neurons forced to spike once) -> B (3 neurons, no input), tau = 1e9 ms."""
    values = np.zeros((40, 2), np.float32)
    for i, s in enumerate(SPIKE_STEPS):
        values[s, i] = 1e6
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("A", ns.neurons.LIF(2, t_ref=50.0))
    b.add_population("B", ns.neurons.LIF(3, v_th=1e9))
    b.add_input("A", ns.inputs.ArrayCurrent(values))
    pre, post, _ = zip(*EDGES, strict=True)
    w = 2.0 ** np.arange(len(EDGES)) if weights is None else weights
    conn = conn if conn is not None else ns.connectivity.from_edges(pre, post, w, 2, 3)
    b.connect("A", "B", conn, synapse=ns.synapses.Exponential(1e9), delay=delay)
    return b.build()


def test_arrival_schedule_matches_hand_computed():
    pre, post, delays = (np.array(x) for x in zip(*EDGES, strict=True))
    net = _source_network(jnp.asarray(delays, jnp.float32))
    res = ns.simulate(net, 4.0, DT, key=jax.random.key(0), record=["B.syn0.g"])
    t_a, i_a = res.spikes("A")
    np.testing.assert_array_equal(np.round(t_a / DT), SPIKE_STEPS)
    g = res.traces["B.syn0.g"]  # sample k: state after step k
    expected = np.zeros_like(g)
    for k, (i, j, d) in enumerate(EDGES):
        arrival = SPIKE_STEPS[i] + _steps(d)  # hand schedule: 10, 13, 20, 13, 16, 20
        expected[arrival:, j] += 2.0**k
    np.testing.assert_array_equal(g, expected)
    assert [SPIKE_STEPS[i] + _steps(d) for i, _, d in EDGES] == [10, 13, 20, 13, 16, 20]


def test_equal_delays_equal_homogeneous_path():
    def build(delay):
        b = ns.NetworkBuilder(key=jax.random.key(3))
        b.add_population(
            "P",
            ns.neurons.LIF(64, i_e=200.0, v_init=ns.init.Normal(-55.0, 2.0)),
            groups={"E": 51, "I": 13},
        )
        gen = ns.connectivity.FixedProbability(0.15)
        exc = dict(synapse=ns.synapses.Exponential(5.0), output=ns.synapses.COBA(0.0))
        inh = dict(synapse=ns.synapses.Exponential(10.0), output=ns.synapses.COBA(-80.0))
        b.connect("E", "P", gen, weight=6.0, delay=delay, **exc)
        b.connect("I", "P", gen, weight=67.0, delay=delay, **inh)
        return b.build()

    hom = build(0.7)
    het = build(ns.init.Constant(0.7))
    assert het.projections[0].synapse_delays is not None and hom.projections[0].delay == 0.7
    kw = dict(key=jax.random.key(1), record=["P.v"])
    r_hom = ns.simulate(hom, 60.0, DT, **kw)
    r_het = ns.simulate(het, 60.0, DT, **kw)
    r_chunk = ns.simulate(het, 60.0, DT, chunk_steps=37, **kw)
    assert r_hom.n_spikes > 20
    for r in (r_het, r_chunk):
        np.testing.assert_array_equal(r.spike_indices, r_hom.spike_indices)
        np.testing.assert_array_equal(r.spike_times, r_hom.spike_times)
        np.testing.assert_array_equal(r.traces["P.v"], r_hom.traces["P.v"])


def test_random_delays_chunked_and_continued_runs_identical():
    b = ns.NetworkBuilder(key=jax.random.key(4))
    b.add_population("P", ns.neurons.LIF(48, i_e=220.0, v_init=ns.init.Uniform(-60.0, -50.0)))
    b.connect(
        "P",
        "P",
        ns.connectivity.FixedProbability(0.2),
        # mean 3 nS as before; Uniform keeps every conductance >= 0 (Normal(3, 1) drew
        # negative ones, which the builder now refuses onto a COBA output, issue 16)
        weight=ns.init.Uniform(1.0, 5.0),
        synapse=ns.synapses.Exponential(5.0),
        output=ns.synapses.COBA(0.0),
        delay=ns.init.Uniform(0.0, 3.0),
    )
    net = b.build()
    key = jax.random.key(2)
    whole = ns.simulate(net, 40.0, DT, key=key)
    chunked = ns.simulate(net, 40.0, DT, key=key, chunk_steps=23)
    first = ns.simulate(net, 17.0, DT, key=key)
    rest = ns.simulate(net, 23.0, DT, key=key, state=first.final_state)
    assert whole.n_spikes > 20
    np.testing.assert_array_equal(chunked.spike_indices, whole.spike_indices)
    np.testing.assert_array_equal(chunked.spike_times, whole.spike_times)
    joined = np.concatenate([first.spike_indices, rest.spike_indices])
    np.testing.assert_array_equal(joined, whole.spike_indices)
    assert "<= " in net.summary()


def test_gradient_wrt_weights_matches_closed_form():
    """Loss = sum over steps of g_B: each synapse contributes w * sum_k decay^(k - arrival)."""
    tau, n_steps = 2.0, 30
    delays = jnp.asarray([d for *_, d in EDGES], jnp.float32)
    net = _source_network(delays, weights=np.ones(len(EDGES)))
    net = eqx.tree_at(
        lambda n: n.populations[1].receptors[0].kinetics, net, ns.synapses.Exponential(tau).bind(3)
    )
    state = net.init_state(jax.random.key(0), DT)

    def loss(w):
        conn = net.projections[0].conn.with_weights(w)
        n2 = eqx.tree_at(lambda n: n.projections[0].conn, net, conn)
        _, out = ns.run(n2, state, n_steps, DT, key=jax.random.key(0), record=["B.syn0.g"])
        return jnp.sum(out.traces["B.syn0.g"])

    grad = np.asarray(jax.jit(jax.grad(loss))(jnp.ones(len(EDGES))))
    decay = np.exp(-DT / tau)
    expected = [
        sum(decay ** (k - a) for k in range(a, n_steps))
        for a in (SPIKE_STEPS[i] + _steps(d) for i, _, d in EDGES)
    ]
    np.testing.assert_allclose(grad, expected, rtol=1e-5)


def test_gradient_wrt_spikes_same_for_event_and_reference_backend():
    """The JVP goes through all synapses: event and reference backends agree under grad."""
    from neurosim.network._delays import deliver_delayed

    csr = ns.connectivity.FixedProbability(0.3).build(jax.random.key(0), 20, 15, 1.5)
    delays = jax.random.uniform(jax.random.key(1), (csr.nnz,), maxval=0.5)
    ring = jnp.zeros((6, 15))
    s = (jax.random.uniform(jax.random.key(2), (20,)) < 0.3).astype(jnp.float32)
    c = jax.random.normal(jax.random.key(3), (6, 15))

    def loss(s, backend):
        r, now = deliver_delayed(csr, delays, s, ring, 4, DT, backend)
        return jnp.sum(jnp.tanh(r) * c) + jnp.sum(now)

    g_e = jax.grad(loss)(s, "auto")
    g_r = jax.grad(loss)(s, "reference")
    np.testing.assert_allclose(np.asarray(g_e), np.asarray(g_r), rtol=1e-6)
    assert np.any(np.asarray(g_e)[np.asarray(s) == 0] != 0)
    r_e, _ = deliver_delayed(csr, delays, s, ring, 4, DT, "auto")
    r_r, _ = deliver_delayed(csr, delays, s, ring, 4, DT, "reference")
    np.testing.assert_allclose(np.asarray(r_e), np.asarray(r_r), rtol=1e-6)


@pytest.mark.parametrize(
    "delay, match",
    [
        (ns.init.Uniform(-1.0, 1.0), "finite and >= 0"),
        (jnp.array([0.1, np.nan, 0.2, 0.1, 0.1, 0.1]), "finite and >= 0"),
        (jnp.array([0.1, 0.2]), "one value per synapse"),
        (-0.5, "delay must be >= 0"),
    ],
)
def test_bad_delays_raise(delay, match):
    with pytest.raises(ValueError, match=match):
        _source_network(delay)


def test_per_synapse_delays_refused_where_they_cannot_be_defined():
    """Procedural connectivity regenerates its delays: only bounded initializers; STDP with
    per-synapse delays needs stored synapses (tests/test_compose.py covers what is allowed)."""
    b = ns.NetworkBuilder()
    b.add_population("P", ns.neurons.LIF(10))
    syn = ns.synapses.Exponential(5.0)
    with pytest.raises(ValueError, match="stored connectivity"):
        b.connect(
            "P",
            "P",
            ns.connectivity.FixedProbability(0.5, procedural=True),
            weight=1.0,
            synapse=syn,
            delay=ns.init.Normal(1.0, 0.5),
        )
    with pytest.raises(ValueError, match="stored CSR"):
        b.connect(
            "P",
            "P",
            ns.connectivity.FixedProbability(0.5, procedural=True),
            weight=1.0,
            synapse=syn,
            delay=ns.init.Uniform(0.0, 1.0),
            dynamics=ns.plasticity.PairSTDP(),
        )


def test_ring_too_large_and_state_for_other_dt():
    net = _source_network(ns.init.Uniform(0.0, 2.0))
    state = net.init_state(jax.random.key(0), DT)
    max_delay = float(np.max(np.asarray(net.projections[0].synapse_delays)))
    assert state.delay_rings[0].shape == (_steps(max_delay) + 1, 3)
    with pytest.raises(ValueError, match="another dt"):
        ns.simulate(net, 1.0, 0.05, key=jax.random.key(0), state=state)
    huge = _source_network(ns.init.Uniform(0.0, 1e9))
    with pytest.raises(ValueError, match="shorten the delays"):
        huge.init_state(jax.random.key(0), DT)
