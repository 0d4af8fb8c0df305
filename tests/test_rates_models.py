"""Rate and neural-mass models against closed forms, independent solvers and published numbers.

References are computed here independently of neurosim (NumPy/SciPy re-implementations of
the published equations, root finding, ``solve_ivp``), never taken from the code under test.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad, solve_ivp
from scipy.optimize import brentq, root
from scipy.stats import norm

import neurosim as ns


def _H(x, a, b, d_ms):
    """Wong–Wang transfer function (Hz), a Hz/nA, b Hz, d ms (NumPy reference)."""
    u = a * x - b
    return u / (1.0 - np.exp(-d_ms * 1e-3 * u))


def test_wong_wang_ei_tvb_defaults_fixed_point():
    """Deco et al. (2014) E–I model with TVB's defaults settles at S_E 0.1648, S_I 0.0392."""

    def f(s):  # TVB ReducedWongWangExcInh defaults, uncoupled
        s_e, s_i = s
        i_e = 1.0 * 0.382 + 1.4 * 0.15 * s_e - 1.0 * s_i
        i_i = 0.7 * 0.382 + 0.15 * s_e - s_i
        r_e, r_i = _H(i_e, 310.0, 125.0, 160.0), _H(i_i, 615.0, 177.0, 87.0)
        return [-s_e / 100.0 + (1 - s_e) * 0.641e-3 * r_e, -s_i / 10.0 + 1e-3 * r_i]

    ref = root(f, [0.1, 0.1], tol=1e-14).x
    # The published values, to their last digit.
    assert abs(ref[0] - 0.1648) < 5e-5 and abs(ref[1] - 0.0392) < 5e-5
    with jax.enable_x64(True):
        model = ns.rates.ReducedWongWangEI(1)
        res = ns.rates.simulate(
            model, None, 3000.0, 0.1, key=jax.random.key(0), record=["S_e", "S_i", "r_e"], every=100
        )
    # A fixed point of f is a fixed point of Heun's map; 3 s is > 20 slowest time constants.
    np.testing.assert_allclose(res.traces["nodes.S_e"][-1, 0], ref[0], atol=1e-9)
    np.testing.assert_allclose(res.traces["nodes.S_i"][-1, 0], ref[1], atol=1e-9)
    r_e = _H(0.382 + 1.4 * 0.15 * ref[0] - ref[1], 310.0, 125.0, 160.0)
    # |dr_E/dS| is O(100) Hz, so the 1e-9 tolerance on S allows ~1e-7 Hz on r_E.
    np.testing.assert_allclose(res.traces["nodes.r_e"][-1, 0], r_e, atol=1e-7)
    assert abs(r_e - 3.08) < 5e-3


def test_wong_wang_one_population_fixed_point():
    def f(s):  # Deco et al. (2013) parameters: w = 0.9, I_o = 0.3 nA
        x = 0.9 * 0.2609 * s + 0.3
        return -s / 100.0 + (1 - s) * 0.641e-3 * _H(x, 270.0, 108.0, 154.0)

    ref = brentq(f, 0.0, 0.5)  # the low-activity branch
    with jax.enable_x64(True):
        model = ns.rates.ReducedWongWang(3, w=0.9, I_o=0.3, init={"S": 0.05})
        res = ns.rates.simulate(model, None, 2000.0, 0.1, key=jax.random.key(0), every=100)
    np.testing.assert_allclose(res.traces["nodes.S"][-1], ref, atol=1e-9)


def test_wong_wang_transfer_function_is_smooth_at_threshold():
    a, b, d = 270.0, 108.0, 154.0
    x0 = b / a
    H = jax.vmap(lambda x: ns.rates._base.wong_wang_rate(x, a, b, d))
    with jax.enable_x64(True):
        xs = jnp.asarray([x0 - 1e-3, x0, x0 + 1e-3, -50.0])
        vals = np.asarray(H(xs))
        grads = np.asarray(
            jax.vmap(jax.grad(lambda x: ns.rates._base.wong_wang_rate(x, a, b, d)))(xs)
        )
    np.testing.assert_allclose(vals[1], 1.0 / (d * 1e-3), rtol=1e-12)  # limit u -> 0: 1/d
    np.testing.assert_allclose(vals[[0, 2]], _H(np.asarray(xs)[[0, 2]], a, b, d), rtol=1e-9)
    assert np.all(np.isfinite(grads)) and vals[3] >= 0.0 and vals[3] < 1e-30


