"""Surrogate spike functions (closed-form pseudo-derivatives), detached reset, ALIF."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns

X = jnp.array([-3.0, -1.0, -0.2, 0.0, 0.1, 0.5, 2.0])

CASES = [
    (ns.neurons.FastSigmoid(2.0), lambda x: 1 / (1 + 2 * np.abs(x)) ** 2),
    (ns.neurons.Arctan(2.0), lambda x: 1 / (1 + (np.pi * x) ** 2)),
    (ns.neurons.Sigmoid(4.0), lambda x: 4 * np.exp(-4 * x) / (1 + np.exp(-4 * x)) ** 2),
    (ns.neurons.Triangular(0.8), lambda x: np.maximum(0, 1 - 0.8 * np.abs(x))),
    (ns.neurons.Boxcar(1.0), lambda x: (np.abs(x) < 0.5).astype(float)),
    (ns.neurons.StraightThrough(), lambda x: np.ones_like(x)),
    (
        ns.neurons.CustomSurrogate(lambda x, s: jnp.exp(-((s * x) ** 2)), 1.5, amplitude=0.3),
        lambda x: 0.3 * np.exp(-((1.5 * x) ** 2)),
    ),
]


@pytest.mark.parametrize("sur,expected", CASES, ids=[type(c[0]).__name__ for c in CASES])
def test_forward_is_step_and_derivative_is_closed_form(sur, expected):
    np.testing.assert_array_equal(np.asarray(sur(X)), (np.asarray(X) >= 0).astype(np.float32))
    g = jax.vmap(jax.grad(lambda x: sur(x)))(X)
    np.testing.assert_allclose(
        np.asarray(g), expected(np.asarray(X, np.float64)), rtol=1e-5, atol=1e-7
    )


def test_amplitude_scales_derivative_and_scale_is_traced_without_retrace():
    base = jax.grad(lambda x: ns.neurons.FastSigmoid(0.5)(x))(0.3)
    amp = jax.grad(lambda x: ns.neurons.FastSigmoid(0.5, amplitude=1 / 15)(x))(0.3)
    np.testing.assert_allclose(float(amp), float(base) / 15, rtol=1e-6)
    traces = []

    @jax.jit
    def f(sur, x):
        traces.append(1)
        return jax.grad(lambda y: sur(y))(x)

    f(ns.neurons.Triangular(1.0), 0.2)
    f(ns.neurons.Triangular(2.0), 0.2)
    assert len(traces) == 1


@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_bad_scale_rejected(bad):
    with pytest.raises(ValueError, match="scale must be > 0"):
        ns.neurons.Triangular(bad)
    with pytest.raises(ValueError, match="amplitude must be >= 0"):
        ns.neurons.FastSigmoid(1.0, amplitude=bad - 1.0)
    with pytest.raises(ValueError, match="fn must be a function"):
        ns.neurons.CustomSurrogate(3.0)


@pytest.mark.parametrize("detach", [True, False])
def test_detached_reset_has_no_gradient_through_the_spike(detach):
    lif = ns.neurons.LIF(1, tau_m=10.0, e_l=-65.0, v_th=-50.0, v_reset=-65.0, t_ref=0.0,
                         detach_reset=detach)  # fmt: skip

    def v_after(v0):
        st = {"v": jnp.array([v0]), "refractory": jnp.zeros((1,), jnp.int32)}
        drive = ns.neurons.SynapticDrive(0.0, jnp.array([0.0]))
        st, z = lif.step(st, drive, 0, 0.1, None)
        return st["v"][0], z[0]

    ((v, z),) = [v_after(-49.0)]
    assert float(z) == 1.0 and float(v) == -65.0  # spiked and reset in the forward pass
    dv = jax.grad(lambda v0: v_after(v0)[0])(-49.0)
    if detach:
        assert float(dv) == 0.0  # v = where(spike, v_reset, v): no path through v or spike
    else:
        # d/dv0 [v (1 - s) + v_reset s] = (1 - s) a + (v_reset - v) s'(v) a with a = dv/dv0.
        a = np.exp(-0.1 / 10.0)
        v_new = -65.0 + (-49.0 + 65.0) * a
        s_prime = 1.0 / (1.0 + abs(v_new + 50.0)) ** 2
        np.testing.assert_allclose(float(dv), (-65.0 - v_new) * s_prime * a, rtol=1e-4)


def _run(neuron, i_ext, n_steps, dt=0.1):
    st = neuron.init(jax.random.key(0), 0.1)
    drive = ns.neurons.SynapticDrive.zeros(neuron.n)

    def body(s, _):
        s, z = neuron.step(s, drive.with_current(i_ext), 0, dt, None)
        return s, (z, s["v"], s.get("a", jnp.zeros_like(z)))

    return jax.lax.scan(body, st, None, length=n_steps)[1]


def test_alif_without_adaptation_is_lif():
    kw = dict(tau_m=20.0, e_l=-65.0, v_th=-50.0, v_reset=-70.0, t_ref=2.0, g_l=10.0)
    i = jnp.array([200.0, 300.0])
    z1, v1, _ = _run(ns.neurons.LIF(2, **kw), i, 2000)
    z2, v2, _ = _run(ns.neurons.ALIF(2, beta=0.0, **kw), i, 2000)
    np.testing.assert_array_equal(np.asarray(z1), np.asarray(z2))
    np.testing.assert_array_equal(np.asarray(v1), np.asarray(v2))


def test_alif_adaptation_jumps_decays_and_slows_firing():
    kw = dict(tau_m=20.0, e_l=-65.0, v_th=-50.0, v_reset=-70.0, t_ref=2.0, g_l=10.0)
    dt, tau_a = 0.1, 100.0
    i = jnp.array([300.0])
    z_lif, _, _ = _run(ns.neurons.LIF(1, **kw), i, 5000, dt)
    z, _, a = _run(ns.neurons.ALIF(1, beta=3.0, tau_a=tau_a, **kw), i, 5000, dt)
    z, a = np.asarray(z[:, 0]), np.asarray(a[:, 0])
    assert z.sum() < np.asarray(z_lif).sum()  # adaptation lowers the rate
    k = np.flatnonzero(z)
    # Between two spikes a decays exactly by exp(-dt/tau_a) per step; at a spike it jumps by 1.
    s0, s1 = k[0], k[1]
    np.testing.assert_allclose(a[s0 + 1 : s1], a[s0] * np.exp(-dt / tau_a * np.arange(1, s1 - s0)),
                               rtol=1e-5)  # fmt: skip
    np.testing.assert_allclose(a[s1], a[s1 - 1] * np.exp(-dt / tau_a) + 1.0, rtol=1e-5)
    # Inter-spike intervals grow as the threshold rises (spike-frequency adaptation).
    isi = np.diff(k)
    assert isi[-1] > isi[0]


def test_alif_validation():
    with pytest.raises(ValueError, match="tau_a must be > 0"):
        ns.neurons.ALIF(2, tau_a=0.0)
    with pytest.raises(ValueError, match="beta must be finite"):
        ns.neurons.ALIF(2, beta=float("nan"))  # any sign is allowed (GIF threshold kernels)
