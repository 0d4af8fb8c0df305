"""Morris–Lecar, FitzHugh–Nagumo, Hindmarsh–Rose: bifurcations from closed forms, periods.

Reference periods/rates: SciPy's DOP853 at rtol 1e-10 on the same equations,
``benchmarks/reference/planar_models_scipy.py``. Bifurcation points are computed here from
the steady-state equations (closed forms or 1-D root finding), independently of the models.
"""

import jax
import numpy as np
import pytest
from scipy.optimize import brentq, minimize_scalar

import neurosim as ns
from neurosim.neurons import FitzHughNagumo, HindmarshRose, MorrisLecar

DT = 0.1
STEPS = 25000  # 2500 ms (model time units for FHN/HR with tau = 1 ms)

# Morris–Lecar steady state (Rinzel & Ermentrout 1989 sets): I_ss(v) with w = w_inf(v).
ML = dict(g_l=2.0, g_k=8.0, e_l=-60.0, e_ca=120.0, e_k=-84.0, v1=-1.2, v2=18.0, c=20.0)


def _ml_funcs(g_ca, v3, v4, phi):
    m_inf = lambda v: 0.5 * (1 + np.tanh((v - ML["v1"]) / ML["v2"]))  # noqa: E731
    w_inf = lambda v: 0.5 * (1 + np.tanh((v - v3) / v4))  # noqa: E731

    def i_ss(v):
        return (ML["g_l"] * (v - ML["e_l"]) + g_ca * m_inf(v) * (v - ML["e_ca"])
                + ML["g_k"] * w_inf(v) * (v - ML["e_k"]))  # fmt: skip

    def trace(v, h=1e-6):  # Jacobian trace at the fixed point on the branch v
        dm = (m_inf(v + h) - m_inf(v - h)) / (2 * h)
        j11 = -(ML["g_l"] + g_ca * (dm * (v - ML["e_ca"]) + m_inf(v)) + ML["g_k"] * w_inf(v))
        return j11 / ML["c"] - phi * np.cosh((v - v3) / (2 * v4))

    return i_ss, trace


SNIC = (4.0, 12.0, 17.4, 1 / 15)
HOPF = (4.4, 2.0, 30.0, 0.04)
I_SN = -minimize_scalar(lambda v: -_ml_funcs(*SNIC)[0](v), bounds=(-40, -10), method="bounded").fun
_i_ss_h, _tr_h = _ml_funcs(*HOPF)
I_HOPF = _i_ss_h(brentq(_tr_h, -40.0, 0.0))

ML_CURRENTS = {"snic": [0.99 * I_SN, 40.5, 50.0], "hopf": [80.0, 1.02 * I_HOPF, 100.0]}
FHN_CURRENTS = [0.2, 0.5, 1.0, 1.6]
HR_CURRENTS = [1.0, 2.0, 4.0]


@pytest.fixture(scope="module")
def run():
    names = ["snic"] * 3 + ["hopf"] * 3
    b = ns.NetworkBuilder()
    b.add_population("M", MorrisLecar.from_set(
        names, i_e=np.array(ML_CURRENTS["snic"] + ML_CURRENTS["hopf"])))  # fmt: skip
    b.add_population("F", FitzHughNagumo(4, i_e=np.array(FHN_CURRENTS)))
    b.add_population("H", HindmarshRose(3, i_e=np.array(HR_CURRENTS)))
    net = b.build()
    _, out = ns.run(net, net.init_state(jax.random.key(0), DT), STEPS, DT, key=jax.random.key(1),
                    record=["M.v", "F.v"])  # fmt: skip
    times = {
        k: [(np.flatnonzero(s[:, j]) + 1) * DT for j in range(s.shape[1])]
        for k, s in ((k, np.asarray(v)) for k, v in out.spikes.items())
    }
    return times, {k: np.asarray(v) for k, v in out.traces.items()}


def _rate(t, after):
    t = t[t > after]
    return 0.0 if len(t) < 2 else 1000.0 / np.mean(np.diff(t))


