"""Integrators: convergence order on a smooth system, exactness of exponential Euler."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns


def _oscillator(y):
    # Non-linear, smooth, elementwise-coupled system (a pendulum): no exact step method.
    return {"x": y["p"], "p": -jnp.sin(y["x"])}


def _integrate(integrator, f, y0, dt, steps):
    def body(y, _):
        return integrator.step(f, y, dt), None

    y, _ = jax.lax.scan(body, y0, None, length=steps)
    return y


def _error(integrator, dt, t_end=4.0, ref=None):
    y0 = {"x": jnp.array(1.0), "p": jnp.array(0.0)}
    y = _integrate(integrator, _oscillator, y0, dt, int(round(t_end / dt)))
    return float(jnp.hypot(y["x"] - ref["x"], y["p"] - ref["p"]))


@pytest.mark.parametrize(
    "integrator, order",
    [(ns.integrators.Euler(), 1), (ns.integrators.Heun(), 2), (ns.integrators.RK4(), 4)],
)
def test_convergence_order(integrator, order):
    with jax.enable_x64(True):
        y0 = {"x": jnp.array(1.0), "p": jnp.array(0.0)}
        ref = _integrate(ns.integrators.RK4(), _oscillator, y0, 1e-4, 40000)
        dts = [0.1, 0.05, 0.025]
        errs = [_error(integrator, dt, ref=ref) for dt in dts]
    slopes = np.diff(np.log(errs)) / np.diff(np.log(dts))
    assert integrator.order == order
    # Asymptotic regime: observed slopes within 0.25 of the theoretical order.
    np.testing.assert_allclose(slopes, order, atol=0.25)


def test_exp_euler_exact_for_linear_decay():
    with jax.enable_x64(True):
        a, b = -0.7, 0.3
        f = lambda y: a * y + b  # noqa: E731
        y = _integrate(ns.integrators.ExpEuler(), f, jnp.array(2.0), 0.5, 20)
        exact = -b / a + (2.0 + b / a) * np.exp(a * 10.0)
        np.testing.assert_allclose(float(y), exact, rtol=1e-12)


def test_exp_euler_is_first_order_on_nonlinear_system():
    with jax.enable_x64(True):
        y0 = {"x": jnp.array(1.0), "p": jnp.array(0.0)}
        ref = _integrate(ns.integrators.RK4(), _oscillator, y0, 1e-4, 40000)
        errs = [_error(ns.integrators.ExpEuler(), dt, ref=ref) for dt in (0.05, 0.025, 0.0125)]
    slopes = np.diff(np.log(errs)) / np.diff(np.log([0.05, 0.025, 0.0125]))
    np.testing.assert_allclose(slopes, 1.0, atol=0.25)
