"""Postsynaptic potentials on an LIF through the network, against closed forms.

One presynaptic LIF fires exactly once, in step 0 (it starts above threshold and its
refractory period outlasts the run); the spike reaches the receptors at the end of step 0, so
the synaptic variable has its post-spike value from ``t0 = dt`` on. Trace sample ``m`` (the
state after step ``m``) is then at time ``s = m dt`` after onset.

Default (``Exact`` integrator): the current-based PSPs equal the continuous closed forms to
rounding (float64) at every sample (:func:`test_current_psps_exact_by_default`).

The old behaviour, reachable with ``integrator=ExpEuler()``, is checked twice per shape, in
float64 (:func:`test_current_psps_match_closed_forms`):

1. *Implementation*: the neuron integrates ``v`` with the synaptic variable held at its value
   at the start of each step (exact exponential Euler for the LIF), i.e.
   ``u_{m+1} = P u_m + (1 - P) I_m / g_L`` with ``u = v - E_L``, ``P = exp(-dt/tau_m)`` and
   ``I_m = I(m dt)``; the simulation must match this recurrence to rounding.
2. *Closed form*: the continuous PSP (Rotter & Diesmann 1999 for an exponential current; the
   analogous convolution for alpha and dual-exponential currents). Holding the current over a
   step errs by at most the current's total variation ``TV_m`` over that step, and the membrane
   is a positive linear filter, so ``|u_sim - u_exact| <= B_m`` where ``B`` obeys the same
   recurrence driven by ``TV_m`` (for an exponential current ``B = (1 - e^{-dt/tau_s}) u``, a
   4.9 % relative error at dt = 0.1 ms, tau_s = 2 ms).
"""

import jax
import numpy as np

import neurosim as ns

DT, TAU_M, G_L, E_L, N_STEPS = 0.1, 20.0, 10.0, -70.0, 800
C_M = TAU_M * G_L  # 200 pF
P = np.exp(-DT / TAU_M)


def _post_lif(n=1, **kw):
    return ns.neurons.LIF(n, tau_m=TAU_M, g_l=G_L, e_l=E_L, v_th=0.0, v_init=E_L, **kw)


def _run_one_spike(posts, n_steps=N_STEPS):
    """``posts``: ``{name: (neuron, dict of connect kwargs)}``; returns v traces (n_steps, n)."""
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population(
        "pre", ns.neurons.LIF(1, v_init=0.0, e_l=-65.0, v_th=-50.0, v_reset=-70.0, t_ref=1e4)
    )
    for name, (neuron, kw) in posts.items():
        b.add_population(name, neuron)
        w = np.full((1, neuron.n), kw.pop("w"))
        b.connect("pre", name, ns.connectivity.from_dense(w), **kw)
    net = b.build()
    s0 = net.init_state(jax.random.key(1), DT)
    _, out = ns.run(net, s0, n_steps, DT, key=jax.random.key(2), record=[f"{k}.v" for k in posts])
    assert np.flatnonzero(np.asarray(out.spikes["pre"])[:, 0]).tolist() == [0]
    return {k: np.asarray(out.traces[f"{k}.v"], np.float64) for k in posts}


def _held(i_samples):
    """``u_m`` (m = 0..len) of an LIF driven by ``i_samples[m]`` held over step m."""
    u = np.zeros(len(i_samples) + 1)
    for m, i_m in enumerate(i_samples):
        u[m + 1] = P * u[m] + (1 - P) * i_m / G_L
    return u


def _total_variation(current, t_peak, n):
    """Total variation of a unimodal ``current(s)`` over each step ``[m dt, (m+1) dt]``."""
    s = DT * np.arange(n + 1)
    i = current(s)
    tv = np.abs(np.diff(i))
    k = int(np.floor(t_peak / DT))
    if k < n:
        ip = current(np.array([t_peak]))[0]
        tv[k] = abs(ip - i[k]) + abs(ip - i[k + 1])
    return tv


def _exp_psp(s, w, ts):
    """Rotter & Diesmann (1999): PSP of ``I = w exp(-s/ts)`` into a leaky membrane."""
    return (w / C_M) * TAU_M * ts / (ts - TAU_M) * (np.exp(-s / ts) - np.exp(-s / TAU_M))


