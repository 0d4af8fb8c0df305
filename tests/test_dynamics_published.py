"""ns.dynamics against published bifurcation diagrams (Hodgkin-Huxley, Jansen-Rit,
Wilson-Cowan) and against independent numpy references along the fixed-point curve.

All run in float64 (``jax.enable_x64`` inside each test); each compiles a continuation of a
2- to 6-dimensional system, which takes tens of seconds on CPU, so all are marked slow.
Tolerances are the precision to which the paper prints its values (half a unit of the last
digit, widened to one unit where the model's rounded constants move the value, as stated);
against the numpy references they follow from the bisection / corrector tolerance.
"""

import jax
import numpy as np
import pytest

import neurosim as ns
from neurosim import dynamics as dyn

# ---------------------------------------------------------------- Hodgkin-Huxley 1952


@pytest.mark.slow
def test_hodgkin_huxley_hopf_currents_rinzel_miller_1980():
    """Squid axon at 6.3 degC: the rest state loses stability at I = 9.78 uA/cm^2 and
    regains it at I = 154.5 uA/cm^2 (Rinzel & Miller 1980, Math. Biosci. 49:27, also
    Hassard 1978, J. Theor. Biol. 71:401). 1 pA on the default 100 um^2 patch is
    1 uA/cm^2. Tolerance: one unit of the printed last digit (0.01 and 0.1 uA/cm^2): the
    papers round the leak reversal (E_L = 10.6 mV above rest) that here is -54.387 mV."""
    with jax.enable_x64(True):
        s = dyn.system(ns.neurons.HodgkinHuxley(1))
        fp = dyn.fixed_points(s, [(-80, -40), (0, 1), (0, 1), (0, 1)], {"i_ext": 0.0}, n_grid=3)
        br = dyn.continuation(s, "i_ext", fp.x[0], {"i_ext": 0.0}, ds=0.5, n_steps=60,
                              bounds=(-5.0, 200.0), scale=[10, 0.1, 0.1, 0.1, 10])  # fmt: skip
    assert fp.kind == ("stable focus",)
    np.testing.assert_allclose(fp.x[0, 0], -65.0, atol=0.01)  # e_l is chosen for this rest
    hopf = br.of("hopf")
    assert [e.kind for e in br.events] == ["hopf", "hopf"], br.events
    np.testing.assert_allclose(hopf[0].params["i_ext"], 9.78, atol=0.01)
    np.testing.assert_allclose(hopf[1].params["i_ext"], 154.5, atol=0.1)
    i = br.param()
    assert np.all(br.stable[i < hopf[0].params["i_ext"] - 1e-6])
    assert not np.any(br.stable[(i > hopf[0].params["i_ext"] + 1e-6) &
                                (i < hopf[1].params["i_ext"] - 1e-6)])  # fmt: skip
    # the crossing pair's frequency: ~ 68 Hz (2 pi / 14.7 ms)
    w = np.abs(hopf[0].eigenvalues.imag).max()
    assert 0.3 < w < 0.6  # rad/ms


# ---------------------------------------------------------------- Jansen-Rit


