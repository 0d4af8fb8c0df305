"""Traub–Miles Hodgkin–Huxley: against Brian2 on single neurons, rest, regular firing, stability.

Reference numbers come from Brian2 2.9 (exponential Euler, dt = 0.1 ms) on the same equations:
``benchmarks/reference/hh_single_brian2.py``.
"""

import jax
import numpy as np

import neurosim as ns

DT = 0.1


def _run(i_e, steps=5000, **kw):
    b = ns.NetworkBuilder()
    b.add_population("H", ns.neurons.TraubMiles(len(i_e), i_e=np.asarray(i_e, np.float32), **kw))
    net = b.build()
    s0 = net.init_state(jax.random.key(0), DT)
    _, out = ns.run(net, s0, steps, DT, key=jax.random.key(1), record=["H.v"])
    return np.asarray(out.traces["H.v"]), np.asarray(out.spikes["H"])


def test_matches_brian2_single_neurons():
    v, spikes = _run([0.0, 1000.0], gates_init="zero", v_init=-65.0)
    assert np.all(np.isfinite(v)), "exponential Euler must be stable at dt = 0.1 ms"
    # Without input this model is a slow pacemaker (E_L = -60 mV lies above its threshold).
    t0 = np.flatnonzero(spikes[:, 0]) * DT
    np.testing.assert_allclose(t0, [38.8, 113.6, 188.3, 263.1, 337.8, 412.5, 487.3], atol=DT + 1e-6)
    # 1 nA step: regular spiking, 60 spikes in 500 ms, ISI 8.2-8.4 ms.
    t1 = np.flatnonzero(spikes[:, 1]) * DT
    assert len(t1) == 60
    np.testing.assert_allclose(np.diff(t1)[:5], [8.2, 8.4, 8.4, 8.3, 8.4], atol=DT + 1e-6)
    # Spike peak and after-hyperpolarisation (Brian2: 49.139 mV, -86.382 mV); float32 vs float64.
    np.testing.assert_allclose(v[:, 1].max(), 49.139, atol=0.05)
    np.testing.assert_allclose(v[1000:, 1].min(), -86.382, atol=0.05)


def test_rest_under_hyperpolarising_bias():
    v, spikes = _run([-100.0], steps=3000)
    assert spikes.sum() == 0
    # Resting potential in the physiological range and settled (drift < 0.01 mV over 10 ms).
    assert -75.0 < v[-1, 0] < -60.0
    assert abs(v[-1, 0] - v[-100, 0]) < 0.01


def test_rate_increases_with_current():
    _, spikes = _run([300.0, 600.0, 1200.0])
    counts = spikes.sum(0)
    assert counts[0] < counts[1] < counts[2]