def _alpha_psp(s, w, ts):
    """PSP of ``I = w (s/ts) exp(1 - s/ts)``: (w e/(C ts)) int_0^s e^{-(s-x)/tm} x e^{-x/ts} dx."""
    a = 1.0 / ts - 1.0 / TAU_M
    return (w * np.e / (C_M * ts)) * (
        (np.exp(-s / TAU_M) - np.exp(-s / ts)) / a**2 - s * np.exp(-s / ts) / a
    )


def _check(u_sim, current, exact, t_peak):
    n = len(u_sim) - 1
    s = DT * np.arange(n + 1)
    u_held = _held(current(s[:-1]))
    np.testing.assert_allclose(u_sim, u_held, rtol=0, atol=1e-9)
    bound = _held(_total_variation(current, t_peak, n))
    u_exact = exact(s)
    assert np.all(np.abs(u_sim - u_exact) <= bound + 1e-9)
    assert bound.max() < 0.1 * u_exact.max()  # the check is informative (~dt/tau_s)


def _three_shapes(w, ts, tr, td, **kw):
    return {
        "exp": (_post_lif(**kw), dict(w=w, synapse=ns.synapses.Exponential(ts))),
        "alpha": (_post_lif(**kw), dict(w=w, synapse=ns.synapses.Alpha(ts))),
        "dual": (_post_lif(**kw), dict(w=w, synapse=ns.synapses.DualExponential(tr, td))),
    }


def test_current_psps_exact_by_default():
    """LIF default (``Exact``): every sample equals the continuous PSP to float64 rounding."""
    w, ts, tr, td = 100.0, 2.0, 1.0, 5.0  # pA, ms
    tp_dual = tr * td / (td - tr) * np.log(td / tr)
    norm = 1.0 / (np.exp(-tp_dual / td) - np.exp(-tp_dual / tr))
    with jax.enable_x64(True):
        v = _run_one_spike(_three_shapes(w, ts, tr, td))
    u = {k: x[:, 0] - E_L for k, x in v.items()}
    s = DT * np.arange(N_STEPS)  # sample m (the state after step m) is at s = m dt
    exact = {
        "exp": _exp_psp(s, w, ts),
        "alpha": _alpha_psp(s, w, ts),
        "dual": w * norm * (_exp_psp(s, 1.0, td) - _exp_psp(s, 1.0, tr)),
    }
    for k in u:
        np.testing.assert_allclose(u[k], exact[k], rtol=1e-10, atol=1e-12, err_msg=k)


def test_current_psps_match_closed_forms():
    w, ts, tr, td = 100.0, 2.0, 1.0, 5.0  # pA, ms
    tp_dual = tr * td / (td - tr) * np.log(td / tr)
    norm = 1.0 / (np.exp(-tp_dual / td) - np.exp(-tp_dual / tr))
    with jax.enable_x64(True):
        v = _run_one_spike(_three_shapes(w, ts, tr, td, integrator=ns.integrators.ExpEuler()))
    u = {k: x[:, 0] - E_L for k, x in v.items()}  # sample m: s = m dt after onset
    _check(u["exp"], lambda s: w * np.exp(-s / ts), lambda s: _exp_psp(s, w, ts), 0.0)
    _check(
        u["alpha"],
        lambda s: w * (s / ts) * np.exp(1 - s / ts),
        lambda s: _alpha_psp(s, w, ts),
        ts,
    )
    _check(
        u["dual"],
        lambda s: w * norm * (np.exp(-s / td) - np.exp(-s / tr)),
        lambda s: w * norm * (_exp_psp(s, 1.0, td) - _exp_psp(s, 1.0, tr)),
        tp_dual,
    )
    # Peak of the exponential-current PSP (Rotter & Diesmann): t* = tm ts ln(tm/ts)/(tm - ts).
    t_star = TAU_M * ts * np.log(TAU_M / ts) / (TAU_M - ts)
    np.testing.assert_allclose(u["exp"].max(), _exp_psp(t_star, w, ts), rtol=0.05)


def test_delta_synapse_jump_is_exact():
    w = 2.0  # mV
    with jax.enable_x64(True):
        v = _run_one_spike({"d": (_post_lif(), dict(w=w, synapse=ns.synapses.Delta()))}, 200)
    v = v["d"][:, 0]
    # Spike in step 0 -> receptor at the end of step 0 -> jump added at the end of step 1.
    assert v[0] == E_L
    m = np.arange(1, 200)
    np.testing.assert_allclose(v[1:], E_L + w * P ** (m - 1), rtol=0, atol=1e-12)


