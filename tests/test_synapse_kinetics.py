"""Kinetics against their closed forms: delta, dual-exponential (peak time and amplitude), alpha."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns


def _impulse_trace(kin, w, dt, n_steps):
    """``value`` after each of ``n_steps`` decays, starting from one spike of weight ``w``."""
    st = kin.add(kin.bind(np.size(w)).init(None, 0.1), jnp.atleast_1d(jnp.asarray(w)))

    def body(s, _):
        s = kin.decay(s, dt)
        return s, kin.value(s)

    _, g = jax.lax.scan(body, st, None, length=n_steps)
    return np.asarray(g, np.float64)


def _dual_exp(t, w, tr, td):
    tp = tr * td / (td - tr) * np.log(td / tr)
    return w * (np.exp(-t / td) - np.exp(-t / tr)) / (np.exp(-tp / td) - np.exp(-tp / tr)), tp


@pytest.mark.parametrize("tr,td", [(2.0, 100.0), (0.5, 2.4), (60.0, 200.0)])
def test_dual_exponential_matches_closed_form(tr, td):
    w, dt, n = 3.0, 0.1, 3000
    with jax.enable_x64(True):
        g = _impulse_trace(ns.synapses.DualExponential(tr, td), w, dt, n)[:, 0]
    t = dt * np.arange(1, n + 1)
    expected, tp = _dual_exp(t, w, tr, td)
    # The propagator is exact: float64 rounding only.
    np.testing.assert_allclose(g, expected, rtol=1e-10, atol=1e-12)


def test_dual_exponential_peak_time_and_amplitude():
    """Decaying exactly to t_peak gives exactly w; the grid maximum brackets t_peak."""
    tr, td, w, dt = 2.0, 100.0, 1.5, 0.1
    kin = ns.synapses.DualExponential(tr, td)
    tp = tr * td / (td - tr) * np.log(td / tr)  # 7.98 ms
    np.testing.assert_allclose(float(kin.t_peak), tp, rtol=1e-6)
    st = kin.add(kin.bind(1).init(None, 0.1), jnp.array([w]))
    at_peak = float(kin.value(kin.decay(st, tp))[0])
    np.testing.assert_allclose(at_peak, w, rtol=2e-6)  # float32
    for h in (tp - 0.5, tp + 0.5):
        assert float(kin.value(kin.decay(st, h))[0]) < at_peak
    g = _impulse_trace(kin, w, dt, 400)[:, 0]
    t_max = dt * (np.argmax(g) + 1)
    # Unimodal and exact on the grid: the grid maximum is one of the two points around t_p.
    assert abs(t_max - tp) < dt
    assert g.max() <= w * (1 + 1e-6)


def test_alpha_matches_closed_form_and_equal_taus_of_dual_exponential():
    tau, w, dt, n = 2.0, 2.0, 0.1, 400
    t = dt * np.arange(1, n + 1)
    expected = w * (t / tau) * np.exp(1.0 - t / tau)  # peak w at t = tau
    with jax.enable_x64(True):
        g_alpha = _impulse_trace(ns.synapses.Alpha(tau), w, dt, n)[:, 0]
        g_dual = _impulse_trace(ns.synapses.DualExponential(tau, tau), w, dt, n)[:, 0]
        g_near = _impulse_trace(ns.synapses.DualExponential(tau * (1 - 1e-7), tau), w, dt, n)[:, 0]
    np.testing.assert_allclose(g_alpha, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g_dual, expected, rtol=1e-10, atol=1e-12)
    # Continuous across tau_rise -> tau_decay (the series branch of the propagator): the shape
    # changes by O(1e-7) relative when tau_rise changes by 1e-7 relative.
    np.testing.assert_allclose(g_near, expected, rtol=1e-6, atol=1e-9)


def test_dual_exponential_gradient_is_finite_at_equal_taus():
    def peak_value(tr):
        kin = ns.synapses.DualExponential(tr, 5.0)
        st = kin.add(kin.bind(1).init(None, 0.1), jnp.array([1.0]))
        return kin.value(kin.decay(st, 3.0))[0]

    with jax.enable_x64(True):
        d_eq = jax.grad(peak_value)(jnp.asarray(5.0))
        fd = (peak_value(5.0 - 1e-5) - peak_value(5.0 - 2e-5)) / 1e-5
    assert np.isfinite(float(d_eq))
    np.testing.assert_allclose(float(d_eq), float(fd), rtol=1e-3)


def test_delta_jump_is_consumed_in_one_step():
    kin = ns.synapses.Delta()
    st = kin.add(kin.bind(2).init(None, 0.1), jnp.array([0.5, -1.0]))
    np.testing.assert_array_equal(np.asarray(kin.value(st)), [0.5, -1.0])
    st = kin.decay(st, 0.1)
    np.testing.assert_array_equal(np.asarray(kin.value(st)), [0.0, 0.0])
    d = ns.synapses.VoltageJump().drive(jnp.array([0.5, -1.0]))
    np.testing.assert_array_equal(np.asarray(d.jump), [0.5, -1.0])
    np.testing.assert_array_equal(np.asarray(d.at(jnp.array([-60.0, 0.0]))), [0.0, 0.0])


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: ns.synapses.DualExponential(0.0, 5.0), "tau_rise"),
        (lambda: ns.synapses.DualExponential(2.0, -1.0), "tau_decay"),
        (lambda: ns.synapses.DualExponential(10.0, 5.0), "tau_rise <= tau_decay"),
        (lambda: ns.synapses.Alpha(float("nan")), "tau"),
        (lambda: ns.synapses.MgBlock(mg=-1.0), "mg"),
        (lambda: ns.synapses.MgBlock(mg_scale=0.0), "mg_scale"),
    ],
)
def test_invalid_parameters_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()
