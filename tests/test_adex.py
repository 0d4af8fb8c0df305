"""ExpIF / AdEx: Naud et al. (2008) firing patterns, rheobase formulas, drive, gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
from neurosim.neurons import ADEX_NAUD_2008, AdEx, ExpIF, SynapticDrive

DT = 0.1


def _spike_times(spikes, j, dt=DT):
    # A spike in step i is stamped at the end of the step, (i + 1) dt.
    return (np.flatnonzero(np.asarray(spikes)[:, j]) + 1) * dt


def test_naud_2008_presets_give_their_firing_patterns():
    # Naud, Marcille, Clopath & Gerstner (2008), Table 1 and Fig. 4: each parameter set under
    # its step current shows the named pattern. One population holds all eight sets.
    names = list(ADEX_NAUD_2008)
    t_on, t_off = 50.0, 1050.0
    i_step = np.array([ADEX_NAUD_2008[k]["i_step"] for k in names])
    b = ns.NetworkBuilder()
    b.add_population("A", AdEx.from_presets(names))
    b.add_input("A", ns.inputs.StepCurrent([t_on], i_step[None, :]))
    net = b.build()
    _, out = ns.run(net, net.init_state(jax.random.key(0), DT), int(t_off / DT), DT,
                    key=jax.random.key(1))  # fmt: skip
    got = {k: ns.analysis.firing_pattern(_spike_times(out.spikes["A"], j), t_on, t_off)
           for j, k in enumerate(names)}  # fmt: skip
    assert got == {k: k for k in names}


def _rheobase_net(expif_currents, adex_currents, adex_kw):
    b = ns.NetworkBuilder()
    b.add_population("E", ExpIF(len(expif_currents), i_e=np.asarray(expif_currents)))
    b.add_population("A", AdEx(len(adex_currents), i_e=np.asarray(adex_currents), **adex_kw))
    return b.build()


def test_rheobase_formulas():
    # ExpIF: I_rh = g_L (V_T - E_L - Delta_T) (Fourcaud-Trocmé et al. 2003). AdEx in the
    # saddle-node regime (a/g_L < tau_m/tau_w): I_rh = (g_L + a)(V_T - E_L - Delta_T +
    # Delta_T ln(1 + a/g_L)) (Touboul 2008). Brette & Gerstner (2005) parameters, a = 1 nS
    # (a/g_L = 0.033 < tau_m/tau_w = 0.065), b = 0 so that the rest state is the only attractor
    # below the rheobase. Fixed points of a one-step integrator are those of the ODE, so the
    # bifurcation is exact up to rounding: +-1 % brackets it. Near a saddle-node the passage
    # time ~ pi / sqrt(alpha beta) is ~140 ms at +1 %, so 2 s show sustained firing.
    c, g_l, e_l, v_t, d_t, tau_w, a = 281.0, 30.0, -70.6, -50.4, 2.0, 144.0, 1.0
    assert a / g_l < (c / g_l) / tau_w
    i_exp = g_l * (v_t - e_l - d_t)
    i_adex = (g_l + a) * (v_t - e_l - d_t + d_t * np.log(1 + a / g_l))
    scale = np.array([0.99, 1.01])
    net = _rheobase_net(i_exp * scale, i_adex * scale, dict(a=a, b=0.0))
    np.testing.assert_allclose(net.populations[0].neuron.rheobase(), i_exp, rtol=1e-6)
    np.testing.assert_allclose(net.populations[1].neuron.rheobase(), i_adex, rtol=1e-6)
    _, out = ns.run(net, net.init_state(jax.random.key(0), DT), 20000, DT, key=jax.random.key(1))
    late = {k: np.asarray(s)[10000:].sum(0) for k, s in out.spikes.items()}
    assert late["E"][0] == 0 and late["E"][1] >= 3
    assert late["A"][0] == 0 and late["A"][1] >= 3


def test_adex_adaptation_current_jumps_by_b_and_decays():
    # One spike, then no input: w jumps by b at the spike and relaxes with tau_w towards
    # a (v - E_L) (a = 0 here: pure exponential decay w(t) = w_0 exp(-t/tau_w)).
    m = AdEx(1, a=0.0, b=50.0, tau_w=100.0, v_init=-40.0)  # above threshold: fires at once
    s = m.init(jax.random.key(0), DT)
    z = SynapticDrive.zeros(1)
    s, spk = m.step(s, z, 0, DT, None)
    for _ in range(20):
        if spk[0]:
            break
        s, spk = m.step(s, z, 0, DT, None)
    assert spk[0] == 1.0
    np.testing.assert_allclose(s["w"], 50.0, rtol=1e-6)
    np.testing.assert_allclose(s["v"], m.v_reset)
    w0 = float(s["w"][0])
    s = jax.lax.fori_loop(0, 100, lambda i, st: m.step(st, z, 0, DT, None)[0], s)
    # Heun on dw/dt = -w/tau: factor (1 - h + h^2/2) per step, exact to O(h^3) per step.
    np.testing.assert_allclose(s["w"], w0 * np.exp(-10.0 / 100.0), rtol=1e-5)


def test_drive_conductance_current_and_jump():
    m = AdEx(3, a=0.0, b=0.0)
    s = m.init(jax.random.key(0), DT)  # v = E_L: the intrinsic currents vanish (but the
    # exponential one, g_L D_T exp(-10.1) = 2.4e-3 pA)
    g = jnp.array([0.0, 2.0, 0.0])
    drive = SynapticDrive(g, g * 0.0 + jnp.array([100.0, 0.0, 0.0]), jnp.array([0.0, 0.0, 3.0]))
    s1, _ = m.step(s, drive, 0, 0.01, None)
    dv = np.asarray(s1["v"] - s["v"])
    i_spk = 30.0 * 2.0 * np.exp((-70.6 + 50.4) / 2.0)
    # 100 pA into 281 pF for 0.01 ms; 2 nS towards 0 mV from -70.6 mV; a 3 mV jump.
    np.testing.assert_allclose(dv[0], 0.01 * (100.0 + i_spk) / 281.0, rtol=1e-3)
    np.testing.assert_allclose(dv[1], 0.01 * (2.0 * 70.6 + i_spk) / 281.0, rtol=1e-2)
    np.testing.assert_allclose(dv[2], 3.0 + 0.01 * i_spk / 281.0, rtol=1e-5)


def test_gradient_matches_finite_differences_and_flows_through_spikes():
    def mean_v(a, i_e, steps=100, b=10.0):
        m = AdEx(1, a=a, i_e=i_e, b=b)
        s = m.init(jax.random.key(0), DT)
        z = SynapticDrive.zeros(1)

        def body(st, _):
            st, spk = m.step(st, z, 0, DT, None)
            return st, (st["v"][0], spk[0])

        _, (v, spk) = jax.lax.scan(body, s, None, length=steps)
        return jnp.mean(v), jnp.sum(spk)

    # Subthreshold and b = 0 the run is smooth in the parameters and the surrogate derivative
    # of the (absent) spikes does not enter the state: autodiff equals the true derivative.
    # (With b != 0, w + b * spike carries the surrogate's pseudo-derivative by design.)
    with jax.enable_x64(True):
        x = (jnp.asarray(4.0), jnp.asarray(300.0))
        g = jax.grad(lambda a, i: mean_v(a, i, b=0.0)[0], argnums=(0, 1))(*x)
        f = jax.jit(lambda a, i: mean_v(a, i, b=0.0)[0])
        for k, h in ((0, 1e-4), (1, 1e-3)):
            xp, xm = list(x), list(x)
            xp[k], xm[k] = x[k] + h, x[k] - h
            np.testing.assert_allclose(float(g[k]), float((f(*xp) - f(*xm)) / (2 * h)), rtol=1e-6)
    # Through spikes (float32): finite, non-zero surrogate gradient of the spike count.
    n_spk, g_spk = jax.value_and_grad(lambda i: mean_v(4.0, i, 100)[1])(jnp.asarray(1500.0))
    assert float(n_spk) >= 1 and np.isfinite(float(g_spk)) and float(g_spk) > 0


@pytest.mark.parametrize(
    "cls, kwargs, name",
    [
        (AdEx, {"tau_w": 0.0}, "tau_w"),
        (AdEx, {"delta_t": -1.0}, "delta_t"),
        (AdEx, {"c_m": 0.0}, "c_m"),
        (AdEx, {"v_peak": -60.0}, "v_peak"),
        (ExpIF, {"v_reset": 10.0}, "v_reset"),
        (ExpIF, {"g_l": float("nan")}, "g_l"),
        (ExpIF, {"t_ref": -1.0}, "t_ref"),
    ],
)
def test_bad_parameters_raise(cls, kwargs, name):
    with pytest.raises(ValueError, match=name):
        cls(3, **kwargs)


def test_unknown_preset_raises():
    with pytest.raises(ValueError, match="unknown AdEx presets"):
        AdEx.from_presets(["tonic", "nope"])


# NEST 3 aeif_psc_delta spike times (ms) in [0, 300): benchmarks/reference/adex_nest.py.
NEST_TIMES = {
    "bg800": [17.8, 40.5, 71.3, 114.5, 171.6, 236.2],
    "bg1500": [6.7, 13.9, 21.6, 29.9, 38.8, 48.5, 58.9, 70.1, 82.2, 95.1, 108.7, 123.1, 138.2,
               153.9, 170.1, 186.6, 203.5, 220.7, 238.0, 255.4, 273.0, 290.6],
    "adapting": [15.0, 26.2, 40.6, 60.2, 89.6, 137.4, 205.1, 279.9],
    "initial_burst": [5.5, 8.9, 16.3, 71.0, 135.1, 199.1, 263.0],
}  # fmt: skip


def test_spike_times_match_nest():
    # NEST integrates with adaptive RKF45 inside each 0.1 ms step, resets at the crossing and
    # stamps the spike at the end of the step (up to 0.1 ms late). Here, with Heun at
    # dt = 0.01 ms, the reset happens at the end of the step of the crossing, up to dt late,
    # and these lags add up over spikes: the k-th spike (k = 1, 2, ...) may differ by
    # 0.1 + k dt, plus Heun's O(dt^2) error.
    bg = dict(c_m=281.0, g_l=30.0, e_l=-70.6, v_t=-50.4, delta_t=2.0, tau_w=144.0, a=4.0,
              b=80.5, v_reset=-70.6)  # fmt: skip
    sets = [bg, bg, ADEX_NAUD_2008["adapting"], ADEX_NAUD_2008["initial_burst"]]
    keys = ["c_m", "g_l", "e_l", "v_t", "delta_t", "tau_w", "a", "b", "v_reset"]
    params = {k: np.array([s[k] for s in sets], float) for k in keys}
    m = AdEx(4, **params, i_e=np.array([800.0, 1500.0, 500.0, 400.0]), v_peak=0.0)
    b = ns.NetworkBuilder()
    b.add_population("A", m)
    net = b.build()
    dt = 0.01
    _, out = ns.run(net, net.init_state(jax.random.key(0), dt), 30000, dt, key=jax.random.key(1))
    for j, name in enumerate(NEST_TIMES):
        t = _spike_times(out.spikes["A"], j, dt)
        ref = np.asarray(NEST_TIMES[name])
        assert len(t) == len(ref), (name, t)
        bound = 0.1 + dt * np.arange(1, len(ref) + 1) + 1e-3
        assert np.all(np.abs(t - ref) <= bound), (name, t - ref)
