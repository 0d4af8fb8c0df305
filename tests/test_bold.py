"""Balloon–Windkessel BOLD: closed-form steady state, independent ODE reference, robustness."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import neurosim as ns


def _rhs_numpy(p, z):
    """The same equations written independently in NumPy (time in s)."""

    def f(t, x):
        s, fl, v, q = x
        zz = z(t)
        E = 1 - (1 - p["E0"]) ** (1 / fl)
        return [
            zz - p["kappa"] * s - p["gamma"] * (fl - 1),
            s,
            (fl - v ** (1 / p["alpha"])) / p["tau"],
            (fl * E / p["E0"] - v ** (1 / p["alpha"]) * q / v) / p["tau"],
        ]

    return f


P = dict(kappa=0.64, gamma=0.32, tau=2.0, alpha=0.32, E0=0.4)
K1, K2, K3, V0 = 4.3 * 40.3 * 0.4 * 0.04, 25 * 0.4 * 0.04, 0.0, 4.0  # Stephan et al. 2007


def _y(q, v):
    return V0 * (K1 * (1 - q) + K2 * (1 - q / v) + K3 * (1 - v))


@pytest.mark.slow
def test_steady_state_matches_closed_form_float64():
    with jax.enable_x64(True):
        z = np.array([0.0, 0.05, 0.2, 1.0])
        bw = ns.bold.BalloonWindkessel(4)
        # closed form, computed here by hand (not by the code under test)
        f = 1 + z / P["gamma"]
        v = f ** P["alpha"]
        q = v * (1 - (1 - P["E0"]) ** (1 / f)) / P["E0"]
        y = _y(q, v)
        st, yc = ns.bold.steady_state(bw, z)
        np.testing.assert_allclose(np.asarray(yc), y, rtol=1e-12, atol=1e-15)
        # it is a fixed point of the vector field
        for d in jax.tree.leaves(bw.vector_field(st, jnp.asarray(z))):
            np.testing.assert_allclose(np.asarray(d), 0.0, atol=1e-12)
        # integrating the component from rest converges to it: 400 s at 50 ms (RK4)
        sig = jnp.broadcast_to(jnp.asarray(z), (8000, 4))
        fin, yy = ns.bold.run_bold(bw, sig, 50.0, 400_000.0)
        for name, ref in (("f", f), ("v", v), ("q", q)):
            np.testing.assert_allclose(np.asarray(getattr(fin, name)), ref, rtol=1e-6)
        np.testing.assert_allclose(np.asarray(yy[-1, 1:]), y[1:], rtol=1e-6)
        assert np.all(np.asarray(yy[-1, 0]) == 0.0)


@pytest.mark.slow
def test_impulse_response_matches_solve_ivp_and_peaks_4_to_6_s():
    with jax.enable_x64(True):
        bw = ns.bold.BalloonWindkessel(1)
        dt, T = 1.0, 30.0  # ms, s
        n = int(T * 1000 / dt)
        sig = jnp.zeros((n, 1)).at[:100].set(1.0)  # z = 1 for 0.1 s
        _, y = ns.bold.run_bold(bw, sig, dt, 100.0)  # sampled every 100 ms
        y = np.asarray(y[:, 0])
        t = 0.1 * np.arange(1, len(y) + 1)
        x0 = [0.0, 1.0, 1.0, 1.0]
        a = solve_ivp(_rhs_numpy(P, lambda t: 1.0), (0, 0.1), x0, rtol=1e-11, atol=1e-13)
        b = solve_ivp(_rhs_numpy(P, lambda t: 0.0), (0.1, T), a.y[:, -1], t_eval=t,
                      rtol=1e-11, atol=1e-13)  # fmt: skip
        ref = _y(b.y[3], b.y[2])
        peak = np.max(np.abs(ref))
        assert np.max(np.abs(y - ref)) <= 0.01 * peak
        t_peak = t[np.argmax(y)]
        assert 4.0 <= t_peak <= 6.0, t_peak
        after = t > t_peak
        assert y[after].min() < -0.02 * y.max()  # post-stimulus undershoot
        assert t[after][np.argmin(y[after])] > t_peak + 3.0


@pytest.mark.slow
def test_decimated_clock_agrees_with_fine_clock():
    # float64: in float32, 2e5 steps of 0.1 ms accumulate ~0.3 % round-off (see the docstring)
    with jax.enable_x64(True):
        bw = ns.bold.BalloonWindkessel(2)
        dt = 0.1  # ms
        tt = np.arange(200_000) * dt * 1e-3  # 20 s
        sig = np.stack([0.2 * (1 + np.sin(2 * np.pi * 0.1 * tt)), 0.1 + 0.05 * (tt > 5)], 1)
        _, fine = ns.bold.run_bold(bw, sig, dt, 500.0)
        _, coarse = ns.bold.run_bold(bw, sig, dt, 500.0, decimate=50)  # 5 ms clock
        fine, coarse = np.asarray(fine), np.asarray(coarse)
    # holding the block-mean drive shifts the input by at most half a block (2.5 ms)
    slope = np.max(np.abs(np.diff(fine, axis=0))) / 0.5  # max |dy/dt| per s (TR 0.5 s)
    assert np.max(np.abs(fine - coarse)) <= 1.5 * 2.5e-3 * slope + 1e-5


@pytest.mark.slow
def test_zero_drive_stays_at_rest_and_large_drives_stay_finite():
    bw = ns.bold.BalloonWindkessel(3)
    _, y = ns.bold.run_bold(bw, jnp.zeros((2000, 3)), 1.0, 100.0)
    assert np.all(np.asarray(y) == 0.0)
    for dt, dur in ((0.1, 5_000), (10.0, 60_000)):  # neural clock (5 s), 10 ms clock (60 s)
        n = int(dur / dt)
        big = jnp.full((n, 3), 1e3)
        pulse = jnp.zeros((n, 3)).at[: int(500 / dt)].set(1e4)  # 1e4 for 0.5 s, then off
        for sig in (big, pulse):
            st, y = ns.bold.run_bold(bw, sig, dt, 1000.0)
            assert np.all(np.isfinite(np.asarray(y)))
            for leaf in (st.f, st.v, st.q):
                assert np.all(np.asarray(leaf) > 0)


def test_small_drives_respond_linearly():
    bw = ns.bold.BalloonWindkessel(2)
    sig = jnp.zeros((20_000, 2)).at[:1000].set(jnp.array([0.005, 0.01]))
    _, y = ns.bold.run_bold(bw, sig, 1.0, 200.0)
    y = np.asarray(y)
    i = np.argmax(y[:, 1])
    assert abs(y[i, 1] / y[i, 0] - 2.0) < 0.02


def test_component_step_is_protocol_shaped_and_jits():
    bw = ns.bold.BalloonWindkessel(4)
    st = bw.init(jax.random.key(0), 0.1)
    st2, y = jax.jit(lambda m, s, z, i: m.step(s, z, i, 0.1, None))(bw, st, jnp.full(4, 0.3), 0)
    assert y.shape == (4,) and isinstance(st2, ns.bold.BalloonState)
    assert float(st2.s[0]) > 0


def test_bad_inputs_raise():
    bw = ns.bold.BalloonWindkessel(2)
    with pytest.raises(ValueError, match="whole multiple"):
        ns.bold.run_bold(bw, jnp.zeros((100, 2)), 1.0, 2.5)
    with pytest.raises(ValueError, match="signal must have shape"):
        ns.bold.run_bold(bw, jnp.zeros((100, 3)), 1.0, 10.0)
    with pytest.raises(ValueError, match="shorter than one TR"):
        ns.bold.run_bold(bw, jnp.zeros((10, 2)), 1.0, 20.0)
    with pytest.raises(ValueError, match="E0"):
        ns.bold.BalloonWindkessel(2, E0=1.5)
    with pytest.raises(ValueError, match="tau"):
        ns.bold.BalloonWindkessel(2, tau=-1.0)
