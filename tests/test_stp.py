"""Tsodyks–Markram short-term plasticity against its closed form (regular and irregular trains)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns

# Four presynaptic neurons, four parameter sets (U, tau_rec, tau_facil): depressing
# (Tsodyks, Pawelzik & Markram 1998 Fig. 1: U = 0.5, tau_rec = 800 ms, no facilitation),
# facilitating, mixed, and fast-recovering.
PARAMS = np.array(
    [[0.5, 800.0, 0.0], [0.1, 100.0, 1000.0], [0.25, 300.0, 200.0], [0.6, 20.0, 50.0]]
)


def _recursion(U, tau_rec, tau_facil, intervals):
    """Markram et al. (1998) recursion, written out independently of the package."""
    u, r, amps = U, 1.0, []
    for d in list(intervals) + [None]:
        amps.append(u * r)
        if d is None:
            break
        ef = np.exp(-d / tau_facil) if tau_facil > 0 else 0.0
        u, r = U + u * (1 - U) * ef, 1 + (r * (1 - u) - 1) * np.exp(-d / tau_rec)
    return np.array(amps)


def _released(stp, spikes, dt):
    n = spikes.shape[1]
    conn = ns.connectivity.from_dense(np.eye(n))

    @jax.jit
    def go(spikes):
        bound = stp.bind(conn)

        def body(st, s):
            drive = ns.network.ProjectionDrive(conn, s, jnp.zeros(n, s.dtype))
            st, (vals, _) = bound.step(st, drive, 0, dt, None)
            return st, vals

        return jax.lax.scan(body, bound.init(None, dt), spikes)[1]

    return np.asarray(go(jnp.asarray(spikes)))


def test_regular_and_irregular_trains_follow_the_recursion_float64():
    dt = 0.5
    rng = np.random.default_rng(0)
    steps = np.cumsum(rng.integers(4, 160, size=40))  # irregular intervals 2 .. 80 ms
    T = steps[-1] + 1
    spikes = np.zeros((T, 4))
    spikes[steps] = 1.0
    with jax.enable_x64(True):
        stp = ns.plasticity.TsodyksMarkram(
            U=PARAMS[:, 0], tau_rec=PARAMS[:, 1], tau_facil=PARAMS[:, 2]
        )
        out = _released(stp, spikes, dt)
    for k, (U, tr, tf) in enumerate(PARAMS):
        ref = _recursion(U, tr, tf, np.diff(steps) * dt)
        np.testing.assert_allclose(out[steps, k], ref, rtol=1e-11)
        assert np.all(np.delete(out[:, k], steps) == 0.0)
        # the package's helper is the same recursion
        np.testing.assert_allclose(
            ns.plasticity.tsodyks_markram_train(U, tr, tf, np.diff(steps) * dt)[0], ref, rtol=1e-12
        )


@pytest.mark.parametrize("period_ms", [10.0, 40.0])
def test_regular_train_reaches_the_closed_form_steady_state(period_ms):
    dt, n_spikes = 1.0, 400
    k = int(period_ms / dt)
    spikes = np.zeros((k * n_spikes, 4))
    spikes[::k] = 1.0
    with jax.enable_x64(True):
        stp = ns.plasticity.TsodyksMarkram(
            U=PARAMS[:, 0], tau_rec=PARAMS[:, 1], tau_facil=PARAMS[:, 2]
        )
        out = _released(stp, spikes, dt)
    for j, (U, tr, tf) in enumerate(PARAMS):
        ef = np.exp(-period_ms / tf) if tf > 0 else 0.0
        ed = np.exp(-period_ms / tr)
        u_inf = U / (1 - (1 - U) * ef)
        r_inf = (1 - ed) / (1 - (1 - u_inf) * ed)
        # After 400 spikes the distance to the fixed point has contracted by at least
        # ((1 - U) e^{-T/tau_facil})^400 < 1e-12 and (e^{-T/tau_rec})^400 ... < 1e-10 here.
        np.testing.assert_allclose(out[-k, j], u_inf * r_inf, rtol=1e-8)
        np.testing.assert_allclose(
            ns.plasticity.tsodyks_markram_steady_state(U, tr, tf, period_ms)[2],
            u_inf * r_inf,
            rtol=1e-14,
        )
    # the second PSC: smaller for the depressing synapse, larger for the facilitating one
    assert out[k, 0] < out[0, 0] and out[k, 1] > out[0, 1]


def test_psc_amplitudes_through_a_network_float32():
    """Spike-time generator -> STP projection -> exponential CUBA receptor: the jumps of the
    receptor current are w * u_n * R_n.

    float32: the n-th amplitude comes out of n <= 9 recursion steps, each a handful of
    roundings (gaps are decayed in one exp, not step by step): relative error <~ 10 n eps
    = 1e-5; the jump is a difference of two recorded currents <= 2w, rounding <= 2 eps w
    each (atol)."""
    dt, w, tau_s = 0.1, 40.0, 2.0
    times = np.array([5.0, 15.0, 25.0, 35.0, 45.0, 80.0, 85.0, 90.0, 200.0])
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population("src", ns.inputs.SpikeTimes(2, [times, times], dt=dt))
    b.add_population("post", ns.neurons.LIF(2, v_th=1e6))
    b.connect(
        "src",
        "post",
        ns.connectivity.from_dense(w * np.eye(2)),
        synapse=ns.synapses.Exponential(tau_s),
        delay=1.0,
        dynamics=ns.plasticity.TsodyksMarkram(
            U=[0.5, 0.1], tau_rec=[800.0, 100.0], tau_facil=[0.0, 1000.0]
        ),
    )
    net = b.build()
    res = ns.simulate(net, 210.0, dt, key=jax.random.key(1), record=["post.syn0.g"])
    g = res.traces["post.syn0.g"]  # value after step k
    arrive = np.round((times + 1.0) / dt).astype(int)
    jumps = g[arrive] - g[arrive - 1] * np.float32(np.exp(-dt / tau_s))
    for j, (U, tr, tf) in enumerate([(0.5, 800.0, 0.0), (0.1, 100.0, 1000.0)]):
        ref = w * _recursion(U, tr, tf, np.diff(times))
        np.testing.assert_allclose(jumps[:, j], ref, rtol=1e-5, atol=4 * 1.2e-7 * w)


def test_validation():
    with pytest.raises(ValueError, match="U"):
        ns.plasticity.TsodyksMarkram(U=0.0, tau_rec=100.0)
    with pytest.raises(ValueError, match="U"):
        ns.plasticity.TsodyksMarkram(U=1.5, tau_rec=100.0)
    with pytest.raises(ValueError, match="tau_rec"):
        ns.plasticity.TsodyksMarkram(U=0.5, tau_rec=0.0)
    with pytest.raises(ValueError, match="tau_facil"):
        ns.plasticity.TsodyksMarkram(U=0.5, tau_rec=10.0, tau_facil=-1.0)
    stp = ns.plasticity.TsodyksMarkram(U=[0.5, 0.2, 0.1], tau_rec=10.0)
    with pytest.raises(ValueError, match="U must be a scalar or have shape"):
        stp.bind(ns.connectivity.from_dense(np.eye(2))).init(None, 0.1)