def test_coba_psp_sign_follows_reversal_potential():
    """Held at v_hold by a bias current, a COBA input pulls v toward e_rev (and not at e_rev)."""
    e_rev, w, tau = -70.0, 5.0, 5.0
    v_hold = np.array([-60.0, -70.0, -80.0])
    i_e = G_L * (v_hold - E_L)
    with jax.enable_x64(True):
        post = ns.neurons.LIF(
            3, tau_m=TAU_M, g_l=G_L, e_l=E_L, v_th=0.0, v_init=v_hold, i_e=i_e, t_ref=0.0
        )
        syn = dict(w=w, synapse=ns.synapses.Exponential(tau), output=ns.synapses.COBA(e_rev))
        v = _run_one_spike({"c": (post, syn)}, 300)["c"]
    # Recurrence with g held over each step: v -> v_inf + (v - v_inf) exp(-dt (g_L + g)/C).
    g = np.concatenate([[0.0], w * np.exp(-DT * np.arange(299) / tau)])
    ref = np.empty((300, 3))
    x = v_hold.copy()
    for m in range(300):
        v_inf = (G_L * E_L + i_e + g[m] * e_rev) / (G_L + g[m])
        x = v_inf + (x - v_inf) * np.exp(-DT * (G_L + g[m]) / C_M)
        ref[m] = x
    np.testing.assert_allclose(v, ref, rtol=0, atol=1e-9)
    du = v - v_hold
    assert np.all(du[1:, 0] < 0) and np.all(du[1:, 2] > 0)
    np.testing.assert_allclose(du[:, 1], 0.0, atol=1e-9)
    # Small-conductance limit: the two PSPs are mirror images to first order in g/g_L.
    assert abs(du[:, 0].min() + du[:, 2].max()) < 0.5 * w / G_L * du[:, 2].max()


def test_mg_block_psp_uses_start_of_step_potential():
    """NMDA through MgBlock: the step integrates g B(v_start) (E - v), for mg = 1 and mg = 0."""
    tr, td, w = 2.0, 100.0, 2.0
    v_hold = np.array([-80.0, -50.0, -20.0])
    i_e = G_L * (v_hold - E_L)

    def post():
        return ns.neurons.LIF(3, tau_m=TAU_M, g_l=G_L, e_l=E_L, v_th=50.0, v_init=v_hold, i_e=i_e)

    with jax.enable_x64(True):
        v = _run_one_spike(
            {
                "mg1": (post(), dict(w=w, synapse=ns.synapses.NMDA(tau_rise=tr, tau_decay=td))),
                "mg0": (post(), dict(w=w, synapse=ns.synapses.NMDA(mg=0.0))),
            },
            300,
        )
    tp = tr * td / (td - tr) * np.log(td / tr)
    norm = 1.0 / (np.exp(-tp / td) - np.exp(-tp / tr))
    s = DT * np.arange(299)
    g = np.concatenate([[0.0], w * norm * (np.exp(-s / td) - np.exp(-s / tr))])
    for name, mg in (("mg1", 1.0), ("mg0", 0.0)):
        x, ref = v_hold.copy(), np.empty((300, 3))
        for m in range(300):
            gb = g[m] / (1.0 + mg / 3.57 * np.exp(-0.062 * x))  # Jahr & Stevens 1990
            v_inf = (G_L * E_L + i_e + gb * 0.0) / (G_L + gb)
            x = v_inf + (x - v_inf) * np.exp(-DT * (G_L + gb) / C_M)
            ref[m] = x
        np.testing.assert_allclose(v[name], ref, rtol=0, atol=1e-9)
    # The block: hyperpolarised cells see a far smaller NMDA response than unblocked ones.
    du1, du0 = v["mg1"] - v_hold, v["mg0"] - v_hold
    ratio = du1.max(axis=0) / du0.max(axis=0)
    b = 1.0 / (1.0 + np.exp(-0.062 * v_hold) / 3.57)
    # Depolarisation by the PSP itself unblocks slightly, so the ratio is at least B(v_hold).
    assert np.all(ratio >= b * (1 - 1e-6)) and np.all(ratio < 1.0)
    assert ratio[0] < 0.1 < 0.4 < ratio[2]