def test_morris_lecar_class_i_onset(run):
    # SNIC set: firing starts at the knee of I_ss (39.96 µA/cm² here) with vanishing rate.
    times, v = run
    assert 39.9 < I_SN < 40.0
    assert _rate(times["M"][0], 1000.0) == 0.0 and np.ptp(v["M.v"][-5000:, 0]) < 1e-3
    r = [_rate(times["M"][j], 1000.0) for j in (1, 2)]
    # SciPy: 3.7883 Hz at 40.5, 13.2374 Hz at 50. Exponential Euler is first order: at
    # dt = 0.1 ms its rate error is ~0.2 %, and the rate is a mean over > 3 periods.
    np.testing.assert_allclose(r, [3.7883, 13.2374], rtol=0.01)
    assert r[0] < 5.0, "class I: arbitrarily low rates near onset"


def test_morris_lecar_class_ii_onset(run):
    # Hopf set: the rest state loses stability where the Jacobian trace vanishes (I_H ~ 93.86);
    # above it the neuron fires at a finite rate (> 9 Hz), and well below it rests.
    times, v = run
    assert 93.0 < I_HOPF < 95.0
    assert len(times["M"][3][times["M"][3] > 200.0]) == 0
    r = [_rate(times["M"][j], 1000.0) for j in (4, 5)]
    assert r[0] > 9.0
    np.testing.assert_allclose(r[1], 11.7246, rtol=0.01)  # SciPy at I = 100


def test_fitzhugh_nagumo_fixed_point_vs_limit_cycle(run):
    times, v = run
    a, b, eps = 0.7, 0.8, 0.08
    v_h = np.sqrt(1 - eps * b)  # Hopf points: trace 1 - v*^2 - eps b = 0
    i_h = [-(x - x**3 / 3 - (x + a) / b) for x in (-v_h, v_h)]
    np.testing.assert_allclose(i_h, [0.3312, 1.4187], atol=1e-4)
    for j, i_e in enumerate(FHN_CURRENTS):
        roots = np.roots([-1 / 3, 0.0, 1 - 1 / b, i_e - a / b])
        v_star = roots[np.abs(roots.imag) < 1e-9].real[0]
        if i_h[0] < i_e < i_h[1]:  # unstable rest: relaxation oscillation
            assert len(times["F"][j]) > 10
        else:  # stable rest, reached from the initial state
            assert len(times["F"][j][times["F"][j] > 100.0]) == 0
            np.testing.assert_allclose(v["F.v"][-1, j], v_star, atol=1e-4)
    # Periods against SciPy (39.4744 at I = 0.5, 36.6988 at 1.0). RK4's error is ~1e-5 here;
    # the grid-stamped spike times bound the mean-period error by dt / (number of periods).
    for j, ref in ((1, 39.4744), (2, 36.6988)):
        t = times["F"][j][times["F"][j] > 500.0]
        assert abs(np.mean(np.diff(t)) - ref) < DT / (len(t) - 1) + 1e-3


def test_hindmarsh_rose_rest_bursting_tonic(run):
    times, _ = run
    t_on, t_off = 1000.0, STEPS * DT
    rest, burst, tonic = times["H"]
    assert len(rest[rest > t_on]) == 0
    # (The window starts mid-cycle, not at a stimulus onset: a "delayed_" prefix is moot.)
    assert ns.analysis.firing_pattern(burst, t_on, t_off).endswith("bursting")
    # SciPy: 9 spikes per burst, burst period 430.78 (time units); RK4 at dt = 0.1.
    isi = np.diff(burst[burst > t_on])
    long = np.flatnonzero(isi > 100.0)
    assert np.all(np.diff(long) == 9)
    np.testing.assert_allclose(isi[long[0] + 1 : long[1] + 1].sum(), 430.78, rtol=2e-3)
    f = ns.analysis.firing_features(tonic, t_on, t_off)
    assert f["n_bursts"] == 0 and f["last_spike"] > t_off - t_on - 50.0


@pytest.mark.parametrize(
    "cls, kwargs, name",
    [
        (MorrisLecar, {"v2": 0.0}, "v2"),
        (MorrisLecar, {"phi": -1.0}, "phi"),
        (FitzHughNagumo, {"epsilon": 0.0}, "epsilon"),
        (FitzHughNagumo, {"tau": -1.0}, "tau"),
        (HindmarshRose, {"r": 0.0}, "r"),
    ],
)
def test_bad_parameters_raise(cls, kwargs, name):
    with pytest.raises(ValueError, match=name):
        cls(2, **kwargs)


def test_unknown_morris_lecar_set():
    with pytest.raises(ValueError, match="unknown Morris-Lecar sets"):
        MorrisLecar.from_set("type3")
