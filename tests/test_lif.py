"""LIF: closed-form trajectory, inter-spike interval formula, refractoriness, validation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import single_lif_network

import neurosim as ns

TAU, E_L, V_TH, V_RESET, G_L, T_REF, DT = 20.0, -65.0, -50.0, -70.0, 10.0, 2.0, 0.1


def test_subthreshold_follows_closed_form():
    i_e = 100.0  # pA: R I = 10 mV < 15 mV to threshold
    net = single_lif_network(
        n=1, tau_m=TAU, e_l=E_L, v_th=V_TH, v_reset=V_RESET, g_l=G_L, i_e=i_e, v_init=-70.0
    )
    s0 = net.init_state(jax.random.key(0), DT)
    _, out = ns.run(net, s0, 1000, DT, key=jax.random.key(1), record=["N.v"])
    v = np.asarray(out.traces["N.v"][:, 0], np.float64)
    t = DT * np.arange(1, 1001)
    v_inf = E_L + i_e / G_L
    expected = v_inf + (-70.0 - v_inf) * np.exp(-t / TAU)
    # Exponential Euler is exact for constant input: only float32 rounding (~1e-6 relative
    # per step, ~60 mV values, 1000 steps) separates the two.
    np.testing.assert_allclose(v, expected, atol=60 * 1e-6 * np.sqrt(1000) * 4)
    assert not np.any(np.asarray(out.spikes["N"]))


def _isi_formula(i_e):
    ri = i_e / G_L
    return T_REF + TAU * np.log((ri - (V_RESET - E_L)) / (ri - (V_TH - E_L)))


def test_isi_matches_formula_within_one_dt():
    currents = np.array([160.0, 200.0, 300.0, 500.0, 1000.0])  # pA, all supra-threshold
    net = single_lif_network(
        n=len(currents),
        tau_m=TAU,
        e_l=E_L,
        v_th=V_TH,
        v_reset=V_RESET,
        g_l=G_L,
        t_ref=T_REF,
        i_e=currents,
        v_init=V_RESET,
    )
    s0 = net.init_state(jax.random.key(0), DT)
    _, out = ns.run(net, s0, 4000, DT, key=jax.random.key(1))
    spikes = np.asarray(out.spikes["N"])
    for j, i_e in enumerate(currents):
        times = np.flatnonzero(spikes[:, j]) * DT
        assert len(times) >= 3, f"I={i_e} pA should fire repeatedly"
        isi = np.diff(times)
        np.testing.assert_allclose(isi, _isi_formula(i_e), atol=DT + 1e-4)


def test_refractory_holds_reset_value():
    net = single_lif_network(
        n=1,
        tau_m=TAU,
        e_l=E_L,
        v_th=V_TH,
        v_reset=V_RESET,
        g_l=G_L,
        t_ref=5.0,
        i_e=2000.0,
        v_init=V_RESET,
    )
    s0 = net.init_state(jax.random.key(0), DT)
    _, out = ns.run(net, s0, 300, DT, key=jax.random.key(1), record=["N.v"])
    spikes = np.flatnonzero(np.asarray(out.spikes["N"][:, 0]))
    v = np.asarray(out.traces["N.v"][:, 0])
    first = spikes[0]
    # Held at v_reset for round(t_ref/dt) steps between spike stamps (Brian2's convention).
    np.testing.assert_array_equal(v[first : first + 50], V_RESET)
    assert v[first + 50] > V_RESET
    assert np.all(np.diff(spikes) >= 50)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"tau_m": -1.0}, "tau_m"),
        ({"tau_m": 0.0}, "tau_m"),
        ({"t_ref": -0.5}, "t_ref"),
        ({"g_l": 0.0}, "g_l"),
        ({"tau_m": float("nan")}, "tau_m"),
    ],
)
def test_bad_parameters_raise(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ns.neurons.LIF(4, **kwargs)


def test_bad_size_raises():
    with pytest.raises(ValueError, match="n must be"):
        ns.neurons.LIF(0)
    with pytest.raises(ValueError, match="shape"):
        ns.neurons.LIF(3, tau_m=jnp.ones(4))


def test_surrogate_gradient_through_threshold():
    lif = ns.neurons.LIF(1, v_th=-50.0, surrogate=ns.neurons.FastSigmoid(scale=2.0))

    def spike_of(v):
        return lif.surrogate(v - lif.v_th)[0]

    g = jax.grad(spike_of)(jnp.array([-50.5]))
    # Fast sigmoid: 1 / (1 + scale |x|)^2 at x = -0.5, scale 2 -> 0.25.
    np.testing.assert_allclose(g, [0.25], rtol=1e-6)
    assert spike_of(jnp.array([-50.5])) == 0.0 and spike_of(jnp.array([-49.0])) == 1.0
