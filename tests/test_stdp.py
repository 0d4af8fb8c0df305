"""STDP rules against a plain-Python reference on fixed spike trains (NEST's test design)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _stdp_reference import pair_rule, simulate_synapse, triplet_rule

import neurosim as ns

# 4 presynaptic x 5 postsynaptic neurons: an empty row (pre 2), an empty column (post 4) and
# a multapse (0 -> 1 twice), 9 synapses.
PRE = np.array([0, 0, 0, 1, 1, 3, 3, 3, 1])
POST = np.array([1, 1, 3, 0, 2, 0, 1, 2, 3])
N_PRE, N_POST, T, DT = 4, 5, 400, 1.0


def _trains(seed=0, p=0.04):
    rng = np.random.default_rng(seed)
    pre = (rng.random((T, N_PRE)) < p).astype(float)
    post = (rng.random((T, N_POST)) < p).astype(float)
    post[[50, 51, 120]] = 1.0  # some simultaneous pre/post events
    pre[[50, 120]] = 1.0
    return pre, post


def _w0(seed=1):
    return np.random.default_rng(seed).uniform(0.2, 0.8, PRE.size)


CASES = {
    "additive": dict(cls="pair", kw=dict(tau_plus=16.8, tau_minus=33.7, a_plus=0.08, a_minus=0.09)),
    "van_rossum": dict(
        cls="pair", kw=dict(tau_plus=20.0, tau_minus=20.0, a_plus=0.05, a_minus=0.1, mu_minus=1.0)
    ),
    "gutig_nearest": dict(
        cls="pair",
        kw=dict(
            tau_plus=20.0,
            tau_minus=25.0,
            a_plus=0.1,
            a_minus=0.1,
            mu_plus=0.5,
            mu_minus=0.5,
            interaction="nearest",
        ),
    ),
    "triplet_full": dict(cls="triplet", set="full", interaction="all_to_all"),
    "triplet_minimal_nearest": dict(cls="triplet", set="minimal", interaction="nearest"),
}
W_SCALE = 5.0  # Pfister & Gerstner amplitudes are relative; scale so weights move visibly


def _make(case, update):
    c = CASES[case]
    if c["cls"] == "pair":
        return ns.plasticity.PairSTDP(**c["kw"], w_min=0.0, w_max=1.0, update=update)
    p = dict(ns.plasticity.PFISTER_GERSTNER_2006[("visual_cortex", "all_to_all", c["set"])])
    for k in ("a2_plus", "a3_plus", "a2_minus", "a3_minus"):
        p[k] *= W_SCALE
    return ns.plasticity.TripletSTDP(
        **p, w_min=0.0, w_max=1.0, interaction=c["interaction"], update=update
    )


def _reference(case, w0, pre, post, pre_shift=0):
    c = CASES[case]
    if c["cls"] == "pair":
        kw = dict(dict(mu_plus=0.0, mu_minus=0.0), **c["kw"])
        nearest = kw.pop("interaction", "all_to_all") == "nearest"
        rule = pair_rule(w_min=0.0, w_max=1.0, **kw)
    else:
        p = dict(ns.plasticity.PFISTER_GERSTNER_2006[("visual_cortex", "all_to_all", c["set"])])
        rule = triplet_rule(
            16.8,
            33.7,
            p["tau_x"],
            p["tau_y"],
            *(W_SCALE * p[k] for k in ("a2_plus", "a3_plus", "a2_minus", "a3_minus")),
        )
        nearest = c["interaction"] == "nearest"
    out = []
    for k in range(PRE.size):
        tp = [DT * (s + pre_shift) for s in np.flatnonzero(pre[:, PRE[k]])]
        to = [DT * s for s in np.flatnonzero(post[:, POST[k]])]
        out.append(simulate_synapse(w0[k], tp, to, rule, 0.0, 1.0, nearest)[0])
    return np.array(out)


def _run_rule(rule, conn, pre, post, dt):
    @jax.jit
    def go(pre, post):
        bound = rule.bind(conn)
        st = bound.init(None, dt)

        def body(st, sp):
            st, _ = bound.step(st, ns.network.ProjectionDrive(conn, sp[0], sp[1]), 0, dt, None)
            return st, None

        st, _ = jax.lax.scan(body, st, (pre, post))
        return st["w"][: conn.nnz]

    return np.asarray(go(jnp.asarray(pre), jnp.asarray(post)))


@pytest.mark.parametrize("update", ["event", "dense"])
@pytest.mark.parametrize("case", list(CASES))
def test_stdp_matches_reference_float64(case, update):
    pre, post = _trains()
    w0 = _w0()
    with jax.enable_x64(True):
        conn = ns.connectivity.from_edges(PRE, POST, w0, N_PRE, N_POST)
        w = _run_rule(_make(case, update), conn, pre, post, DT)
    # CSR order of from_edges: stable sort by pre; map back to the edge order.
    order = np.argsort(PRE, kind="stable")
    ref = _reference(case, w0, pre, post)[order]
    assert np.abs(ref - w0[order]).max() > 0.05, "the trains must change the weights"
    # float64 throughout; the step recursion of the traces vs exp(-(t - t_k)/tau) of the
    # reference differ by ~T * 1e-16 relative.
    np.testing.assert_allclose(w, ref, rtol=1e-9, atol=1e-12)


def test_stdp_float32_within_rounding():
    """float32: traces are decayed over each gap in one exp (a few roundings, not one per
    step), so each weight update carries ~5 eps relative error and each addition one
    rounding of w <= w_max: error <= n_updates * 6 eps * w_max (n_updates = spikes seen)."""
    pre, post = _trains(seed=3)
    w0 = _w0(seed=4)
    conn = ns.connectivity.from_edges(PRE, POST, w0, N_PRE, N_POST)
    order = np.argsort(PRE, kind="stable")
    n_updates = (pre[:, PRE] + post[:, POST]).sum(0)[order]
    for case in ("additive", "triplet_full"):
        w = _run_rule(_make(case, "event"), conn, pre, post, DT)
        ref = _reference(case, w0, pre, post)[order]
        np.testing.assert_array_less(np.abs(w - ref), n_updates * 6 * 1.2e-7 * 1.0)


def test_stdp_bounds_are_enforced():
    pre, post = _trains(seed=5, p=0.08)
    conn = ns.connectivity.from_edges(PRE, POST, 0.5, N_PRE, N_POST)
    rule = ns.plasticity.PairSTDP(a_plus=0.5, a_minus=0.5, w_min=0.1, w_max=0.9)
    w = _run_rule(rule, conn, pre, post, DT)
    assert w.min() >= 0.1 - 1e-7 and w.max() <= 0.9 + 1e-7
    assert np.any(np.isclose(w, 0.1)) or np.any(np.isclose(w, 0.9))


def test_stdp_validation():
    with pytest.raises(ValueError, match="tau_plus"):
        ns.plasticity.PairSTDP(tau_plus=0.0)
    with pytest.raises(ValueError, match="w_max - w_min"):
        ns.plasticity.PairSTDP(w_min=1.0, w_max=1.0)
    with pytest.raises(ValueError, match="interaction"):
        ns.plasticity.TripletSTDP(interaction="nearest_neighbour")
    with pytest.raises(ValueError, match="update"):
        ns.plasticity.PairSTDP(update="fast")
    with pytest.raises(ValueError, match="no published set"):
        ns.plasticity.TripletSTDP.from_pfister_gerstner("hippocampus")
    conn = ns.connectivity.from_edges(PRE, POST, 2.0, N_PRE, N_POST)
    with pytest.raises(ValueError, match="initial weights"):
        ns.plasticity.PairSTDP(w_max=1.0).bind(conn).init(None, 0.1)


def test_plastic_projection_in_a_network():
    """SpikeTimes -> plastic projection (delay 1 ms) -> LIF forced to spike by current pulses.

    The final weights equal the reference on the actual arrival/post spike times, and each
    delivered PSC jump equals the weight the reference holds just before that arrival
    (delivery uses the plastic weights).
    """
    dt, delay, tau_s, n_steps = 0.1, 1.0, 2.0, 2000
    pre_times = [
        [10.0, 40.0, 70.0, 100.0, 130.0, 160.0],
        [22.0, 52.0, 83.0, 111.0, 150.0],
        [5.0, 60.0, 95.0, 140.0, 175.0, 190.0],
    ]
    post_steps = {0: [150, 420, 760, 1050, 1420], 1: [90, 300, 650, 980, 1330, 1700]}
    pulses = np.zeros((n_steps, 2), np.float32)
    for j, st in post_steps.items():
        pulses[st, j] = 1e5  # ~100 mV in one step: a spike in that step
    rule = ns.plasticity.PairSTDP(
        tau_plus=20.0, tau_minus=20.0, a_plus=1.0, a_minus=1.2, w_min=0.0, w_max=10.0
    )
    w0 = np.array([[5.0, 4.0], [3.0, 6.0], [2.0, 5.5]])
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("pre", ns.inputs.SpikeTimes(3, pre_times, dt=dt))
    b.add_population("post", ns.neurons.LIF(2, tau_m=10.0, t_ref=2.0))
    b.add_input("post", ns.inputs.ArrayCurrent(pulses))
    name = b.connect(
        "pre",
        "post",
        ns.connectivity.from_dense(w0),
        synapse=ns.synapses.Exponential(tau_s),
        delay=delay,
        dynamics=rule,
    )
    net = b.build()
    res = ns.simulate(net, n_steps * dt, dt, key=jax.random.key(1), record=["post.syn0.g"])
    t_post, i_post = res.spikes("post")
    steps_post = {j: np.round(t_post[i_post == j] / dt).astype(int) for j in range(2)}
    for j in range(2):
        np.testing.assert_array_equal(steps_post[j], post_steps[j])
    w_final = np.asarray(ns.plasticity.plastic_weights(net, res.final_state, name))
    # Reference in units of steps (integer times: no float ties), time constants / dt.
    rule_ref = pair_rule(20.0 / dt, 20.0 / dt, 1.0, 1.2, 0.0, 10.0, 0.0, 0.0)
    g = res.traces["post.syn0.g"].astype(np.float64)
    d_steps = round(delay / dt)
    k = 0
    for i in range(3):
        arrive = [round(t / dt) + d_steps for t in pre_times[i]]
        for j in range(2):
            w_ref, before = simulate_synapse(
                w0[i, j], arrive, list(steps_post[j]), rule_ref, 0.0, 10.0
            )
            # float32: <= 11 updates of ~5 eps relative error, each added to w <= 10
            np.testing.assert_allclose(w_final[k], w_ref, rtol=0, atol=11 * 6 * 1.2e-7 * 10)
            k += 1
            jumps = g[arrive, j] - g[np.asarray(arrive) - 1, j] * np.exp(-dt / tau_s)
            # only pre neuron i arrives in these steps (times chosen distinct)
            np.testing.assert_allclose(jumps, before, rtol=1e-4, atol=1e-4)
    assert np.abs(w_final - w0.ravel()).max() > 0.5, "the protocol must change the weights"


def test_column_index_built_under_jit_gives_the_same_weights():
    """With traced connectivity (init inside jit) the column window is the safe bound
    nnz instead of the largest in-degree; the result is the same."""
    pre, post = _trains(seed=6)
    conn = ns.connectivity.from_edges(PRE, POST, _w0(seed=7), N_PRE, N_POST)
    rule = _make("additive", "event")

    @eqx.filter_jit
    def go(conn, pre, post):
        bound = rule.bind(conn)
        st = bound.init(None, DT)

        def body(st, sp):
            st, _ = bound.step(st, ns.network.ProjectionDrive(conn, sp[0], sp[1]), 0, DT, None)
            return st, None

        st, _ = jax.lax.scan(body, st, (pre, post))
        return st["w"][: conn.nnz], st["col_syn"].shape[0]

    w_traced, length = go(conn, jnp.asarray(pre), jnp.asarray(post))
    assert length == 2 * conn.nnz
    np.testing.assert_allclose(
        np.asarray(w_traced), _run_rule(rule, conn, pre, post, DT), rtol=1e-6
    )


def test_many_simultaneous_spikes_use_several_chunks():
    """More spiking neurons in a step than one vectorised chunk (32) holds: same result as
    the dense update and the reference (float64)."""
    rng = np.random.default_rng(8)
    n_pre, n_post, steps = 70, 50, 60
    mask = rng.random((n_pre, n_post)) < 0.1
    pre_i, post_i = np.nonzero(mask)
    w0 = rng.uniform(0.2, 0.8, pre_i.size)
    pre = (rng.random((steps, n_pre)) < 0.6).astype(float)
    post = (rng.random((steps, n_post)) < 0.7).astype(float)
    assert pre.sum(1).max() > 32 and post.sum(1).max() > 32
    with jax.enable_x64(True):
        conn = ns.connectivity.from_edges(pre_i, post_i, w0, n_pre, n_post)
        kw = dict(tau_plus=10.0, tau_minus=10.0, a_plus=0.01, a_minus=0.012, w_max=1.0)
        w_ev = _run_rule(ns.plasticity.PairSTDP(**kw), conn, pre, post, DT)
        w_de = _run_rule(ns.plasticity.PairSTDP(**kw, update="dense"), conn, pre, post, DT)
    rule = pair_rule(10.0, 10.0, 0.01, 0.012, 0.0, 1.0, 0.0, 0.0)
    ref = [
        simulate_synapse(
            w0[k],
            list(np.flatnonzero(pre[:, pre_i[k]]) * DT),
            list(np.flatnonzero(post[:, post_i[k]]) * DT),
            rule,
            0.0,
            1.0,
        )[0]
        for k in range(pre_i.size)
    ]  # from_edges with pre-sorted edges keeps their order
    np.testing.assert_allclose(w_ev, w_de, rtol=1e-12)
    np.testing.assert_allclose(w_ev, ref, rtol=1e-9)