@pytest.mark.slow
def test_jansen_rit_bifurcations_in_p_grimbert_faugeras_2006():
    """Jansen & Rit (1995) parameters, input p: Hopf bifurcations at p = -12.15, 89.83
    and 315.70 Hz (Grimbert & Faugeras 2006, Neural Comput. 18:3052, Fig. 3), printed to
    0.01 Hz (tolerance 0.005 Hz plus corrector precision). Between the Hopf at 89.83 Hz and
    the fold of the lower branch the column is bistable (rest vs alpha cycle); the folds
    bound the S-shaped part of the fixed-point curve.

    The paper's text available to us gives no numbers for the two folds (saddle-nodes), so
    they are compared with an independent AUTO-07p continuation of the same model and
    parameters that follows the paper: pclus/auto-tutorial, docs/2-Examples/Jansen-Rit.md
    (LP at p = 1.13586E+02 and -4.13014E+01 Hz, HB at -1.21475E+01 Hz). AUTO prints six
    significant digits (+-5e-4 Hz at 113.586) and locates LP points to its own tolerance:
    1e-3 Hz."""
    with jax.enable_x64(True):
        s = dyn.system(ns.rates.JansenRit(1))
        br = dyn.continuation(s, "p", np.zeros(6), {"p": -0.1}, ds=0.05, n_steps=220,
                              bounds=(-0.15, 0.4), scale=[0.1, 1, 1, 1, 1, 1, 0.01])  # fmt: skip
    hz = {k: sorted(1e3 * e.params["p"] for e in br.of(k)) for k in ("hopf", "fold")}
    np.testing.assert_allclose(hz["hopf"], [-12.15, 89.83, 315.70], atol=0.006)
    assert len(hz["fold"]) == 2
    np.testing.assert_allclose(hz["fold"], [-41.3014, 113.586], atol=1e-3)
    assert abs(hz["hopf"][0] - (-12.1475)) < 1e-3  # AUTO's first Hopf point, same source
    lo_fold, hi_fold = hz["fold"]
    assert -60.0 < lo_fold < hz["hopf"][0] and hz["hopf"][1] < hi_fold < 140.0
    # lower branch stable from p = -100 Hz up to the upper fold (rest state)
    first = br.of("fold")[0]
    assert np.isclose(1e3 * first.params["p"], hi_fold)
    assert np.all(br.stable[: first.index + 1])
    # above the last Hopf point the single fixed point is stable again
    assert br.stable[-1] and 1e3 * br.param()[-1] > 315.70


# ---------------------------------------------------------------- Wilson-Cowan 1972

WC_HYSTERESIS = dict(c_ee=12.0, c_ei=4.0, c_ie=13.0, c_ii=11.0, a_e=1.2, theta_e=2.8,
                     a_i=1.0, theta_i=4.0)  # fmt: skip
BOX_WC = [(-0.3, 0.6), (-0.3, 0.6)]


def _s(x, a, th):
    return 1 / (1 + np.exp(-a * (x - th))) - 1 / (1 + np.exp(a * th))


def _wc_curve(c_ee=16.0, c_ei=12.0, c_ie=15.0, c_ii=3.0, a_e=1.3, theta_e=4.0, a_i=2.0,
              theta_i=3.7):  # fmt: skip
    """Reference (numpy): the fixed-point curve parametrised by E, with r = 1, Q = 0.

    For each E the I-equation ``I = (k_i - I) S_i(c_ie E - c_ii I)`` has one root (its
    right side decreases in I), found by bisection; the E-equation then gives
    ``P(E) = S_e^-1(E / (k_e - E)) - c_ee E + c_ei I``. Returns E, I, P and trace J, det J
    (tau_e = tau_i = 10 ms)."""
    k_e = 1 - 1 / (1 + np.exp(a_e * theta_e))
    k_i = 1 - 1 / (1 + np.exp(a_i * theta_i))
    E = np.linspace(1e-4, 0.45, 200001)
    lo, hi = np.full_like(E, -0.5), np.full_like(E, 0.99 * k_i)
    for _ in range(80):
        m = 0.5 * (lo + hi)
        g = (k_i - m) * _s(c_ie * E - c_ii * m, a_i, theta_i) - m
        lo, hi = np.where(g > 0, m, lo), np.where(g > 0, hi, m)
    I = 0.5 * (lo + hi)
    y = E / (k_e - E) + 1 / (1 + np.exp(a_e * theta_e))
    x_e = theta_e - np.log(1 / y - 1) / a_e
    P = x_e - c_ee * E + c_ei * I
    x_i = c_ie * E - c_ii * I

    def ds(x, a, th):
        z = 1 / (1 + np.exp(-a * (x - th)))
        return a * z * (1 - z)

    se, dse = _s(x_e, a_e, theta_e), ds(x_e, a_e, theta_e)
    si, dsi = _s(x_i, a_i, theta_i), ds(x_i, a_i, theta_i)
    J = np.array([[-1 - se + (k_e - E) * dse * c_ee, -(k_e - E) * dse * c_ei],
                  [(k_i - I) * dsi * c_ie, -1 - si - (k_i - I) * dsi * c_ii]]) / 10.0  # fmt: skip
    tr = J[0, 0] + J[1, 1]
    det = J[0, 0] * J[1, 1] - J[0, 1] * J[1, 0]
    return E, I, P, tr, det