def _jr_reference_rhs(v0, p=0.22):
    """Jansen & Rit (1995) equations in NumPy (units mV, ms)."""
    A, B, a, b, C, e0, r = 3.25, 22.0, 0.1, 0.05, 135.0, 0.0025, 0.56

    def S(v):
        return 2 * e0 / (1 + np.exp(r * (v0 - v)))

    def rhs(t, y):
        y0, y1, y2, y3, y4, y5 = y
        return [
            y3,
            y4,
            y5,
            A * a * S(y1 - y2) - 2 * a * y3 - a * a * y0,
            A * a * (p + 0.8 * C * S(C * y0)) - 2 * a * y4 - a * a * y1,
            B * b * 0.25 * C * S(0.25 * C * y0) - 2 * b * y5 - b * b * y2,
        ]

    return rhs


@pytest.mark.parametrize("v0, published", [(6.0, (10.0, 11.5)), (5.52, (6.7, 6.9))])
def test_jansen_rit_frequency(v0, published):
    """Alpha rhythm (~10.9 Hz) at v0 = 6 mV (Jansen & Rit 1995); ~6.8 Hz at TVB's 5.52 mV."""
    dt, t_end, t_skip, every = 0.1, 10000.0, 2000.0, 10
    res = ns.rates.simulate(
        ns.rates.JansenRit(1, v0=v0), None, t_end, dt, key=jax.random.key(0), record=["eeg"],
        every=every,
    )  # fmt: skip
    times = res.trace_times["nodes.eeg"]
    keep = times > t_skip
    f_ns = float(ns.analysis.peak_frequency(res.traces["nodes.eeg"][keep, 0], dt * every)[()])
    sol = solve_ivp(
        _jr_reference_rhs(v0), (0.0, t_end), np.zeros(6), t_eval=times, rtol=1e-7,
        atol=1e-9, max_step=1.0,
    )  # fmt: skip
    f_ref = float(ns.analysis.peak_frequency((sol.y[1] - sol.y[2])[keep], dt * every)[()])
    df = 1000.0 / (t_end - t_skip)  # frequency resolution of the 8 s window (Hz)
    assert abs(f_ns - f_ref) <= df + 1e-9
    lo, hi = published
    assert lo - df <= f_ns <= hi + df


def _hopf_closed_form(a, omega, r0, t):
    """r(t) of dr/dt = a r - r^3 (exact, a != 0), theta(t) = omega t."""
    r = np.sqrt(a / (1.0 + (a / r0**2 - 1.0) * np.exp(-2.0 * a * t)))
    return r * np.cos(omega * t), r * np.sin(omega * t)


