"""Hodgkin–Huxley 1952: resting potential, class-II onset and f–I curve.

Reference numbers: Brian2 2.9 (exponential Euler, dt = 0.025 ms, float64) on the same
equations, ``benchmarks/reference/hh1952_fi_brian2.py``; onset of periodic firing at
I ~ 6.26 µA/cm² (Rinzel & Miller 1980, Math. Biosci. 49:27). At the default patch size
(100 µm²) 1 pA is 1 µA/cm².
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

import neurosim as ns
from neurosim.neurons import HodgkinHuxley, SynapticDrive

DT = 0.025
COARSE = np.arange(0.0, 20.01, 2.0)
FINE = np.array([6.24, 6.26, 6.28, 6.30])
# Brian2 rates (Hz) at 0, 1, ..., 20 µA/cm² (hh1952_fi_brian2.py), every second one here.
BRIAN2_RATES = np.array(
    [0, 0, 0, 0, 0, 0, 0, 57.60, 61.71, 64.83, 67.48, 69.85, 72.00, 74.00, 75.86, 77.62,
     79.29, 80.88, 82.41, 83.88, 85.29]
)[::2]  # fmt: skip


def _rest_potential():
    """Zero of the steady-state current at I = 0 (gates at their steady state), float64."""

    def x(v, k):
        return v / np.expm1(v / k)

    def i_ss(v):
        a_m, b_m = 0.1 * x(-(v + 40), 10), 4 * np.exp(-(v + 65) / 18)
        a_h, b_h = 0.07 * np.exp(-(v + 65) / 20), 1 / (1 + np.exp(-(v + 35) / 10))
        a_n, b_n = 0.01 * x(-(v + 55), 10), 0.125 * np.exp(-(v + 65) / 80)
        m, h, n = a_m / (a_m + b_m), a_h / (a_h + b_h), a_n / (a_n + b_n)
        return 120 * m**3 * h * (v - 50) + 36 * n**4 * (v + 77) + 0.3 * (v + 54.387)

    return brentq(i_ss, -70.0, -60.0)


@pytest.fixture(scope="module")
def fi_run():
    currents = np.concatenate([COARSE, FINE])
    b = ns.NetworkBuilder()
    b.add_population("H", HodgkinHuxley(len(currents), i_e=currents))
    net = b.build()
    _, out = ns.run(net, net.init_state(jax.random.key(0), DT), 16000, DT,
                    key=jax.random.key(1), record=[ns.Trace("H.v", indices=[0, 5])])  # fmt: skip
    spikes = np.asarray(out.spikes["H"])
    rates = []
    for j in range(len(currents)):
        t = (np.flatnonzero(spikes[:, j]) + 1) * DT
        t = t[t >= 200.0]
        rates.append(0.0 if len(t) < 2 else 1000.0 / np.mean(np.diff(t)))
    return np.array(rates), np.asarray(out.traces["H.v"])


def test_resting_potential(fi_run):
    _, v = fi_run
    v_rest = _rest_potential()
    assert abs(v_rest - -65.0) < 0.01  # E_L = -54.387 mV is chosen for rest at -65 mV
    # Brian2: -64.9964 mV after 400 ms (the slow approach to rest is the same in both).
    np.testing.assert_allclose(v[-1, 0], -64.9964, atol=1e-3)
    assert abs(v[-1, 0] - v_rest) < 0.01


def test_fi_curve_matches_brian2(fi_run):
    rates, v = fi_run
    # Same scheme and dt: only float32 rounding differs; rates over 200 ms agree to ~0.1 %.
    np.testing.assert_allclose(rates[: len(COARSE)], BRIAN2_RATES, rtol=2e-3, atol=1e-6)
    assert np.all(np.diff(rates[len(COARSE) :][FINE >= 6.28]) > 0)
    np.testing.assert_allclose(v[4000:, 1].max(), 29.758, atol=0.02)  # spike peak at 10 µA/cm²


def test_class_ii_onset(fi_run):
    # Discontinuous onset: no sustained firing at 6.26 µA/cm², ~50 Hz at 6.28 (Brian2: last
    # silent 6.26, first firing 6.28 at 50.30 Hz; Rinzel & Miller 1980: periodic orbits
    # from 6.26). Hodgkin's class II: the rate jumps from 0 to a finite value.
    fine = fi_run[0][len(COARSE) :]
    assert fine[0] == 0.0 and fine[1] == 0.0
    np.testing.assert_allclose(fine[2], 50.30, rtol=2e-3)
    assert fine[2] > 40.0


def test_temperature_and_area_scaling():
    # Rates scale with 3^((T - 6.3)/10); a patch 10x larger with 10x the current is identical.
    hh = HodgkinHuxley(2, temperature=np.array([6.3, 16.3]))
    r = np.asarray(hh.rates(jnp.full((2,), -50.0)))
    np.testing.assert_allclose(r[:, 1] / r[:, 0], 3.0, rtol=1e-5)
    both = HodgkinHuxley(2, c_m=[1.0, 10.0], g_na=[120.0, 1200.0], g_k=[36.0, 360.0],
                         g_l=[0.3, 3.0], i_e=[10.0, 100.0])  # fmt: skip
    z = SynapticDrive.zeros(2)
    s = jax.lax.fori_loop(0, 200, lambda i, s: both.step(s, z, 0, DT, None)[0],
                          both.init(jax.random.key(0), DT))  # fmt: skip
    np.testing.assert_allclose(s["v"][1], s["v"][0], rtol=1e-5)


def test_gradient_through_spike_detection():
    def count(i_e):
        hh = HodgkinHuxley(1, i_e=i_e)
        s = hh.init(jax.random.key(0), DT)

        def body(st, _):
            st, spk = hh.step(st, SynapticDrive.zeros(1), 0, DT, None)
            return st, spk[0]

        return jnp.sum(jax.lax.scan(body, s, None, length=300)[1])

    n, g = jax.value_and_grad(count)(jnp.asarray(10.0))
    assert float(n) >= 1 and np.isfinite(float(g)) and float(g) != 0.0


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="c_m"):
        HodgkinHuxley(2, c_m=-1.0)
    with pytest.raises(ValueError, match="g_na"):
        HodgkinHuxley(2, g_na=-1.0)