def _zeros(E, P, g):
    """(E, P) at the sign changes of g along the curve (linear interpolation)."""
    k = np.flatnonzero(np.sign(g[:-1]) * np.sign(g[1:]) < 0)
    t = g[k] / (g[k] - g[k + 1])
    return E[k] + t * (E[k + 1] - E[k]), P[k] + t * (P[k + 1] - P[k])


@pytest.fixture(scope="module")
def wc_branches():
    out = {}
    with jax.enable_x64(True):
        for name, kw in (("hysteresis", WC_HYSTERESIS), ("oscillation", {})):
            s = dyn.system(ns.rates.WilsonCowan(1, **kw))
            fp = dyn.fixed_points(s, BOX_WC, {"P": -1.0 if kw else 0.0})
            out[name] = dyn.continuation(s, "P", fp.x[0], {"P": -1.0 if kw else 0.0},
                                         ds=0.02, n_steps=200, bounds=(-2.0, 4.0),
                                         box=BOX_WC)  # fmt: skip
    return out


@pytest.mark.slow
def test_wilson_cowan_hysteresis_folds(wc_branches):
    """Wilson & Cowan (1972, Biophys. J. 12:1, Fig. 3-4 parameters: c1..c4 = 12, 4, 13, 11,
    a_e = 1.2, theta_e = 2.8, a_i = 1, theta_i = 4): an S-shaped curve, two folds, a
    hysteresis loop in P with two stable states in between. Folds against the extrema of
    the numpy P(E) (grid step 2e-6 in E: P is flat there, so ~1e-9 in P)."""
    br = wc_branches["hysteresis"]
    E, _, P, _, det = _wc_curve(**WC_HYSTERESIS)
    e_ref, p_ref = _zeros(E, P, det)
    folds = sorted(br.of("fold"), key=lambda e: e.x[0])
    assert len(folds) == 2 and not br.of("hopf")
    np.testing.assert_allclose([f.params["P"] for f in folds], p_ref, atol=1e-7)
    np.testing.assert_allclose([f.x[0] for f in folds], e_ref, atol=1e-4)
    lo, hi = sorted(p_ref)
    inside = br.stable & (np.abs(br.param() - (lo + hi) / 2) < 0.25 * (hi - lo))
    e = br.x[inside, 0]
    assert np.any(e < min(e_ref)) and np.any(e > max(e_ref))  # both outer branches stable
    assert not np.any(br.stable & (br.x[:, 0] > min(e_ref)) & (br.x[:, 0] < max(e_ref)))


@pytest.mark.slow
def test_wilson_cowan_oscillation_hopf_and_folds(wc_branches):
    """Fig. 9 parameters (the model's defaults): with P = 1.25 the one fixed point is an
    unstable focus inside a limit cycle (Wilson & Cowan 1972). Folds and the Hopf point
    against the numpy curve's zeros of det J and trace J (linear interpolation on a 2e-6
    grid: ~1e-6 in P near a Hopf point, where P changes fastest)."""
    br = wc_branches["oscillation"]
    E, _, P, tr, det = _wc_curve()
    _, p_fold = _zeros(E, P, det)
    e_h, p_h = _zeros(E, P, tr)
    p_h = p_h[np.interp(e_h, E, det) > 0]  # trace zeros with det > 0: Hopf points
    got_f = sorted(f.params["P"] for f in br.of("fold"))
    got_h = sorted(h.params["P"] for h in br.of("hopf"))
    np.testing.assert_allclose(got_f, np.sort(p_fold), atol=1e-6)
    np.testing.assert_allclose(got_h, np.sort(p_h), atol=1e-5)
    k = np.argmin(np.abs(br.param() - 1.25))
    assert br.kind[k] == "unstable focus"
    assert br.stable[np.argmin(np.abs(br.param() - 0.5))]


# ---------------------------------------------------------------- Wong-Wang network over G