@pytest.mark.parametrize("a", [0.01, -0.01])
def test_hopf_node_matches_closed_form(a):
    """Above the bifurcation a limit cycle of amplitude sqrt(a); below, decay at rate a."""
    f0 = 20.0  # Hz
    omega, r0, dt = 2 * np.pi * f0 * 1e-3, 0.02, 0.1
    with jax.enable_x64(True):
        m = ns.rates.StuartLandau(2, a=a, omega=omega, init={"x": r0, "y": 0.0})
        res = ns.rates.simulate(
            m, None, 2000.0, dt, key=jax.random.key(0), integrator=ns.integrators.RK4()
        )
    times = res.trace_times["nodes.x"]
    x_ref, y_ref = _hopf_closed_form(a, omega, r0, times)
    # RK4 error ~ (omega dt)^4 / 120 per step accumulated over 2e4 steps: ~1e-7 relative.
    np.testing.assert_allclose(res.traces["nodes.x"][:, 0], x_ref, atol=1e-6)
    np.testing.assert_allclose(res.traces["nodes.y"][:, 1], y_ref, atol=1e-6)
    r = np.hypot(res.traces["nodes.x"][:, 0], res.traces["nodes.y"][:, 0])
    if a > 0:
        np.testing.assert_allclose(r[-1], np.sqrt(a), rtol=1e-6)
        half = times > 1000.0
        f_peak = float(ns.analysis.peak_frequency(res.traces["nodes.x"][half, 0], dt)[()])
        assert abs(f_peak - f0) <= 1000.0 / 1000.0  # resolution of a 1 s window
    else:
        late = times > 1000.0  # r ~ 1e-7 << sqrt(|a|): the linear regime, r' = a r
        slope = np.polyfit(times[late], np.log(r[late]), 1)[0]
        np.testing.assert_allclose(slope, a, rtol=1e-4)


def _kuramoto_order_at(model, coupling_weights, Ks, dt=0.5, n_steps=12000):
    cpl = ns.rates.KuramotoCoupling(coupling_weights, G=0.0)
    s0 = ns.rates.init_state(model, cpl, jax.random.key(0), dt)

    def mean_r(G):
        _, tr = ns.rates.run(
            model, eqx.tree_at(lambda c: c.G, cpl, G), s0, n_steps, dt,
            key=jax.random.key(1), every=20,
        )  # fmt: skip
        return jnp.mean(ns.analysis.kuramoto_order(tr.traces["nodes.theta"])[-300:])  # last 3 s

    return np.asarray(jax.jit(jax.vmap(mean_r))(jnp.asarray(Ks)))


def _normal_r_inf(K, sigma):
    """Stationary order parameter for normal frequencies: r = K r int cos^2 g(K r sin)."""

    def h(r):
        g = quad(
            lambda th: np.cos(th) ** 2 * norm.pdf(K * r * np.sin(th), scale=sigma), -1.5708, 1.5708
        )
        return K * g[0] - 1.0

    return brentq(h, 1e-6, 1.0)


@pytest.mark.parametrize("dist", ["lorentzian", "normal"])
def test_kuramoto_order_rises_past_critical_coupling(dist):
    """K_c = 2 / (pi g(0)); r = sqrt(1 - K_c/K) (Lorentzian), self-consistency (normal)."""
    n, width = 100, 0.005  # oscillators; half-width / std of the frequencies (rad/ms)
    q = (np.arange(n) + 0.5) / n  # deterministic quantiles: no frequency-sampling noise
    if dist == "lorentzian":
        omega, k_c = width * np.tan(np.pi * (q - 0.5)), 2.0 * width
        theory = lambda K: np.sqrt(1.0 - k_c / K)  # noqa: E731
    else:
        omega, k_c = width * norm.ppf(q), 2.0 / (np.pi * norm.pdf(0.0, scale=width))
        theory = lambda K: _normal_r_inf(K, width)  # noqa: E731
    model = ns.rates.Kuramoto(n, omega=omega)
    ratios = np.array([0.5, 1.5, 2.0, 4.0])
    r = _kuramoto_order_at(model, np.ones((n, n)) / n, ratios * k_c)
    tol = 1.0 / np.sqrt(n)  # finite-size fluctuations of r are O(1/sqrt(N))
    assert r[0] < 2 * tol  # incoherent below K_c
    for ratio, r_sim in zip(ratios[1:], r[1:], strict=True):
        assert abs(r_sim - theory(ratio * k_c)) < tol
    assert np.all(np.diff(r) > 0)


