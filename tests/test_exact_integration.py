"""Exact integration of LIF + current kinetics (Rotter & Diesmann 1999) against closed forms.

The kernels are checked against their closed forms (distinct rates) and limits (equal rates);
the network PSPs (float32, the default dtype) against the continuous PSP of an exponential
and an alpha current at dt = 0.1 ms, including the degenerate ``tau_s == tau_m``.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns

DT, TAU_M, G_L, E_L = 0.1, 20.0, 10.0, -70.0
C_M = TAU_M * G_L


def _k1_closed(h, a, b):
    return (np.exp(-b * h) - np.exp(-a * h)) / (a - b)


def _k2_closed(h, a, b, c):  # distinct rates: second divided difference of exp(-h x)
    e = np.exp(-h * np.array([a, b, c]))
    return e[0] / ((b - a) * (c - a)) + e[1] / ((a - b) * (c - b)) + e[2] / ((a - c) * (b - c))


def test_kernels_match_closed_forms_and_limits():
    k1, k2 = ns.integrators.exp_kernel, ns.integrators.exp_kernel2
    cases = np.array([(0.1, 0.05, 2.0, 0.2), (1.0, 0.05, 0.5, 10.0), (30.0, 0.2, 0.05, 1.0)])
    h, a, b, c = cases.T
    with jax.enable_x64(True):
        np.testing.assert_allclose(k1(h, a, b), _k1_closed(h, a, b), rtol=1e-12)
        np.testing.assert_allclose(k2(h, a, b, c), _k2_closed(h, a, b, c), rtol=1e-9)
        np.testing.assert_allclose(k2(h, c, a, b), k2(h, a, b, c), rtol=1e-13)  # symmetric
        h, a = 0.1, 0.05
        np.testing.assert_allclose(k1(h, a, 0.0), -np.expm1(-a * h) / a, rtol=1e-14)
        np.testing.assert_allclose(k1(h, a, a), h * np.exp(-a * h), rtol=1e-14)
        np.testing.assert_allclose(k2(h, a, a, a), h * h * np.exp(-a * h) / 2, rtol=1e-14)
        # k2(h; a, a, c) = (k1(h; a, c) - h e^{-a h}) / (a - c)
        c = np.array([0.06, 0.5, 3.0])
        ref = (_k1_closed(h, a, c) - h * np.exp(-a * h)) / (a - c)
        np.testing.assert_allclose(k2(h, a, a, c), ref, rtol=1e-9)
        # continuity: d k2/dc = -k3 with 0 < k3 < h^3/6, so a gap eps moves k2 by < eps h^3/6
        eps = np.array([1e-9, 1e-6, 1e-3])
        gap = np.asarray(k2(h, a, a, a + eps)) - h * h * np.exp(-a * h) / 2
        assert np.all((-eps * h**3 / 6 <= gap) & (gap <= 0))
        rates = np.array([(0.05, 0.05, 0.05), (0.05, 0.5, 0.5), (0.05, 0.2, 0.5), (0.05, 2, 2)])
        ref1, ref2 = np.asarray(k1(DT, *rates.T[:2])), np.asarray(k2(DT, *rates.T))
    # float32: the same values to float32 rounding (no cancellation near equal rates)
    r32 = [jnp.asarray(x, jnp.float32) for x in rates.T]
    np.testing.assert_allclose(k1(jnp.float32(DT), *r32[:2]), ref1, rtol=2e-6)
    np.testing.assert_allclose(k2(jnp.float32(DT), *r32), ref2, rtol=2e-6)


def _exp_psp(s, w, ts):
    if ts == TAU_M:
        return (w / C_M) * s * np.exp(-s / TAU_M)
    return (w / C_M) * TAU_M * ts / (ts - TAU_M) * (np.exp(-s / ts) - np.exp(-s / TAU_M))


def _alpha_psp(s, w, ts):
    if ts == TAU_M:
        return (w * np.e / (C_M * ts)) * s * s / 2 * np.exp(-s / ts)
    a = 1.0 / ts - 1.0 / TAU_M
    return (w * np.e / (C_M * ts)) * (
        (np.exp(-s / TAU_M) - np.exp(-s / ts)) / a**2 - s * np.exp(-s / ts) / a
    )


TAUS = (0.5, 2.0, 5.0, TAU_M)  # the last: tau_s == tau_m, the degenerate propagator


def test_exp_and_alpha_psps_within_0p1_percent_float32():
    """Must-show: amplitude and time course within 0.1 % at dt = 0.1 ms, float32."""
    n_steps, w = 450, 100.0  # pA
    shapes = [(k, ts) for ts in TAUS for k in ("exp", "alpha")]
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population(
        "pre", ns.neurons.LIF(1, v_init=0.0, e_l=-65.0, v_th=-50.0, v_reset=-70.0, t_ref=1e4)
    )
    post = ns.neurons.LIF(len(shapes), tau_m=TAU_M, g_l=G_L, e_l=E_L, v_th=0.0, v_init=E_L)
    b.add_population("post", post, groups={f"g{j}": 1 for j in range(len(shapes))})
    for j, (kind, ts) in enumerate(shapes):  # one receptor per shape, one neuron each
        syn = ns.synapses.Exponential(ts) if kind == "exp" else ns.synapses.Alpha(ts)
        b.connect("pre", f"g{j}", ns.connectivity.from_dense(np.full((1, 1), w)), synapse=syn)
    net = b.build()
    _, out = ns.run(
        net,
        net.init_state(jax.random.key(1), DT),
        n_steps,
        DT,
        key=jax.random.key(2),
        record=["post.v"],
    )
    assert np.flatnonzero(np.asarray(out.spikes["pre"])[:, 0]).tolist() == [0]
    s = DT * np.arange(n_steps)  # sample m: m dt after the current's onset (end of step 0)
    v = np.asarray(out.traces["post.v"], np.float64)
    for j, (kind, ts) in enumerate(shapes):
        u = v[:, j] - E_L
        ref = (_exp_psp if kind == "exp" else _alpha_psp)(s, w, ts)
        peak = ref.max()
        assert ref.argmax() < n_steps - 10, "the run must contain the peak"
        err = np.abs(u - ref).max() / peak
        assert err < 1e-3, f"{kind} tau_s={ts}: time course off by {err:.2e} of the peak"
        assert abs(u.max() / peak - 1) < 1e-3, f"{kind} tau_s={ts}: amplitude"
        assert u.argmax() == ref.argmax()


def test_held_current_bias_reachable_with_expeuler():
    """``ExpEuler`` holds the current over the step: the old PSP bias (dt/tau_s)/(1-e^-dt/tau_s).

    With the current held at its start-of-step value ``I_m = w e^{-m dt/tau_s}``, each step
    contributes ``I_m k1(dt; 1/tau_m, 0)`` instead of ``I_m k1(dt; 1/tau_m, 1/tau_s)`` and
    both propagate alike, so the held PSP is the exact one times
    ``k1(dt; 1/tau_m, 0) / k1(dt; 1/tau_m, 1/tau_s)`` at every sample: the issue's
    ``(dt/tau_s)/(1 - e^{-dt/tau_s})`` up to a relative ``O(dt/tau_m)``.
    """
    ts, w, n_steps = 0.5, 100.0, 400
    with jax.enable_x64(True):
        ue, uh = _exact_and_held(ts, w, n_steps)
    lm, ls = 1 / TAU_M, 1 / ts
    ratio = (-np.expm1(-DT * lm) / lm) / _k1_closed(DT, lm, ls)
    np.testing.assert_allclose(uh[1:] / ue[1:], ratio, rtol=1e-9)
    factor = (DT / ts) / -np.expm1(-DT / ts)  # +10.3 % at tau_s = 0.5 ms, dt = 0.1 ms
    np.testing.assert_allclose(ratio, factor, rtol=DT / TAU_M)


def _exact_and_held(ts, w, n_steps):
    b = ns.NetworkBuilder(key=jax.random.key(0))
    b.add_population(
        "pre", ns.neurons.LIF(1, v_init=0.0, e_l=-65.0, v_th=-50.0, v_reset=-70.0, t_ref=1e4)
    )
    for name, integ in (("exact", None), ("held", ns.integrators.ExpEuler())):
        b.add_population(
            name,
            ns.neurons.LIF(
                1, tau_m=TAU_M, g_l=G_L, e_l=E_L, v_th=0.0, v_init=E_L, integrator=integ
            ),
        )
        b.connect(
            "pre",
            name,
            ns.connectivity.from_dense(np.full((1, 1), w)),
            synapse=ns.synapses.Exponential(ts),
        )
    net = b.build()
    _, out = ns.run(
        net,
        net.init_state(jax.random.key(1), DT),
        n_steps,
        DT,
        key=jax.random.key(2),
        record=["exact.v", "held.v"],
    )
    ue = np.asarray(out.traces["exact.v"])[:, 0] - E_L
    uh = np.asarray(out.traces["held.v"])[:, 0] - E_L
    return ue, uh


@pytest.mark.parametrize("integ", [None, "expeuler"])
def test_coba_receptors_keep_held_conductance(integ):
    """COBA is not linear with constant coefficients: its conductance is held either way."""
    integrator = ns.integrators.ExpEuler() if integ else None
    lif = ns.neurons.LIF(2, tau_m=TAU_M, g_l=G_L, e_l=E_L, integrator=integrator)
    rec = ns.network.Receptor(
        name="e", kinetics=ns.synapses.Exponential(5.0).bind(2), output=ns.synapses.COBA(0.0)
    )
    pop = ns.network.Population(name="P", neuron=lif, receptors=(rec,), groups=())
    st = ({"g": jnp.array([3.0, 0.0])},)
    v = jnp.array([-60.0, -60.0])
    d = pop.drive(st, v, DT)
    np.testing.assert_allclose(d.conductance, [3.0, 0.0])
    np.testing.assert_allclose(d.current, [0.0, 0.0])
