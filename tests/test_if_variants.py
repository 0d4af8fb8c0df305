"""QIF and ALIF: closed-form inter-spike intervals and threshold adaptation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

import neurosim as ns
from neurosim.neurons import ALIF, QIF, SynapticDrive

DT = 0.1


def _run(neuron, steps, record=()):
    b = ns.NetworkBuilder()
    b.add_population("N", neuron)
    net = b.build()
    _, out = ns.run(net, net.init_state(jax.random.key(0), DT), steps, DT,
                    key=jax.random.key(1), record=record)  # fmt: skip
    return np.asarray(out.spikes["N"]), {k: np.asarray(v) for k, v in out.traces.items()}


def test_qif_isi_matches_closed_form():
    # C dx/dt = k x^2 + I - I_rh with x = v - (v_rest + v_c)/2, I_rh = k (v_c - v_rest)^2 / 4:
    # T = C / sqrt(k (I - I_rh)) [atan(x_peak / w) - atan(x_reset / w)], w = sqrt((I - I_rh)/k)
    # (Ermentrout & Kopell 1986; Izhikevich 2007 §8.1). The spike is stamped at the first step
    # end past the crossing, so T <= ISI <= T + dt, widened by Heun's O(dt^2) = 0.01 ms error.
    c, k, v_rest, v_c, v_peak, v_reset = 100.0, 0.7, -60.0, -40.0, 35.0, -50.0
    i_rh = k * (v_c - v_rest) ** 2 / 4
    currents = np.array([75.0, 100.0, 200.0, 500.0, 1500.0])
    w = np.sqrt((currents - i_rh) / k)
    mid = 0.5 * (v_rest + v_c)
    period = (
        c
        / np.sqrt(k * (currents - i_rh))
        * (np.arctan((v_peak - mid) / w) - np.arctan((v_reset - mid) / w))
    )
    m = QIF(len(currents), c_m=c, k=k, e_l=v_rest, v_c=v_c, v_peak=v_peak,
            v_reset=v_reset, i_e=currents, v_init=v_reset)  # fmt: skip
    np.testing.assert_allclose(m.rheobase(), i_rh, rtol=1e-6)
    spikes, _ = _run(m, 4000)
    for j, t_exp in enumerate(period):
        t = (np.flatnonzero(spikes[:, j]) + 1) * DT
        isi = np.diff(np.r_[0.0, t])  # starts at v_reset at t = 0, like after a spike
        assert len(isi) >= 4
        assert np.all(isi >= t_exp - 0.01) and np.all(isi <= t_exp + DT + 0.01), (isi, t_exp)


def test_qif_below_rheobase_rests_at_stable_node():
    # Below I_rh the stable fixed point is v = mid - sqrt((I_rh - I)/k).
    m = QIF(2, i_e=np.array([0.0, 60.0]))
    spikes, tr = _run(m, 3000, record=["N.v"])
    assert spikes.sum() == 0
    expected = -50.0 - np.sqrt((70.0 - np.array([0.0, 60.0])) / 0.7)
    np.testing.assert_allclose(tr["N.v"][-1], expected, atol=1e-3)


ALIF_P = dict(tau_m=20.0, e_l=-65.0, v_th=-50.0, v_reset=-65.0, t_ref=2.0, g_l=10.0)


def test_alif_threshold_follows_closed_form_and_steady_isi():
    # theta(t) = v_th + beta sum_k exp(-(t - t_k)/tau_a) over the spike stamps t_k
    # (exponential Euler decays a exactly). In the periodic steady state with period T, a
    # jumps to 1/(1 - exp(-T/tau_a)) at each spike, and v relaxes from v_reset after t_ref:
    # v_inf + (v_reset - v_inf) exp(-(T - t_ref)/tau_m) = v_th + beta / (exp(T/tau_a) - 1).
    beta, tau_a = 2.0, 200.0
    currents = np.array([200.0, 300.0, 600.0])
    m = ALIF(3, **ALIF_P, i_e=currents, beta=beta, tau_a=tau_a, v_init=-65.0)
    steps = 20000
    spikes, tr = _run(m, steps, record=["N.a"])
    t_grid = DT * np.arange(1, steps + 1)
    for j, i_e in enumerate(currents):
        idx = np.flatnonzero(spikes[:, j])
        a_exp = np.zeros(steps)
        for i in idx:
            a_exp[i:] += np.exp(-(t_grid[i:] - t_grid[i]) / tau_a)
        # float32 rounding accumulated over 2e4 steps at a <= 11: ~ sqrt(2e4) 6e-8 11 ~ 1e-4.
        np.testing.assert_allclose(tr["N.a"][:, j], a_exp, atol=2e-4)
        v_inf = ALIF_P["e_l"] + i_e / ALIF_P["g_l"]

        def f(t, v_inf=v_inf):
            relax = v_inf + (ALIF_P["v_reset"] - v_inf) * np.exp(-(t - 2.0) / 20.0)
            return relax - ALIF_P["v_th"] - beta / np.expm1(t / tau_a)

        t_ss = brentq(f, 2.0 + 1e-9, 1e4)
        isi = np.diff(idx) * DT
        assert isi[0] < isi[-1], "the threshold adapts: intervals lengthen"
        # Spike stamps lie on the grid: steady intervals within one step of T.
        assert abs(isi[-10:].mean() - t_ss) <= DT, (isi[-10:], t_ss)


def test_alif_reset_modes_and_spike_triggered_current():
    m = ALIF(2, **{**ALIF_P, "t_ref": 0.0}, beta=3.0, b=40.0, tau_w=50.0, reset="subtract")
    s = m.init(jax.random.key(0), DT)
    s = {**s, "v": jnp.array([-49.0, -55.0])}
    s1, spk = m.step(s, SynapticDrive.zeros(2), 0, DT, None)
    np.testing.assert_array_equal(np.asarray(spk), [1.0, 0.0])
    # Overshoot over the threshold is kept: v - (theta - v_reset).
    v_pre = -49.0 + (-65.0 - -49.0) * (1 - np.exp(-DT / 20.0))
    np.testing.assert_allclose(s1["v"][0], v_pre - (-50.0 - -65.0), atol=1e-4)
    np.testing.assert_allclose(s1["a"], [1.0, 0.0])
    np.testing.assert_allclose(s1["w"], [40.0, 0.0])
    step = jax.jit(lambda st: m.step(st, SynapticDrive.zeros(2), 0, DT, None)[0])
    s2 = jax.lax.fori_loop(0, 100, lambda i, st: step(st), s1)
    np.testing.assert_allclose(s2["w"][0], 40.0 * np.exp(-10.0 / 50.0), rtol=1e-5)
    np.testing.assert_allclose(s2["a"][0], np.exp(-10.0 / 200.0), rtol=1e-5)


def test_alif_gradient_through_spikes():
    def count(beta):
        m = ALIF(1, **ALIF_P, beta=beta, i_e=400.0)
        st = m.init(jax.random.key(0), DT)

        def body(st, _):
            st, spk = m.step(st, SynapticDrive.zeros(1), 0, DT, None)
            return st, spk[0]

        return jnp.sum(jax.lax.scan(body, st, None, length=400)[1])

    n, g = jax.value_and_grad(count)(jnp.asarray(2.0))
    assert float(n) >= 2 and np.isfinite(float(g)) and float(g) < 0


@pytest.mark.parametrize(
    "cls, kwargs, name",
    [
        (QIF, {"v_c": -70.0}, "v_c"),
        (QIF, {"k": 0.0}, "k"),
        (QIF, {"v_reset": 40.0}, "v_reset"),
        (ALIF, {"tau_a": 0.0}, "tau_a"),
        (ALIF, {"tau_w": -1.0}, "tau_w"),
        (ALIF, {"reset": "zero"}, "reset"),
    ],
)
def test_bad_parameters_raise(cls, kwargs, name):
    with pytest.raises(ValueError, match=name):
        cls(2, **kwargs)