def _ww_uniform_curve(w=0.9, I_o=0.3, J_N=0.2609, a=270.0, b=108.0, d=154.0, gamma=0.641,
                      tau_s=100.0):  # fmt: skip
    """Reference (numpy): homogeneous fixed points ``S`` of a network with row-normalised
    all-to-all weights (``sum_j W_ij = 1``), parametrised by S: ``H(x) = 1e3 S /
    (tau_s gamma (1 - S))`` is inverted by bisection (H increases in x), then
    ``G(S) = (x - I_o) / (J_N S) - w``. Folds in G are the extrema of G(S)."""
    S = np.linspace(1e-3, 0.98, 400001)
    target = 1e3 * S / (tau_s * gamma * (1 - S))
    lo, hi = np.full_like(S, -2.0), np.full_like(S, 10.0)
    for _ in range(90):
        m = 0.5 * (lo + hi)
        z = a * m - b
        H = z / -np.expm1(-d * 1e-3 * z)  # d in ms, z in Hz
        lo, hi = np.where(H < target, m, lo), np.where(H < target, hi, m)
    x = 0.5 * (lo + hi)
    return S, (x - I_o) / (J_N * S) - w


@pytest.mark.slow
def test_wong_wang_network_bistability_range_in_G():
    """Reduced Wong-Wang (Deco et al. 2013 local parameters w = 0.9, I_o = 0.3 nA) on four
    nodes coupled all-to-all with unit row sums: the low-activity branch ends in a fold at
    G_+ and the high one at G_- < G_+; in between both are stable (the multistable range of
    Deco et al. 2013/2014). Folds against the extrema of the numpy G(S) (grid step 2.4e-6
    in S, where G is flat: ~1e-9 in G)."""
    n = 4
    W = (np.ones((n, n)) - np.eye(n)) / (n - 1)
    with jax.enable_x64(True):
        net = dyn.system(ns.rates.ReducedWongWang(n, w=0.9, I_o=0.3),
                         ns.rates.LinearCoupling(W, G=0.0))  # fmt: skip
        low = dyn.continuation(net, "G", np.full(n, 0.05), {"G": 0.0}, ds=0.05, n_steps=80,
                               bounds=(0.0, 3.0), box=[(0.0, 1.0)] * n)  # fmt: skip
        high = dyn.continuation(net, "G", np.full(n, 0.9), {"G": 3.0}, ds=0.05, n_steps=80,
                                bounds=(0.0, 3.0), box=[(0.0, 1.0)] * n, direction=-1)  # fmt: skip
    S, G = _ww_uniform_curve()
    k = np.flatnonzero(np.sign(np.diff(G[:-1])) * np.sign(np.diff(G[1:])) < 0) + 1
    g_plus, g_minus = G[k[0]], G[k[1]]  # the local max (low branch) and min (high branch)
    assert g_minus < g_plus
    f_low, f_high = low.of("fold")[0], high.of("fold")[0]
    np.testing.assert_allclose(f_low.params["G"], g_plus, atol=1e-7)
    np.testing.assert_allclose(f_high.params["G"], g_minus, atol=1e-7)
    np.testing.assert_allclose(f_low.x, S[k[0]], atol=1e-4)  # homogeneous
    assert np.all(low.stable[: f_low.index + 1]) and np.all(high.stable[: f_high.index + 1])


@pytest.mark.slow
def test_hodgkin_huxley_fold_of_limit_cycles_bracket():
    """Repetitive firing starts at the fold of limit cycles, I = 6.26 uA/cm^2 (Rinzel &
    Miller 1980), below the Hopf point: at 6.27 a stable cycle (~52 Hz, nontrivial Floquet
    multipliers inside the unit circle) coexists with the stable rest state; at 6.1 a
    spiking start decays to rest. A shooting at 6.25 may diverge: then the status says so
    instead of raising."""
    with jax.enable_x64(True):
        s = dyn.system(ns.neurons.HodgkinHuxley(1))
        kw = dict(t_transient=400.0, dt=0.02, n_points=800)
        above = dyn.limit_cycle(s, [0.0, 0.5, 0.3, 0.5], {"i_ext": 6.27}, **kw)
        below = dyn.limit_cycle(s, [0.0, 0.5, 0.3, 0.5], {"i_ext": 6.1}, **kw)
        rest = dyn.fixed_points(s, [(-80, -40), (0, 1), (0, 1), (0, 1)], {"i_ext": 6.27},
                                n_grid=3)  # fmt: skip
    assert above.converged and above.stable, above.status
    assert 40.0 < 1e3 / above.period < 65.0 and above.amplitude[0] > 90.0
    assert below.status == "no oscillation"
    assert rest.kind == ("stable focus",)