def _wc_reference(P):
    """Wilson & Cowan (1972) Fig. 9 parameters in NumPy (tau = 10 ms)."""
    c1, c2, c3, c4, ae, te, ai, ti = 16.0, 12.0, 15.0, 3.0, 1.3, 4.0, 2.0, 3.7

    def S(x, a, t):
        return 1 / (1 + np.exp(-a * (x - t))) - 1 / (1 + np.exp(a * t))

    ke, ki = 1 - 1 / (1 + np.exp(ae * te)), 1 - 1 / (1 + np.exp(ai * ti))

    def rhs(t, y):
        E, I = y
        return [
            (-E + (ke - E) * S(c1 * E - c2 * I + P, ae, te)) / 10.0,
            (-I + (ki - I) * S(c3 * E - c4 * I, ai, ti)) / 10.0,
        ]

    return rhs


def _fixed_points(rhs):
    found = []
    for e0 in np.linspace(0.0, 0.5, 11):
        for i0 in np.linspace(0.0, 0.5, 11):
            s = root(lambda y: rhs(0, y), [e0, i0], tol=1e-13)
            if s.success and np.max(np.abs(rhs(0, s.x))) < 1e-12:
                if not any(np.allclose(s.x, f, atol=1e-6) for f in found):
                    found.append(s.x)
    return found


def _jacobian_eigs(rhs, y, h=1e-7):
    J = np.zeros((2, 2))
    for k in range(2):
        d = np.zeros(2)
        d[k] = h
        J[:, k] = (np.asarray(rhs(0, y + d)) - np.asarray(rhs(0, y - d))) / (2 * h)
    return np.linalg.eigvals(J)


@pytest.mark.parametrize("P, cycle", [(1.25, True), (0.5, False)])
def test_wilson_cowan_limit_cycle_and_fixed_point(P, cycle):
    rhs = _wc_reference(P)
    fps = _fixed_points(rhs)
    assert len(fps) == 1  # a single equilibrium: stable (P=0.5) or an unstable focus (1.25)
    eig = _jacobian_eigs(rhs, fps[0])
    assert (np.max(eig.real) > 0) == cycle
    with jax.enable_x64(True):
        res = ns.rates.simulate(
            ns.rates.WilsonCowan(1, P=P, init={"E": 0.1, "I": 0.05}), None, 3000.0, 0.05,
            key=jax.random.key(0), every=20, integrator=ns.integrators.RK4(),
        )  # fmt: skip
    times = res.trace_times["nodes.E"]
    late = times > 1500.0
    E = res.traces["nodes.E"][late, 0]
    if cycle:
        # Unstable focus in a bounded box: a limit cycle (Poincare-Bendixson); its amplitude
        # and period from solve_ivp on the same equations.
        sol = solve_ivp(rhs, (0, 3000.0), [0.1, 0.05], t_eval=times, rtol=1e-10, atol=1e-12)
        E_ref = sol.y[0][late]
        np.testing.assert_allclose(np.ptp(E), np.ptp(E_ref), rtol=1e-4)
        assert np.ptp(E) > 0.1
        f = float(ns.analysis.peak_frequency(E, 1.0)[()])
        f_ref = float(ns.analysis.peak_frequency(E_ref, 1.0)[()])
        assert abs(f - f_ref) <= 1000.0 / 1500.0
    else:
        np.testing.assert_allclose(res.traces["nodes.E"][-1, 0], fps[0][0], atol=1e-9)
        np.testing.assert_allclose(res.traces["nodes.I"][-1, 0], fps[0][1], atol=1e-9)


def test_parameters_broadcast_and_validate():
    m = ns.rates.JansenRit(4, v0=np.array([6.0, 5.52, 6.0, 5.52]))
    assert m.v0.shape == (4,) and m.A.shape == (4,)
    with pytest.raises(ValueError, match="tau_e must be > 0"):
        ns.rates.WilsonCowan(2, tau_e=-1.0)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        ns.rates.Kuramoto(3, omega=np.zeros(4))
    with pytest.raises(ValueError, match="lamda"):
        ns.rates.ReducedWongWangEI(2, lamda=2.0)
    with pytest.raises(ValueError, match="unknown state variables"):
        ns.rates.StuartLandau(2, init={"z": 1.0})
    with pytest.raises(ValueError, match="n must be"):
        ns.rates.ReducedWongWang(0)
